/// Python's textual conventions: `str()`, `repr()`, float formatting, equality and ordering.
enum Python {
    /// `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16.
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        let (negative, digits, exponent) = shortestDigits(d)
        // value = 0.d1d2d3... * 10^exponent; Python's decimal exponent is exponent - 1.
        let sciExp = exponent - 1
        var out = negative ? "-" : ""
        if sciExp < -4 || sciExp >= 16 {
            out += String(digits.first ?? "0")
            if digits.count > 1 {
                out += "."
                out += digits.dropFirst()
            }
            out += "e"
            out += sciExp < 0 ? "-" : "+"
            let e = String(abs(sciExp))
            out += e.count < 2 ? "0" + e : e
        } else if exponent <= 0 {
            out += "0." + String(repeating: "0", count: -exponent) + digits
        } else if exponent >= digits.count {
            out += digits + String(repeating: "0", count: exponent - digits.count) + ".0"
        } else {
            let cut = digits.index(digits.startIndex, offsetBy: exponent)
            out += digits[..<cut] + "." + digits[cut...]
        }
        return out
    }

    /// Shortest round-trip significant digits (no leading/trailing zeros) and the position of the
    /// decimal point, parsed from Swift's own shortest representation.
    private static func shortestDigits(_ d: Double) -> (Bool, String, Int) {
        var text = Substring(abs(d).description)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var intPart = text
        var fracPart: Substring = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = text[..<dot]
            fracPart = text[text.index(after: dot)...]
        }
        var all = String(intPart) + String(fracPart)
        var point = intPart.count + exp10
        while all.first == "0" {
            all.removeFirst()
            point -= 1
        }
        while all.last == "0" { all.removeLast() }
        if all.isEmpty { return (d < 0, "0", 1) }
        return (d < 0, all, point)
    }

    /// `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func stringRepr(_ s: String) -> String {
        let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
        var out = String(quote)
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(u) == quote {
                    out += "\\" + String(quote)
                } else if isPrintable(u) {
                    out.unicodeScalars.append(u)
                } else if u.value < 0x100 {
                    out += "\\x" + hex(u.value, 2)
                } else if u.value < 0x10000 {
                    out += "\\u" + hex(u.value, 4)
                } else {
                    out += "\\U" + hex(u.value, 8)
                }
            }
        }
        out.append(quote)
        return out
    }

    /// Python's `str.isprintable` for one character: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs
    /// (the ASCII space excepted).
    static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        if u.value < 0x7F { return u.value >= 0x20 }
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator,
            .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }

    /// Python's `str.isspace` / regex `\s` for one scalar.
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
            0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python `==`.
    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            guard x.count == y.count else { return false }
            for i in x.indices where !equals(x[i], y[i]) { return false }
            return true
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for e in x.entries {
                guard let other = y.get(e.key), equals(e.value, other) else { return false }
            }
            return true
        case (.namespace(let x), .namespace(let y)): return x == y
        default:
            if let x = a.numeric, let y = b.numeric {
                switch (x, y) {
                case (.int(let i), .int(let j)): return i == j
                default: return x.double == y.double
                }
            }
            return false
        }
    }

    /// Python ordering for `<`, `>`, `sort` and friends; throws `TypeError` for mixed kinds.
    static func compare(_ a: Value, _ b: Value, op: String = "<") throws -> Int {
        if let x = a.numeric, let y = b.numeric {
            if case .int(let i) = x, case .int(let j) = y { return i < j ? -1 : (i > j ? 1 : 0) }
            let p = x.double, q = y.double
            return p < q ? -1 : (p > q ? 1 : 0)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            // Python compares code points.
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
                ? -1 : (x.utf8.elementsEqual(y.utf8) ? 0 : 1)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for i in 0..<min(x.count, y.count) where !equals(x[i], y[i]) {
                return try compare(x[i], y[i], op: op)
            }
            return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
        default:
            throw JinjaError.runtime(
                "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", nil)
        }
    }
}
