/// Errors raised while compiling a regex or JSON Schema into a byte DFA, or while building token tables.
public enum GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The regex is malformed; `position` is the offset in Unicode scalars where the problem was found.
    case invalidRegex(pattern: String, position: Int, reason: String)
    /// The regex uses a construct that cannot be expressed as a finite automaton (e.g. a backreference).
    case unsupportedRegex(pattern: String, position: Int, feature: String)
    /// The automaton would need more states than the configured budget.
    case stateBudgetExceeded(kind: String, limit: Int)
    /// The JSON Schema is not valid JSON or uses a construct this compiler rejects.
    case invalidSchema(path: String, reason: String)
    /// A token table could not be built from the tokenizer.
    case invalidTokenizer(reason: String)

    /// A message that says what is wrong and where.
    public var description: String {
        switch self {
        case let .invalidRegex(pattern, position, reason):
            return "invalid regex at position \(position): \(reason) (pattern: \(Self.clip(pattern)))"
        case let .unsupportedRegex(pattern, position, feature):
            return "unsupported regex construct at position \(position): \(feature) (pattern: \(Self.clip(pattern)))"
        case let .stateBudgetExceeded(kind, limit):
            return "\(kind) needs more than \(limit) states; simplify the pattern or raise the budget"
        case let .invalidSchema(path, reason):
            return "invalid JSON schema at \(path.isEmpty ? "#" : path): \(reason)"
        case let .invalidTokenizer(reason):
            return "cannot build the token table: \(reason)"
        }
    }

    private static func clip(_ s: String) -> String {
        s.unicodeScalars.count > 200 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(200))) + "…" : s
    }
}
