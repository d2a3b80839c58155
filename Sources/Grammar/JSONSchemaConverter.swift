import JSON

/// Options of the JSON Schema → regex translation.
public struct JSONSchemaOptions: Sendable, Hashable {
    /// The regex for syntactic whitespace between JSON tokens (not inside strings); nil = outlines' `[ ]?`.
    /// SGLang's `--constrained-json-whitespace-pattern` passes e.g. `[\n\t ]*`.
    public var whitespacePattern: String?
    /// How many times one `$ref` may be expanded inside itself; deeper recursion matches nothing, so optional
    /// parts (array items, optional properties, `anyOf` branches) close the structure there.
    public var maxRecursionDepth: Int

    /// Options; nil whitespace means outlines' `[ ]?`.
    public init(whitespacePattern: String? = nil, maxRecursionDepth: Int = 3) {
        self.whitespacePattern = whitespacePattern
        self.maxRecursionDepth = maxRecursionDepth
    }
}

/// Translates a JSON Schema into a regex over its JSON text, following outlines 0.0.46's
/// `build_regex_from_schema` (what SGLang v0.3 uses) construct by construct, so the same schema gives the
/// same regex. Properties are emitted in schema order; a required property is mandatory, optional ones may be
/// skipped. Differences from outlines, all toward correctness:
/// - `format` `date`, `time`, `date-time` follow RFC 3339 as `jsonschema`'s format checker does (outlines
///   allowed Unicode digits, 5+ digit years, February 30, a missing offset, and `\\.` in times);
/// - number digit bounds keep at least one fraction/exponent digit (outlines allowed `1.`);
/// - property names are regex-escaped also when no property is required, and that case is written without
///   outlines' redundant optional prefixes (same language, much smaller subset construction);
/// - extensions outlines lacks: integer `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`,
///   `format` `email` and `uri`, a non-negative `minimum` on numbers (no sign), recursive `$ref` bounded by
///   `maxRecursionDepth`, `additionalProperties: false` without properties (the empty object),
///   schemas `true`/`false`, and schemas with no constraining keyword (any JSON value).
public enum JSONSchemaConverter {
    // outlines' building blocks.
    /// One character of a JSON string body: no quote, backslash or control character, or `\"` / `\\`.
    public static let stringInner = #"([^"\\\x00-\x1F\x7F-\x9F]|\\["\\])"#
    /// A JSON string.
    public static let string = "\"\(stringInner)*\""
    /// A JSON integer.
    public static let integer = #"(-)?(0|[1-9][0-9]*)"#
    /// A JSON number.
    public static let number = "(\(integer))(\\.[0-9]+)?([eE][+-][0-9]+)?"
    /// `true` or `false`.
    public static let boolean = "(true|false)"
    /// `null`.
    public static let null = "null"
    /// outlines' default whitespace between JSON tokens: one optional space.
    public static let defaultWhitespace = "[ ]?"
    /// RFC 3339 dates as Python's `date.fromisoformat` accepts them (year ≥ 1, no February 29: a regex
    /// cannot tell leap years cheaply, and a sound constraint must not produce invalid dates).
    public static let dateBody = #"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"#
    /// RFC 3339 full-time: the offset is required.
    public static let timeBody = #"(2[0-3]|[01][0-9]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-](2[0-3]|[01][0-9]):[0-5][0-9])"#
    /// `format: date-time` (RFC 3339, offset required).
    public static let dateTime = "\"" + dateBody + "T" + timeBody + "\""
    /// `format: date`.
    public static let date = "\"" + dateBody + "\""
    /// `format: time` (RFC 3339 full-time).
    public static let time = "\"" + timeBody + "\""
    /// `format: uuid` (lowercase hex, as outlines).
    public static let uuid = #""[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}""#
    /// `format: email` (a practical RFC 5322 dot-atom subset).
    public static let email =
        #""[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)+""#
    /// `format: uri` (scheme, colon, URI characters).
    public static let uri = #""[a-zA-Z][a-zA-Z0-9+.-]*:[a-zA-Z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+""#
    /// Matches no string: an empty class. Recursion past the depth limit becomes this.
    static let never = #"[^\x00-\U0010FFFF]"#

    /// The regex of a schema given as JSON text.
    public static func regex(schemaText: String, options: JSONSchemaOptions = JSONSchemaOptions()) throws(GrammarError) -> String {
        let schema: JSONValue
        do {
            schema = try JSONValue.parse(schemaText)
        } catch {
            throw .invalidSchema(path: "", reason: "not valid JSON: \(error)")
        }
        return try regex(schema: schema, options: options)
    }

    /// The regex of a parsed schema.
    public static func regex(schema: JSONValue, options: JSONSchemaOptions = JSONSchemaOptions()) throws(GrammarError) -> String {
        var translator = Translator(root: schema, options: options)
        return try translator.translate(schema, path: "")
    }

    /// "Any JSON value" (outlines' translation of the empty schema `{}`; nesting is bounded), used for
    /// `response_format: {"type": "json_object"}`.
    public static func anyJSON(options: JSONSchemaOptions = JSONSchemaOptions()) -> String {
        var translator = Translator(root: .object(JSONObject()), options: options)
        return (try? translator.translate(.object(JSONObject()), path: "")) ?? never
    }

    /// "Any JSON object" with bounded nesting, the usual meaning of `json_object` mode.
    public static func anyJSONObject(options: JSONSchemaOptions = JSONSchemaOptions()) -> String {
        let schema = JSONValue.object(JSONObject([("type", .string("object"))]))
        var translator = Translator(root: schema, options: options)
        return (try? translator.translate(schema, path: "")) ?? never
    }

    /// Python's `re.escape` (3.7+): escapes exactly the characters special in a pattern.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if "()[]{}?*+-|^$\\.&~# \t\n\r\u{0B}\u{0C}".unicodeScalars.contains(scalar) { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}

private struct Translator {
    let root: JSONValue
    let ws: String
    let maxDepth: Int
    var refDepth: [String: Int] = [:]

    init(root: JSONValue, options: JSONSchemaOptions) {
        self.root = root
        ws = options.whitespacePattern ?? JSONSchemaConverter.defaultWhitespace
        maxDepth = options.maxRecursionDepth
    }

    typealias C = JSONSchemaConverter

    mutating func translate(_ schema: JSONValue, path: String) throws(GrammarError) -> String {
        if case let .bool(b) = schema { return b ? try translate(.object(JSONObject()), path: path) : C.never }
        guard let obj = schema.objectValue else {
            throw .invalidSchema(path: path, reason: "a schema must be an object or a boolean, found \(schema.typeName)")
        }
        if obj.count == 0 {
            // Empty schema: any JSON type, in outlines' order.
            let types = ["boolean", "null", "number", "integer", "string", "array", "object"]
            var parts: [String] = []
            for t in types {
                parts.append("(\(try translate(.object(JSONObject([("type", .string(t))])), path: path)))")
            }
            return parts.joined(separator: "|")
        }
        if let properties = obj["properties"] {
            return try objectWithProperties(obj, properties: properties, path: path)
        }
        if let all = obj["allOf"] {
            let items = try list(all, "allOf", path)
            var parts: [String] = []
            for (i, s) in items.enumerated() { parts.append(try translate(s, path: "\(path)/allOf/\(i)")) }
            if parts.count > 1 {
                throw .invalidSchema(path: path + "/allOf", reason: "allOf with more than one subschema is not expressible as a regex")
            }
            return "(\(parts.joined()))"
        }
        if let any = obj["anyOf"] {
            let items = try list(any, "anyOf", path)
            var parts: [String] = []
            for (i, s) in items.enumerated() { parts.append(try translate(s, path: "\(path)/anyOf/\(i)")) }
            return "(\(parts.joined(separator: "|")))"
        }
        if let one = obj["oneOf"] {
            let items = try list(one, "oneOf", path)
            var parts: [String] = []
            for (i, s) in items.enumerated() { parts.append("(?:\(try translate(s, path: "\(path)/oneOf/\(i)")))") }
            return "(\(parts.joined(separator: "|")))"
        }
        if let prefix = obj["prefixItems"] {
            let items = try list(prefix, "prefixItems", path)
            var parts: [String] = []
            for (i, s) in items.enumerated() { parts.append(try translate(s, path: "\(path)/prefixItems/\(i)")) }
            return "\\[\(ws)\(parts.joined(separator: "\(ws),\(ws)"))\(ws)\\]"
        }
        if let choices = obj["enum"] {
            let items = try list(choices, "enum", path)
            var parts: [String] = []
            for item in items { parts.append(try literal(item, path: path + "/enum")) }
            return "(\(parts.joined(separator: "|")))"
        }
        if let value = obj["const"] {
            return try literal(value, path: path + "/const")
        }
        if let ref = obj["$ref"] {
            guard let target = ref.stringValue else { throw .invalidSchema(path: path + "/$ref", reason: "$ref must be a string") }
            let resolved = try resolve(target, path: path)
            let depth = refDepth[target, default: 0]
            if depth >= maxDepth { return C.never }
            refDepth[target] = depth + 1
            defer { refDepth[target] = depth }
            return try translate(resolved, path: target)
        }
        if let type = obj["type"] {
            return try typed(obj, type: type, path: path)
        }
        // No constraining keyword (only annotations such as title/description): any JSON value.
        return try translate(.object(JSONObject()), path: path)
    }

    private func list(_ value: JSONValue, _ keyword: String, _ path: String) throws(GrammarError) -> [JSONValue] {
        guard let items = value.arrayValue, !items.isEmpty else {
            throw .invalidSchema(path: "\(path)/\(keyword)", reason: "\(keyword) must be a non-empty array")
        }
        return items
    }

    /// `re.escape(json.dumps(value))` for enum/const members.
    private func literal(_ value: JSONValue, path: String) throws(GrammarError) -> String {
        switch value {
        case .null, .bool, .int, .double, .string:
            return C.escape(value.serialized(.python()))
        default:
            throw .invalidSchema(path: path, reason: "enum/const values must be scalars, found \(value.typeName)")
        }
    }

    private func resolve(_ ref: String, path: String) throws(GrammarError) -> JSONValue {
        guard ref.hasPrefix("#") else {
            throw .invalidSchema(path: path + "/$ref", reason: "only local references (#/...) are supported, found \(ref)")
        }
        var node = root
        let pointer = ref.dropFirst()
        if pointer.isEmpty { return node }
        guard pointer.hasPrefix("/") else {
            throw .invalidSchema(path: path + "/$ref", reason: "invalid JSON pointer \(ref)")
        }
        for rawPart in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let part = Self.unescapePointer(String(rawPart))
            if let obj = node.objectValue, let next = obj[part] {
                node = next
            } else if let arr = node.arrayValue, let i = Int(part), arr.indices.contains(i) {
                node = arr[i]
            } else {
                throw .invalidSchema(path: path + "/$ref", reason: "unresolvable reference \(ref)")
            }
        }
        return node
    }

    /// JSON pointer escapes: `~1` is `/`, `~0` is `~`.
    private static func unescapePointer(_ part: String) -> String {
        var out = ""
        var tilde = false
        for ch in part {
            if tilde {
                out.append(ch == "1" ? "/" : ch == "0" ? "~" : ch)
                tilde = false
            } else if ch == "~" {
                tilde = true
            } else {
                out.append(ch)
            }
        }
        if tilde { out.append("~") }
        return out
    }

    private mutating func objectWithProperties(_ obj: JSONObject, properties: JSONValue, path: String) throws(GrammarError) -> String {
        guard let props = properties.objectValue else {
            throw .invalidSchema(path: path + "/properties", reason: "properties must be an object")
        }
        var required: Set<String> = []
        if let req = obj["required"] {
            guard let names = req.arrayValue else { throw .invalidSchema(path: path + "/required", reason: "required must be an array") }
            for n in names {
                guard let s = n.stringValue else { throw .invalidSchema(path: path + "/required", reason: "required entries must be strings") }
                required.insert(s)
            }
        }
        var regex = "\\{"
        let entries = Array(props)
        let isRequired = entries.map { required.contains($0.key) }
        var subregexes: [String] = []
        for (name, value) in entries {
            let sub = "\(ws)\"\(C.escape(name))\"\(ws):\(ws)" + (try translate(value, path: "\(path)/properties/\(name)"))
            subregexes.append(sub)
        }
        if let lastRequired = isRequired.lastIndex(of: true) {
            for (i, sub) in subregexes.enumerated() {
                var s = sub
                if i < lastRequired { s = "\(s)\(ws)," } else if i > lastRequired { s = "\(ws),\(s)" }
                regex += isRequired[i] ? s : "(\(s))?"
            }
        } else {
            // outlines writes alternative i as (p0 ws,)?…(p[i-1] ws,)? p[i] (ws, p[i+1])?…; the optional items
            // before p[i] are already covered by alternatives 0..<i, and leaving them out keeps the subset
            // construction from tracking every still-possible alternative (12 optional properties: 127k raw
            // DFA states → 3k). Same language.
            var patterns: [String] = []
            for i in subregexes.indices {
                var p = subregexes[i]
                for s in subregexes[(i + 1)...] { p += "(\(ws),\(s))?" }
                patterns.append(p)
            }
            regex += "(\(patterns.joined(separator: "|")))?"
        }
        return regex + "\(ws)\\}"
    }

    private func count(_ value: JSONValue?, _ name: String, _ path: String) throws(GrammarError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let n = value.intValue, n >= 0 else {
            throw .invalidSchema(path: "\(path)/\(name)", reason: "\(name) must be a non-negative integer")
        }
        return n
    }

    /// outlines' `_get_num_items_pattern`: the quantifier of the items after the first; nil = must be empty.
    private func itemsQuantifier(min: Int?, max: Int?) -> String? {
        let lo = Swift.max((min ?? 0) - 1, 0)
        guard let max else { return "{\(lo),}" }
        if max < 1 { return nil }
        return "{\(lo),\(max - 1)}"
    }

    private mutating func typed(_ obj: JSONObject, type: JSONValue, path: String) throws(GrammarError) -> String {
        if let types = type.arrayValue {
            // outlines leaves "object" out of type lists.
            var parts: [String] = []
            for t in types where t.stringValue != "object" {
                guard t.stringValue != nil else { throw .invalidSchema(path: path + "/type", reason: "type entries must be strings") }
                parts.append(try translate(.object(JSONObject([("type", t)])), path: path))
            }
            return "(\(parts.joined(separator: "|")))"
        }
        guard let name = type.stringValue else { throw .invalidSchema(path: path + "/type", reason: "type must be a string or an array") }
        switch name {
        case "string": return try stringType(obj, path: path)
        case "number": return try numberType(obj, path: path)
        case "integer": return try integerType(obj, path: path)
        case "boolean": return C.boolean
        case "null": return C.null
        case "array": return try arrayType(obj, path: path)
        case "object": return try objectType(obj, path: path)
        default: throw .invalidSchema(path: path + "/type", reason: "unknown type \(name)")
        }
    }

    private func stringType(_ obj: JSONObject, path: String) throws(GrammarError) -> String {
        if obj["maxLength"] != nil || obj["minLength"] != nil {
            let lo = try count(obj["minLength"], "minLength", path)
            let hi = try count(obj["maxLength"], "maxLength", path)
            if let lo, let hi, hi < lo {
                throw .invalidSchema(path: path, reason: "maxLength must be greater than or equal to minLength")
            }
            return "\"\(C.stringInner){\(lo.map(String.init) ?? ""),\(hi.map(String.init) ?? "")}\""
        }
        if let p = obj["pattern"] {
            guard var pattern = p.stringValue, !pattern.isEmpty else {
                throw .invalidSchema(path: path + "/pattern", reason: "pattern must be a non-empty string")
            }
            do {
                try RegexCompiler.validate(pattern)
            } catch {
                throw .invalidSchema(path: path + "/pattern", reason: error.description)
            }
            if pattern.hasPrefix("^") && pattern.hasSuffix("$") && pattern.count >= 2 {
                pattern = String(pattern.dropFirst().dropLast())
            }
            return "(\"\(pattern)\")"
        }
        if let f = obj["format"] {
            switch f.stringValue {
            case "date-time": return C.dateTime
            case "uuid": return C.uuid
            case "date": return C.date
            case "time": return C.time
            case "email": return C.email
            case "uri": return C.uri
            default:
                throw .invalidSchema(path: path + "/format", reason: "format \(f.stringValue ?? f.typeName) is not supported")
            }
        }
        return C.string
    }

    private func numberType(_ obj: JSONObject, path: String) throws(GrammarError) -> String {
        let keys = ["minDigitsInteger", "maxDigitsInteger", "minDigitsFraction", "maxDigitsFraction",
                    "minDigitsExponent", "maxDigitsExponent"]
        let sign = nonNegative(obj) ? "" : "(-)?"
        if keys.contains(where: { obj[$0] != nil }) {
            func bounds(_ lo: String, _ hi: String, offset: Int, defaultMin: Int?) throws(GrammarError) -> String? {
                var minB = try count(obj[lo], lo, path) ?? defaultMin
                var maxB = try count(obj[hi], hi, path)
                if let m = minB { minB = m - offset }
                if let m = maxB { maxB = m - offset }
                if let a = minB, let b = maxB, b < a {
                    throw .invalidSchema(path: path, reason: "\(hi) must be greater than or equal to \(lo)")
                }
                if minB == nil && maxB == nil { return nil }
                return "{\(minB.map(String.init) ?? ""),\(maxB.map(String.init) ?? "")}"
            }
            let intQ = try bounds("minDigitsInteger", "maxDigitsInteger", offset: 1, defaultMin: nil) ?? "*"
            let fracQ = try bounds("minDigitsFraction", "maxDigitsFraction", offset: 0, defaultMin: 1) ?? "+"
            let expQ = try bounds("minDigitsExponent", "maxDigitsExponent", offset: 0, defaultMin: 1) ?? "+"
            return "(\(sign)(0|[1-9][0-9]\(intQ)))(\\.[0-9]\(fracQ))?([eE][+-][0-9]\(expQ))?"
        }
        if sign.isEmpty { return "((0|[1-9][0-9]*))(\\.[0-9]+)?([eE][+-][0-9]+)?" }
        return C.number
    }

    /// True when `minimum` (or `exclusiveMinimum`) rules out negative numbers.
    private func nonNegative(_ obj: JSONObject) -> Bool {
        if let m = obj["minimum"]?.doubleValue, m >= 0 { return true }
        if let m = obj["exclusiveMinimum"]?.doubleValue, m >= 0 { return true }
        return false
    }

    private func integerType(_ obj: JSONObject, path: String) throws(GrammarError) -> String {
        if obj["minDigits"] != nil || obj["maxDigits"] != nil {
            let lo = try count(obj["minDigits"], "minDigits", path).map { $0 - 1 }
            let hi = try count(obj["maxDigits"], "maxDigits", path).map { $0 - 1 }
            if let lo, let hi, hi < lo { throw .invalidSchema(path: path, reason: "maxDigits must be greater than or equal to minDigits") }
            return "(-)?(0|[1-9][0-9]{\(lo.map(String.init) ?? ""),\(hi.map(String.init) ?? "")})"
        }
        var lower: Int?
        var upper: Int?
        if let m = obj["minimum"]?.doubleValue { lower = Self.clampedInt(m.rounded(.up)) }
        if let m = obj["exclusiveMinimum"]?.doubleValue {
            let v = Self.clampedInt(m.rounded(.down) + 1)
            lower = Swift.max(lower ?? v, v)
        }
        if let m = obj["maximum"]?.doubleValue { upper = Self.clampedInt(m.rounded(.down)) }
        if let m = obj["exclusiveMaximum"]?.doubleValue {
            let v = Self.clampedInt(m.rounded(.up) - 1)
            upper = Swift.min(upper ?? v, v)
        }
        if lower == nil && upper == nil { return C.integer }
        if let lower, let upper, lower > upper {
            throw .invalidSchema(path: path, reason: "the integer bounds leave no value (\(lower) > \(upper))")
        }
        return "(" + IntegerRange.regex(lower: lower, upper: upper) + ")"
    }

    private static func clampedInt(_ d: Double) -> Int {
        d >= 1e15 ? 1_000_000_000_000_000 : d <= -1e15 ? -1_000_000_000_000_000 : Int(d)
    }

    private mutating func arrayType(_ obj: JSONObject, path: String) throws(GrammarError) -> String {
        let minItems = try count(obj["minItems"], "minItems", path)
        let maxItems = try count(obj["maxItems"], "maxItems", path)
        guard let repeats = itemsQuantifier(min: minItems, max: maxItems) else { return "\\[\(ws)\\]" }
        let allowEmpty = (minItems ?? 0) == 0 ? "?" : ""
        if let items = obj["items"] {
            let item = try translate(items, path: path + "/items")
            return "\\[\(ws)((\(item))(,\(ws)(\(item)))\(repeats))\(allowEmpty)\(ws)\\]"
        }
        var legal: [JSONValue] = ["boolean", "null", "number", "integer", "string"].map { .object(JSONObject([("type", .string($0))])) }
        let depth = obj["depth"]?.intValue ?? 2
        if depth > 0 {
            legal.append(.object(JSONObject([("type", .string("object")), ("depth", .int(depth - 1))])))
            legal.append(.object(JSONObject([("type", .string("array")), ("depth", .int(depth - 1))])))
        }
        var parts: [String] = []
        for t in legal { parts.append(try translate(t, path: path)) }
        let alt = parts.joined(separator: "|")
        return "\\[\(ws)(\(alt))(,\(ws)(\(alt)))\(repeats)\(allowEmpty)\(ws)\\]"
    }

    private mutating func objectType(_ obj: JSONObject, path: String) throws(GrammarError) -> String {
        let minProps = try count(obj["minProperties"], "minProperties", path)
        let maxProps = try count(obj["maxProperties"], "maxProperties", path)
        guard let repeats = itemsQuantifier(min: minProps, max: maxProps) else { return "\\{\(ws)\\}" }
        let allowEmpty = (minProps ?? 0) == 0 ? "?" : ""
        var additional = obj["additionalProperties"]
        if additional == .bool(false) { return "\\{\(ws)\\}" }
        if additional == nil || additional == .bool(true) {
            var legal: [JSONValue] = ["string", "number", "boolean", "null"].map { .object(JSONObject([("type", .string($0))])) }
            let depth = obj["depth"]?.intValue ?? 2
            if depth > 0 {
                legal.append(.object(JSONObject([("type", .string("object")), ("depth", .int(depth - 1))])))
                legal.append(.object(JSONObject([("type", .string("array")), ("depth", .int(depth - 1))])))
            }
            additional = .object(JSONObject([("anyOf", .array(legal))]))
        }
        let value = try translate(additional ?? .bool(true), path: path + "/additionalProperties")
        let keyValue = "\(C.string)\(ws):\(ws)\(value)"
        let successor = "\(ws),\(ws)\(keyValue)"
        return "\\{\(ws)(\(keyValue)(\(successor))\(repeats))\(allowEmpty)\(ws)\\}"
    }
}

/// Regexes for integer ranges (decimal, no leading zeros).
enum IntegerRange {
    /// Integers in `lower...upper` (nil: unbounded on that side).
    static func regex(lower: Int?, upper: Int?) -> String {
        var parts: [String] = []
        // Negative part: "-" then the absolute values |closest to zero| ... |lower|.
        if lower.map({ $0 < 0 }) ?? true {
            let closest = Swift.min(upper ?? -1, -1)
            parts.append("-(" + nonNegative(lo: -closest, hi: lower.map { -$0 }) + ")")
        }
        // Non-negative part.
        if upper.map({ $0 >= 0 }) ?? true {
            let lo = Swift.max(lower ?? 0, 0)
            parts.append(nonNegative(lo: lo, hi: upper))
        }
        return parts.joined(separator: "|")
    }

    /// Non-negative integers in `lo...hi` (hi nil: unbounded).
    static func nonNegative(lo: Int, hi: Int?) -> String {
        var alternatives: [String] = []
        let loDigits = String(lo).count
        if let hi {
            guard lo <= hi else { return JSONSchemaConverter.never }
            let hiDigits = String(hi).count
            for len in loDigits...hiDigits {
                let a = Swift.max(lo, len == 1 ? 0 : pow10(len - 1))
                let b = Swift.min(hi, pow10(len) - 1)
                if a <= b { alternatives.append(sameLength(Array(String(a)), Array(String(b)))) }
            }
        } else {
            let a = lo, b = pow10(loDigits) - 1
            alternatives.append(sameLength(Array(String(a)), Array(String(b))))
            alternatives.append("[1-9][0-9]{\(loDigits),}")
        }
        return alternatives.joined(separator: "|")
    }

    private static func pow10(_ n: Int) -> Int {
        var v = 1
        for _ in 0..<n { v = v > Int.max / 10 ? Int.max : v * 10 }
        return v
    }

    /// Numbers with the same digit count between `a` and `b` (digit arrays of equal length).
    private static func sameLength(_ a: [Character], _ b: [Character]) -> String {
        if a.isEmpty { return "" }
        if a.count == 1 { return a[0] == b[0] ? String(a[0]) : "[\(a[0])-\(b[0])]" }
        if a[0] == b[0] { return String(a[0]) + group(sameLength(Array(a.dropFirst()), Array(b.dropFirst()))) }
        var parts: [String] = []
        let rest = a.count - 1
        let aRestAllZero = a.dropFirst().allSatisfy { $0 == "0" }
        let bRestAllNine = b.dropFirst().allSatisfy { $0 == "9" }
        var firstLo = a[0], firstHi = b[0]
        if !aRestAllZero {
            parts.append(String(a[0]) + group(sameLength(Array(a.dropFirst()), Array(repeating: "9", count: rest))))
            firstLo = shifted(a[0], by: 1)
        }
        if !bRestAllNine {
            firstHi = shifted(b[0], by: -1)
        }
        if firstLo <= firstHi {
            let head = firstLo == firstHi ? String(firstLo) : "[\(firstLo)-\(firstHi)]"
            parts.append(head + "[0-9]{\(rest)}")
        }
        if !bRestAllNine {
            parts.append(String(b[0]) + group(sameLength(Array(repeating: "0", count: rest), Array(b.dropFirst()))))
        }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: "|") + ")"
    }

    /// The decimal digit `by` steps from `digit` (callers stay within 0-9).
    private static func shifted(_ digit: Character, by delta: Int) -> Character {
        let v = Int(digit.asciiValue ?? 48) - 48 + delta
        return Character(String(Swift.max(0, Swift.min(9, v))))
    }

    private static func group(_ s: String) -> String { s.contains("|") ? "(\(s))" : s }
}
