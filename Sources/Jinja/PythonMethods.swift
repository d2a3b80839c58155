/// Python `str`, `dict` and `list` methods that templates call (`s.strip()`, `d.items()`, ...),
/// plus `%` and `str.format` formatting.
enum PythonMethods {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper",
        "lower", "title", "capitalize", "swapcase", "casefold", "replace", "find", "rfind", "index", "rindex",
        "count", "join", "format", "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper",
        "isnumeric", "isdecimal", "istitle", "center", "ljust", "rjust", "zfill", "partition", "rpartition",
        "removeprefix", "removesuffix",
    ]

    static func call(_ receiver: Value, _ name: String, _ args: Arguments, _ ip: Interpreter) throws -> Value {
        switch receiver {
        case .string(let s): return try stringMethod(s, name, args, ip)
        case .dict(let d):
            switch name {
            case "items":
                return .list(d.entries.map { .tuple([$0.key, $0.value]) })
            case "keys": return .list(d.entries.map(\.key))
            case "values": return .list(d.entries.map(\.value))
            case "copy": return .dict(d)
            case "get":
                let a = try args.bind(["key", "default"], function: "get")
                guard let key = a[0] else { throw JinjaError.runtime("get expected at least 1 argument, got 0", nil) }
                return d.get(key) ?? a[1] ?? Value.none
            default: break
            }
        case .list(let items), .tuple(let items):
            switch name {
            case "copy": return .list(items)
            case "count":
                let a = try args.bind(["value"], function: "count")
                guard let x = a[0] else { throw JinjaError.runtime("count() takes exactly one argument (0 given)", nil) }
                return .int(items.filter { Python.equals($0, x) }.count)
            case "index":
                let a = try args.bind(["value"], function: "index")
                guard let x = a[0], let i = items.firstIndex(where: { Python.equals($0, x) }) else {
                    throw JinjaError.runtime("value is not in list", nil)
                }
                return .int(i)
            default: break
            }
        default: break
        }
        throw JinjaError.runtime("'\(receiver.typeName)' object has no attribute '\(name)'", nil)
    }

    // MARK: - String helpers on Unicode scalars (Python indexes by code point)

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string<C: Collection>(_ c: C) -> String where C.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: c)
        return String(v)
    }

    /// Byte offset of the first occurrence of `needle` in `s` (code-point exact, unlike `String.range(of:)`).
    static func find(_ s: String, _ needle: String, from start: Int = 0) -> Int? {
        let h = Array(s.utf8), n = Array(needle.utf8)
        if n.isEmpty { return min(start, h.count) }
        guard h.count >= n.count, start <= h.count - n.count else { return nil }
        var i = start
        while i <= h.count - n.count {
            if h[i] == n[0] {
                var j = 1
                while j < n.count && h[i + j] == n[j] { j += 1 }
                if j == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Splits `s` on every occurrence of a non-empty `sep` (at most `maxSplit` times when >= 0).
    static func split(_ s: String, _ sep: String, maxSplit: Int = -1) -> [String] {
        let h = Array(s.utf8)
        var parts: [String] = []
        var start = 0
        var from = 0
        let sepCount = sep.utf8.count
        while maxSplit < 0 || parts.count < maxSplit, let i = find(s, sep, from: from) {
            parts.append(String(decoding: h[start..<i], as: UTF8.self))
            start = i + sepCount
            from = start
        }
        parts.append(String(decoding: h[start...], as: UTF8.self))
        return parts
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            // Python inserts `new` between every character and at both ends.
            var out = ""
            var n = 0
            for u in s.unicodeScalars {
                if count < 0 || n < count {
                    out += new
                    n += 1
                }
                out.unicodeScalars.append(u)
            }
            if count < 0 || n < count { out += new }
            return out
        }
        return split(s, old, maxSplit: count).joined(separator: new)
    }

    /// Python `str.split()` with no separator: runs of whitespace, ends trimmed.
    static func whitespaceSplit(_ s: String, maxSplit: Int = -1) -> [String] {
        var parts: [String] = []
        let u = scalars(s)
        var i = 0
        while i < u.count {
            while i < u.count, Python.isSpace(u[i]) { i += 1 }
            if i == u.count { break }
            if maxSplit >= 0 && parts.count == maxSplit {
                var end = u.count
                while end > i, Python.isSpace(u[end - 1]) { end -= 1 }
                parts.append(string(u[i..<end]))
                break
            }
            let start = i
            while i < u.count, !Python.isSpace(u[i]) { i += 1 }
            parts.append(string(u[start..<i]))
        }
        return parts
    }

    static func strip(_ s: String, _ chars: Value?, left: Bool, right: Bool) throws -> String {
        let set: (Unicode.Scalar) -> Bool
        switch chars {
        case nil, .none?: set = Python.isSpace
        case .string(let c)?:
            let cs = Set(c.unicodeScalars)
            set = { cs.contains($0) }
        case let other?:
            throw JinjaError.runtime("strip arg must be None or str, not \(other.typeName)", nil)
        }
        let u = s.unicodeScalars
        var lo = u.startIndex, hi = u.endIndex
        if left { while lo < hi, set(u[lo]) { lo = u.index(after: lo) } }
        if right {
            while hi > lo {
                let p = u.index(before: hi)
                if !set(u[p]) { break }
                hi = p
            }
        }
        return string(u[lo..<hi])
    }

    /// Python `str.splitlines()`.
    static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
        var lines: [String] = []
        let u = scalars(s)
        var start = 0
        var i = 0
        while i < u.count {
            let c = u[i].value
            let isBreak = (c >= 0x0A && c <= 0x0D) || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85
                || c == 0x2028 || c == 0x2029
            if isBreak {
                var end = i + 1
                if c == 0x0D, end < u.count, u[end] == "\n" { end += 1 }
                lines.append(string(u[start..<(keepEnds ? end : i)]))
                start = end
                i = end
            } else {
                i += 1
            }
        }
        if start < u.count { lines.append(string(u[start...])) }
        return lines
    }

    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for u in s.unicodeScalars {
            if previousCased {
                out += u.properties.lowercaseMapping
            } else {
                out += u.properties.titlecaseMapping
            }
            previousCased = u.properties.isCased
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        var out = ""
        for (i, u) in s.unicodeScalars.enumerated() {
            out += i == 0 ? u.properties.titlecaseMapping : u.properties.lowercaseMapping
        }
        return out
    }

    static func center(_ s: String, _ width: Int, fill: String = " ") -> String {
        let n = s.unicodeScalars.count
        guard width > n else { return s }
        let margin = width - n
        let left = margin / 2 + (margin & width & 1)
        return String(repeating: fill, count: left) + s + String(repeating: fill, count: margin - left)
    }

    private static func intArg(_ v: Value?, _ name: String) throws -> Int? {
        guard let v else { return nil }
        if case .none = v { return nil }
        guard case .int(let i)? = v.numeric, !v.isFloat else {
            throw JinjaError.runtime("'\(v.typeName)' object cannot be interpreted as an integer", nil)
        }
        return i
    }

    private static func stringArg(_ v: Value?, _ method: String) throws -> String {
        guard case .string(let s)? = v else {
            throw JinjaError.runtime("\(method)() argument must be str, not \(v?.typeName ?? "nothing")", nil)
        }
        return s
    }

    /// Code-point index range `[start, end)` from Python-style optional slice bounds.
    private static func window(_ n: Int, _ start: Int?, _ end: Int?) -> (Int, Int) {
        func clamp(_ x: Int) -> Int { x < 0 ? max(x + n, 0) : min(x, n) }
        return (start.map(clamp) ?? 0, end.map(clamp) ?? n)
    }

    static func stringMethod(_ s: String, _ name: String, _ args: Arguments, _ ip: Interpreter) throws -> Value {
        switch name {
        case "strip", "lstrip", "rstrip":
            let a = try args.bind(["chars"], function: name)
            return .string(try strip(s, a[0], left: name != "rstrip", right: name != "lstrip"))
        case "split", "rsplit":
            let a = try args.bind(["sep", "maxsplit"], function: name)
            let maxSplit = try intArg(a[1], "maxsplit") ?? -1
            switch a[0] {
            case nil, .none?:
                if name == "split" { return .list(whitespaceSplit(s, maxSplit: maxSplit).map(Value.string)) }
                let reversed = string(s.unicodeScalars.reversed())
                return .list(
                    whitespaceSplit(reversed, maxSplit: maxSplit).reversed().map {
                        .string(string($0.unicodeScalars.reversed()))
                    })
            case .string(let sep)?:
                guard !sep.isEmpty else { throw JinjaError.runtime("empty separator", nil) }
                if name == "split" || maxSplit < 0 { return .list(split(s, sep, maxSplit: maxSplit).map(Value.string)) }
                let rs = string(s.unicodeScalars.reversed()), rsep = string(sep.unicodeScalars.reversed())
                return .list(
                    split(rs, rsep, maxSplit: maxSplit).reversed().map { .string(string($0.unicodeScalars.reversed())) })
            case let other?:
                throw JinjaError.runtime("must be str or None, not \(other.typeName)", nil)
            }
        case "splitlines":
            let a = try args.bind(["keepends"], function: name)
            return .list(splitLines(s, keepEnds: a[0]?.isTruthy ?? false).map(Value.string))
        case "startswith", "endswith":
            let a = try args.bind(["prefix", "start", "end"], function: name)
            let u = scalars(s)
            let (lo, hi) = window(u.count, try intArg(a[1], "start"), try intArg(a[2], "end"))
            let sub = lo <= hi ? string(u[lo..<hi]) : ""
            let candidates: [Value]
            switch a[0] {
            case .string?: candidates = [a[0] ?? Value.none]
            case .tuple(let t)?: candidates = t
            default:
                throw JinjaError.runtime(
                    "\(name) first arg must be str or a tuple of str, not \(a[0]?.typeName ?? "nothing")", nil)
            }
            if lo > hi { return .bool(false) }
            for c in candidates {
                guard case .string(let p) = c else {
                    throw JinjaError.runtime("tuple for \(name) must only contain str, not \(c.typeName)", nil)
                }
                let hit = name == "startswith"
                    ? sub.utf8.starts(with: p.utf8) : sub.utf8.reversed().starts(with: p.utf8.reversed())
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "casefold": return .string(s.lowercased())
        case "title": return .string(title(s))
        case "capitalize": return .string(capitalize(s))
        case "swapcase":
            var out = ""
            for u in s.unicodeScalars {
                if u.properties.isUppercase {
                    out += u.properties.lowercaseMapping
                } else if u.properties.isLowercase {
                    out += u.properties.uppercaseMapping
                } else {
                    out.unicodeScalars.append(u)
                }
            }
            return .string(out)
        case "replace":
            let a = try args.bind(["old", "new", "count"], function: name)
            let old = try stringArg(a[0], name), new = try stringArg(a[1], name)
            let result = replace(s, old, new, count: try intArg(a[2], "count") ?? -1)
            try ip.checkSize(result.utf8.count)
            return .string(result)
        case "find", "rfind", "index", "rindex", "count":
            let a = try args.bind(["sub", "start", "end"], function: name)
            let sub = try stringArg(a[0], name)
            let u = scalars(s)
            let (lo, hi) = window(u.count, try intArg(a[1], "start"), try intArg(a[2], "end"))
            guard lo <= hi else {
                if name == "count" { return .int(0) }
                if name.hasSuffix("index") { throw JinjaError.runtime("substring not found", nil) }
                return .int(-1)
            }
            let hay = Array(u[lo..<hi]), needle = scalars(sub)
            var positions: [Int] = []
            if needle.isEmpty {
                positions = Array(0...hay.count)
            } else if needle.count <= hay.count {
                var i = 0
                while i <= hay.count - needle.count {
                    if hay[i..<(i + needle.count)].elementsEqual(needle) {
                        positions.append(i)
                        i += name == "count" ? needle.count : 1
                    } else {
                        i += 1
                    }
                }
            }
            if name == "count" { return .int(positions.count) }
            let found = name.hasPrefix("r") ? positions.last : positions.first
            guard let p = found else {
                if name.hasSuffix("index") { throw JinjaError.runtime("substring not found", nil) }
                return .int(-1)
            }
            return .int(p + lo)
        case "join":
            let a = try args.bind(["iterable"], function: name)
            guard let items = a[0] else { throw JinjaError.runtime("join() takes exactly one argument (0 given)", nil) }
            var parts: [String] = []
            for (i, item) in try ip.iterate(items).enumerated() {
                guard case .string(let p) = item else {
                    throw JinjaError.runtime(
                        "sequence item \(i): expected str instance, \(item.typeName) found", nil)
                }
                parts.append(p)
            }
            let result = parts.joined(separator: s)
            try ip.checkSize(result.utf8.count)
            return .string(result)
        case "format":
            return .string(try braceFormat(s, args, ip))
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(
                !s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(Python.isSpace))
        case "islower", "isupper":
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            guard !cased.isEmpty else { return .bool(false) }
            return .bool(
                cased.allSatisfy { name == "islower" ? $0.properties.isLowercase : $0.properties.isUppercase })
        case "istitle":
            return .bool(title(s) == s && s.unicodeScalars.contains { $0.properties.isCased })
        case "center", "ljust", "rjust":
            let a = try args.bind(["width", "fillchar"], function: name)
            let width = try intArg(a[0], "width") ?? 0
            let fill = a[1] == nil ? " " : try stringArg(a[1], name)
            try ip.checkSize(width)
            let n = s.unicodeScalars.count
            if name == "center" { return .string(center(s, width, fill: fill)) }
            let pad = String(repeating: fill, count: max(0, width - n))
            return .string(name == "ljust" ? s + pad : pad + s)
        case "zfill":
            let a = try args.bind(["width"], function: name)
            let width = try intArg(a[0], "width") ?? 0
            try ip.checkSize(width)
            var u = scalars(s)
            let pad = max(0, width - u.count)
            var sign: [Unicode.Scalar] = []
            if let f = u.first, f == "+" || f == "-" {
                sign = [f]
                u.removeFirst()
            }
            return .string(string(sign) + String(repeating: "0", count: pad) + string(u))
        case "partition", "rpartition":
            let a = try args.bind(["sep"], function: name)
            let sep = try stringArg(a[0], name)
            guard !sep.isEmpty else { throw JinjaError.runtime("empty separator", nil) }
            let parts = split(s, sep)
            if parts.count == 1 {
                return name == "partition"
                    ? .tuple([.string(s), .string(""), .string("")]) : .tuple([.string(""), .string(""), .string(s)])
            }
            if name == "partition" {
                return .tuple([.string(parts[0]), .string(sep), .string(parts.dropFirst().joined(separator: sep))])
            }
            return .tuple([.string(parts.dropLast().joined(separator: sep)), .string(sep), .string(parts[parts.count - 1])])
        case "removeprefix", "removesuffix":
            let a = try args.bind(["affix"], function: name)
            let affix = try stringArg(a[0], name)
            let b = Array(s.utf8), x = Array(affix.utf8)
            if name == "removeprefix", b.starts(with: x) {
                return .string(String(decoding: b[x.count...], as: UTF8.self))
            }
            if name == "removesuffix", !x.isEmpty, b.reversed().starts(with: x.reversed()) {
                return .string(String(decoding: b[..<(b.count - x.count)], as: UTF8.self))
            }
            return .string(s)
        default:
            throw JinjaError.runtime("'str' object has no attribute '\(name)'", nil)
        }
    }
}
