import JSON

/// transformers' `tojson` filter: `json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)`.
extension Interpreter {
    func toJSON(_ v: Value, ensureASCII: Bool, indent: Value?, separators: Value?, sortKeys: Bool) throws -> String {
        var indentText: String? = nil
        switch indent {
        case nil, .none?: break
        case .string(let s)?: indentText = s
        case let i?:
            guard case .int(let n)? = i.numeric else {
                throw JinjaError.runtime("indent must be an int or a string, not \(i.typeName)", nil)
            }
            try checkSize(n)
            indentText = String(repeating: " ", count: max(n, 0))
        }
        var itemSeparator = indentText == nil ? ", " : ","
        var keySeparator = ": "
        if let s = separators, !s.isNone {
            let parts = try iterate(s)
            guard parts.count == 2, case .string(let a) = parts[0], case .string(let b) = parts[1] else {
                throw JinjaError.runtime("separators must be a pair of strings", nil)
            }
            itemSeparator = a
            keySeparator = b
        }
        var out = ""
        var writer = JSONDumper(
            interpreter: self, ensureASCII: ensureASCII, indent: indentText, itemSeparator: itemSeparator,
            keySeparator: keySeparator, sortKeys: sortKeys)
        try writer.write(v, into: &out, level: 0)
        return out
    }
}

private struct JSONDumper {
    let interpreter: Interpreter
    let ensureASCII: Bool
    let indent: String?
    let itemSeparator: String
    let keySeparator: String
    let sortKeys: Bool

    func newline(_ out: inout String, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    mutating func write(_ v: Value, into out: inout String, level: Int) throws {
        guard level < 500 else { throw JinjaError.runtime("maximum recursion depth exceeded while encoding a JSON object", nil) }
        try interpreter.checkSize(out.utf8.count)
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d): out += JSONDumper.float(d)
        case .string(let s): JSONValue.writeString(s, to: &out, ensureASCII: ensureASCII)
        case .list(let a), .tuple(let a):
            if a.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, x) in a.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(&out, level + 1)
                try write(x, into: &out, level: level + 1)
            }
            newline(&out, level)
            out += "]"
        case .dict(let d):
            try writeObject(d, into: &out, level: level)
        default:
            throw JinjaError.runtime("Object of type \(v.typeName) is not JSON serializable", nil)
        }
    }

    private mutating func writeObject(_ d: ValueDict, into out: inout String, level: Int) throws {
        if d.isEmpty {
            out += "{}"
            return
        }
        var entries: [(key: String, value: Value)] = []
        for e in d.entries {
            let k: String
            switch e.key {
            case .string(let s): k = s
            case .int(let i): k = String(i)
            case .bool(let b): k = b ? "true" : "false"
            case .float(let f): k = JSONDumper.float(f)
            case .none: k = "null"
            default:
                throw JinjaError.runtime("keys must be str, int, float, bool or None, not \(e.key.typeName)", nil)
            }
            entries.append((k, e.value))
        }
        if sortKeys {
            entries = entries.enumerated().sorted { a, b in
                let x = a.element.key.unicodeScalars, y = b.element.key.unicodeScalars
                if x.elementsEqual(y) { return a.offset < b.offset }
                return x.lexicographicallyPrecedes(y)
            }.map(\.element)
        }
        out += "{"
        for (i, e) in entries.enumerated() {
            if i > 0 { out += itemSeparator }
            newline(&out, level + 1)
            JSONValue.writeString(e.key, to: &out, ensureASCII: ensureASCII)
            out += keySeparator
            try write(e.value, into: &out, level: level + 1)
        }
        newline(&out, level)
        out += "}"
    }

    static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return Python.floatRepr(d)
    }
}
