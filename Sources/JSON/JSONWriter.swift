/// How `JSONValue.serialized(_:)` lays out text.
public struct JSONWriteOptions: Sendable {
    /// Separator between items, e.g. `","` (compact) or `", "` (Python's default).
    public var itemSeparator: String
    /// Separator between a key and its value, e.g. `":"` or `": "`.
    public var keySeparator: String
    /// Spaces per nesting level; nil writes everything on one line.
    public var indent: Int?
    /// Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii=True`).
    public var ensureASCII: Bool
    /// Write object keys in sorted order.
    public var sortKeys: Bool

    /// Creates options; the defaults give compact output.
    public init(
        itemSeparator: String = ",", keySeparator: String = ":", indent: Int? = nil,
        ensureASCII: Bool = false, sortKeys: Bool = false
    ) {
        self.itemSeparator = itemSeparator
        self.keySeparator = keySeparator
        self.indent = indent
        self.ensureASCII = ensureASCII
        self.sortKeys = sortKeys
    }

    /// Compact output for wire formats.
    public static let compact = JSONWriteOptions()

    /// Python's `json.dumps(x)` defaults: `", "`, `": "`, ASCII-escaped.
    /// With an indent Python uses `","` between items (the newline separates them).
    public static func python(indent: Int? = nil, ensureASCII: Bool = true, sortKeys: Bool = false) -> JSONWriteOptions {
        JSONWriteOptions(
            itemSeparator: indent == nil ? ", " : ",", keySeparator: ": ", indent: indent,
            ensureASCII: ensureASCII, sortKeys: sortKeys)
    }
}

extension JSONValue {
    /// The value as JSON text.
    public func serialized(_ options: JSONWriteOptions = .compact) -> String {
        var out = ""
        write(to: &out, options, level: 0)
        return out
    }

    private func write(to out: inout String, _ o: JSONWriteOptions, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONValue.formatDouble(d)
        case .string(let s): JSONValue.writeString(s, to: &out, ensureASCII: o.ensureASCII)
        case .array(let a):
            if a.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += o.itemSeparator }
                JSONValue.newline(&out, o, level + 1)
                v.write(to: &out, o, level: level + 1)
            }
            JSONValue.newline(&out, o, level)
            out += "]"
        case .object(let obj):
            if obj.count == 0 {
                out += "{}"
                return
            }
            out += "{"
            let entries = o.sortKeys ? obj.entries.sorted { $0.key < $1.key } : obj.entries
            for (i, e) in entries.enumerated() {
                if i > 0 { out += o.itemSeparator }
                JSONValue.newline(&out, o, level + 1)
                JSONValue.writeString(e.key, to: &out, ensureASCII: o.ensureASCII)
                out += o.keySeparator
                e.value.write(to: &out, o, level: level + 1)
            }
            JSONValue.newline(&out, o, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ o: JSONWriteOptions, _ level: Int) {
        guard let indent = o.indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }

    /// Formats a double the way Python's `repr` does for the common cases (`1.0`, `0.5`, `1e-05`, `inf`).
    public static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == d.rounded() && abs(d) < 1e16 {
            return String(Int64(d)) + ".0"
        }
        return "\(d)"
    }

    /// Appends `s` as a JSON string literal with Python's escaping rules.
    public static func writeString(_ s: String, to out: inout String, ensureASCII: Bool) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += hex4(0xD800 + (v >> 10))
                        out += hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}
