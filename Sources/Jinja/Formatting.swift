#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's `%` operator on strings and `str.format`.
extension PythonMethods {
    /// Formats a double with a C conversion (`e`, `f`, `g`, ...); glibc rounds exactly like CPython.
    static func cFormat(_ d: Double, conversion: Character, precision: Int, alternate: Bool = false) -> String {
        if d.isNaN { return conversion.isUppercase ? "NAN" : "nan" }
        if d.isInfinite {
            let s = conversion.isUppercase ? "INF" : "inf"
            return d < 0 ? "-" + s : s
        }
        let spec = "%" + (alternate ? "#" : "") + ".*" + String(conversion)
        var buffer = [CChar](repeating: 0, count: 512)
        let p = Int32(min(max(precision, 0), 300))
        let n = withVaList([p, d]) { vsnprintf(&buffer, buffer.count, spec, $0) }
        if n >= Int32(buffer.count) {
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            _ = withVaList([p, d]) { vsnprintf(&buffer, buffer.count, spec, $0) }
        }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func pad(_ body: String, width: Int, left: Bool, zero: Bool) -> String {
        let n = body.unicodeScalars.count
        guard width > n else { return body }
        if left { return body + String(repeating: " ", count: width - n) }
        if zero {
            var b = body
            var sign = ""
            if let f = b.first, f == "-" || f == "+" || f == " " {
                sign = String(f)
                b.removeFirst()
            }
            return sign + String(repeating: "0", count: width - n) + b
        }
        return String(repeating: " ", count: width - n) + body
    }

    /// `format % values`.
    static func percentFormat(_ format: String, _ values: Value, _ ip: Interpreter) throws -> String {
        var args: [Value]
        var mapping: ValueDict? = nil
        switch values {
        case .tuple(let t): args = t
        case .dict(let d):
            args = [values]
            mapping = d
        default: args = [values]
        }
        var next = 0
        func take() throws -> Value {
            guard next < args.count else { throw JinjaError.runtime("not enough arguments for format string", nil) }
            next += 1
            return args[next - 1]
        }
        let u = scalars(format)
        var out = ""
        var i = 0
        while i < u.count {
            if u[i] != "%" {
                out.unicodeScalars.append(u[i])
                i += 1
                continue
            }
            i += 1
            guard i < u.count else { throw JinjaError.runtime("incomplete format", nil) }
            var key: String? = nil
            if u[i] == "(" {
                var depth = 1
                var j = i + 1
                while j < u.count, depth > 0 {
                    if u[j] == "(" { depth += 1 }
                    if u[j] == ")" { depth -= 1 }
                    j += 1
                }
                guard depth == 0 else { throw JinjaError.runtime("incomplete format key", nil) }
                key = string(u[(i + 1)..<(j - 1)])
                i = j
            }
            var left = false, zero = false, plus = false, space = false, alt = false
            while i < u.count, "-0+ #".unicodeScalars.contains(u[i]) {
                switch u[i] {
                case "-": left = true
                case "0": zero = true
                case "+": plus = true
                case " ": space = true
                default: alt = true
                }
                i += 1
            }
            var width = 0
            if i < u.count, u[i] == "*" {
                guard case .int(let w)? = try take().numeric else { throw JinjaError.runtime("* wants int", nil) }
                width = w
                i += 1
            } else {
                while i < u.count, let d = Int(String(u[i])) {
                    width = width * 10 + d
                    i += 1
                }
            }
            var precision: Int? = nil
            if i < u.count, u[i] == "." {
                i += 1
                if i < u.count, u[i] == "*" {
                    guard case .int(let p)? = try take().numeric else { throw JinjaError.runtime("* wants int", nil) }
                    precision = p
                    i += 1
                } else {
                    var p = 0
                    while i < u.count, let d = Int(String(u[i])) {
                        p = p * 10 + d
                        i += 1
                    }
                    precision = p
                }
            }
            while i < u.count, "hlL".unicodeScalars.contains(u[i]) { i += 1 }
            guard i < u.count else { throw JinjaError.runtime("incomplete format", nil) }
            let conv = Character(u[i])
            i += 1
            if conv == "%" {
                out += "%"
                continue
            }
            try ip.checkSize(width)
            let value: Value
            if let key {
                guard let m = mapping else { throw JinjaError.runtime("format requires a mapping", nil) }
                guard let v = m[key] else { throw JinjaError.runtime("'\(key)'", nil) }
                value = v
            } else {
                value = try take()
            }
            var body: String
            switch conv {
            case "s": body = try ip.str(value)
            case "r", "a": body = ip.repr(value)
            case "c":
                if case .string(let s) = value, s.unicodeScalars.count == 1 {
                    body = s
                } else if case .int(let c)? = value.numeric, let scalar = Unicode.Scalar(UInt32(clamping: max(c, 0))) {
                    body = String(scalar)
                } else {
                    throw JinjaError.runtime("%c requires an int or a unicode character", nil)
                }
            case "d", "i", "u", "x", "X", "o":
                let n: Int
                switch value.numeric {
                case .int(let x)?: n = x
                case .float(let d)? where conv == "d" || conv == "i" || conv == "u":
                    guard d.isFinite, abs(d) < 9.2e18 else {
                        throw JinjaError.runtime("cannot convert float to integer", nil)
                    }
                    n = Int(d)
                default:
                    throw try ip.undefinedOr(
                        value,
                        "%\(conv) format: \(conv == "d" || conv == "i" || conv == "u" ? "a real number" : "an integer") is required, not \(value.typeName)")
                }
                let radix = conv == "o" ? 8 : (conv == "d" || conv == "i" || conv == "u" ? 10 : 16)
                var digits = String(n.magnitude, radix: radix, uppercase: conv == "X")
                if let p = precision, digits.count < p { digits = String(repeating: "0", count: p - digits.count) + digits }
                if alt && radix == 16 { digits = (conv == "X" ? "0X" : "0x") + digits }
                if alt && radix == 8 { digits = "0o" + digits }
                body = (n < 0 ? "-" : (plus ? "+" : (space ? " " : ""))) + digits
            case "e", "E", "f", "F", "g", "G":
                guard let x = value.numeric?.double else {
                    throw try ip.undefinedOr(value, "must be real number, not \(value.typeName)")
                }
                body = cFormat(x, conversion: conv, precision: precision ?? 6, alternate: alt)
                if x >= 0 || x.isNaN, !body.hasPrefix("-") { body = (plus ? "+" : (space ? " " : "")) + body }
            default:
                throw JinjaError.runtime("unsupported format character '\(conv)'", nil)
            }
            if conv == "s" || conv == "r" || conv == "a", let p = precision {
                body = string(body.unicodeScalars.prefix(p))
            }
            out += pad(body, width: width, left: left, zero: zero && !left && !"srac".contains(conv))
        }
        if next < args.count && mapping == nil {
            throw JinjaError.runtime("not all arguments converted during string formatting", nil)
        }
        return out
    }

    /// `format.format(*args, **kwargs)` for the common field syntax: `{}`, `{0}`, `{name}`, `{x.attr}`,
    /// `{x[key]}`, conversions `!r`/`!s` and format specs (fill, align, sign, width, `,`, precision, type).
    static func braceFormat(_ format: String, _ args: Arguments, _ ip: Interpreter) throws -> String {
        let u = scalars(format)
        var out = ""
        var i = 0
        var auto = 0
        var manual = false
        var automatic = false
        while i < u.count {
            let c = u[i]
            if c == "}" {
                guard i + 1 < u.count, u[i + 1] == "}" else {
                    throw JinjaError.runtime("Single '}' encountered in format string", nil)
                }
                out += "}"
                i += 2
                continue
            }
            if c != "{" {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            if i + 1 < u.count, u[i + 1] == "{" {
                out += "{"
                i += 2
                continue
            }
            var j = i + 1
            var depth = 1
            while j < u.count {
                if u[j] == "{" { depth += 1 }
                if u[j] == "}" {
                    depth -= 1
                    if depth == 0 { break }
                }
                j += 1
            }
            guard j < u.count else { throw JinjaError.runtime("Single '{' encountered in format string", nil) }
            let field = string(u[(i + 1)..<j])
            i = j + 1
            var name = field
            var spec = ""
            var conversion: Character? = nil
            if let colon = field.firstIndex(of: ":") {
                name = String(field[..<colon])
                spec = String(field[field.index(after: colon)...])
            }
            if let bang = name.firstIndex(of: "!") {
                conversion = name[name.index(after: bang)...].first
                name = String(name[..<bang])
            }
            // Split "a.b[c]" into the first name and accessors.
            var head = ""
            var rest = Substring(name)
            while let f = rest.first, f != "." && f != "[" {
                head.append(f)
                rest = rest.dropFirst()
            }
            var value: Value
            if head.isEmpty {
                guard !manual else {
                    throw JinjaError.runtime("cannot switch from manual field specification to automatic field numbering", nil)
                }
                automatic = true
                guard auto < args.positional.count else {
                    throw JinjaError.runtime("Replacement index \(auto) out of range for positional args tuple", nil)
                }
                value = args.positional[auto]
                auto += 1
            } else if let index = Int(head) {
                guard !automatic else {
                    throw JinjaError.runtime("cannot switch from automatic field numbering to manual field specification", nil)
                }
                manual = true
                guard index < args.positional.count else {
                    throw JinjaError.runtime("Replacement index \(index) out of range for positional args tuple", nil)
                }
                value = args.positional[index]
            } else {
                guard let kw = args.keyword.first(where: { $0.name == head }) else {
                    throw JinjaError.runtime("'\(head)'", nil)
                }
                value = kw.value
            }
            while let f = rest.first {
                rest = rest.dropFirst()
                var key = ""
                if f == "." {
                    while let g = rest.first, g != "." && g != "[" {
                        key.append(g)
                        rest = rest.dropFirst()
                    }
                    value = try ip.getAttribute(value, key)
                } else {
                    while let g = rest.first, g != "]" {
                        key.append(g)
                        rest = rest.dropFirst()
                    }
                    rest = rest.dropFirst()
                    value = try ip.getItem(value, Int(key).map(Value.int) ?? .string(key))
                }
            }
            if conversion == "r" || conversion == "a" {
                value = .string(ip.repr(value))
            } else if conversion == "s" {
                value = .string(try ip.str(value))
            }
            out += try formatSpec(value, spec, ip)
            try ip.checkSize(out.utf8.count)
        }
        return out
    }

    /// Applies a `format()` spec such as `>10`, `08.3f`, `,d`.
    static func formatSpec(_ value: Value, _ spec: String, _ ip: Interpreter) throws -> String {
        if spec.isEmpty { return try ip.str(value) }
        var s = Array(spec)
        var fill: Character = " "
        var align: Character? = nil
        if s.count >= 2, "<>^=".contains(s[1]) {
            fill = s[0]
            align = s[1]
            s.removeFirst(2)
        } else if let f = s.first, "<>^=".contains(f) {
            align = f
            s.removeFirst()
        }
        var sign: Character = "-"
        if let f = s.first, "+- ".contains(f) {
            sign = f
            s.removeFirst()
        }
        var alternate = false
        if s.first == "#" {
            alternate = true
            s.removeFirst()
        }
        if s.first == "0" {
            if align == nil {
                fill = "0"
                align = "="
            }
            s.removeFirst()
        }
        var width = 0
        while let f = s.first, let d = f.wholeNumberValue {
            width = width * 10 + d
            s.removeFirst()
        }
        try ip.checkSize(width)
        var grouping: Character? = nil
        if let f = s.first, f == "," || f == "_" {
            grouping = f
            s.removeFirst()
        }
        var precision: Int? = nil
        if s.first == "." {
            s.removeFirst()
            var p = 0
            while let f = s.first, let d = f.wholeNumberValue {
                p = p * 10 + d
                s.removeFirst()
            }
            precision = p
        }
        let type = s.first
        guard s.count <= 1 else { throw JinjaError.runtime("Invalid format specifier", nil) }
        var body: String
        var numeric = true
        switch (value, type) {
        case (.string(let str), nil), (.string(let str), "s"?):
            body = precision.map { string(str.unicodeScalars.prefix($0)) } ?? str
            numeric = false
        case (_, "s"?):
            throw JinjaError.runtime("Unknown format code 's' for object of type '\(value.typeName)'", nil)
        default:
            guard let n = value.numeric else {
                if type == nil { body = try ip.str(value); numeric = false; break }
                throw try ip.undefinedOr(value, "unsupported format string passed to \(value.typeName).__format__")
            }
            switch (n, type) {
            case (.int(let x), nil), (.int(let x), "d"?), (.int(let x), "n"?):
                body = String(x.magnitude)
                if let g = grouping { body = group(body, g) }
                if x < 0 { body = "-" + body }
            case (.int(let x), "x"?), (.int(let x), "X"?), (.int(let x), "o"?), (.int(let x), "b"?):
                let radix = type == "o" ? 8 : (type == "b" ? 2 : 16)
                body = String(x.magnitude, radix: radix, uppercase: type == "X")
                if alternate { body = (type == "o" ? "0o" : (type == "b" ? "0b" : (type == "X" ? "0X" : "0x"))) + body }
                if x < 0 { body = "-" + body }
            case (.int(let x), "c"?):
                body = Unicode.Scalar(UInt32(clamping: max(x, 0))).map { String($0) } ?? ""
                numeric = false
            case (.float(let x), nil) where precision == nil:
                body = Python.floatRepr(x)
            default:
                let x = n.double
                switch type {
                case "f"?, "F"?, "e"?, "E"?, "g"?, "G"?:
                    body = cFormat(x, conversion: type ?? "g", precision: precision ?? 6, alternate: alternate)
                case "%"?:
                    body = cFormat(x * 100, conversion: "f", precision: precision ?? 6) + "%"
                case nil, "n"?:
                    body = cFormat(x, conversion: "g", precision: precision ?? 12)
                default:
                    throw JinjaError.runtime(
                        "Unknown format code '\(type.map(String.init) ?? "")' for object of type '\(value.typeName)'", nil)
                }
                if let g = grouping {
                    let negative = body.hasPrefix("-")
                    let digits = negative ? String(body.dropFirst()) : body
                    let intEnd = digits.firstIndex { !$0.isNumber } ?? digits.endIndex
                    body = (negative ? "-" : "") + group(String(digits[..<intEnd]), g) + digits[intEnd...]
                }
            }
        }
        if numeric, !body.hasPrefix("-") {
            if sign == "+" { body = "+" + body } else if sign == " " { body = " " + body }
        }
        let n = body.unicodeScalars.count
        guard width > n else { return body }
        let padding = width - n
        switch align ?? (numeric ? ">" : "<") {
        case "<": return body + String(repeating: fill, count: padding)
        case "^":
            let left = padding / 2
            return String(repeating: fill, count: left) + body + String(repeating: fill, count: padding - left)
        case "=":
            if let f = body.first, "+- ".contains(f) {
                return String(f) + String(repeating: fill, count: padding) + body.dropFirst()
            }
            return String(repeating: fill, count: padding) + body
        default: return String(repeating: fill, count: padding) + body
        }
    }

    private static func group(_ digits: String, _ separator: Character) -> String {
        var out: [Character] = []
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(separator) }
            out.append(c)
        }
        return String(out.reversed())
    }
}
