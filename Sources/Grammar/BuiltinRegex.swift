/// The regexes SGLang's frontend uses for `gen(dtype=...)` (sglang `lang/ir.py` constants).
public enum BuiltinRegex {
    /// Optional sign, digits, trailing spaces/newlines.
    public static let int = #"[-+]?[0-9]+[ \n]*"#
    /// Optional sign, optional digits, optional dot, digits, trailing spaces/newlines.
    public static let float = #"[-+]?[0-9]*\.?[0-9]+[ \n]*"#
    /// Python's `True` or `False`.
    public static let bool = "(True|False)"
    /// A double-quoted string of word, digit and space characters.
    public static let string = #""[\w\d\s]*""#

    /// The regex for a dtype name (`int`, `float`, `bool`, `str`, as the frontend spells them); nil otherwise.
    public static func regex(forDType name: String) -> String? {
        switch name {
        case "int": return int
        case "float": return float
        case "bool": return bool
        case "str", "string": return string
        default: return nil
        }
    }

    /// The extra stop strings the frontend adds for a dtype (`int`/`float` stop at a space or newline).
    public static func stops(forDType name: String) -> [String] {
        name == "int" || name == "float" ? [" ", "\n"] : []
    }
}
