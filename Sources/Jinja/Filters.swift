#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// jinja2's builtin filters, with transformers' `tojson` override.
extension Interpreter {
    /// Evaluates a `{% filter %}` / `{% set x | f %}` chain whose innermost operand is `input`.
    func applyFilterChain(_ e: Expr, input: Value) throws -> Value {
        guard case .filter(let operand, let name, let args) = e.kind else { return try eval(e) }
        let inner = try operand.map { try applyFilterChain($0, input: input) } ?? input
        do {
            return try applyFilter(name, inner, try evalArguments(args))
        } catch let err as JinjaError {
            throw err.located(e.location)
        }
    }

    static let filterNames: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "first", "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list",
        "lower", "map", "max", "min", "pprint", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim",
        "truncate", "unique", "upper", "wordcount",
    ]

    func applyFilter(_ name: String, _ value: Value, _ args: Arguments) throws -> Value {
        switch name {
        case "tojson":
            let a = try args.bind(["ensure_ascii", "indent", "separators", "sort_keys"], function: "tojson")
            return .string(try toJSON(value, ensureASCII: a[0]?.isTruthy ?? false, indent: a[1], separators: a[2],
                sortKeys: a[3]?.isTruthy ?? false))
        case "trim":
            let a = try args.bind(["chars"], function: name)
            return .string(try PythonMethods.strip(try str(value), a[0], left: true, right: true))
        case "length", "count":
            return .int(try length(value))
        case "list":
            return .list(try iterate(value))
        case "string":
            return .string(try str(value))
        case "first", "last":
            let items = try iterate(value)
            guard let x = name == "first" ? items.first : items.last else {
                return .undefined("No \(name) item, sequence was empty.")
            }
            return x
        case "join":
            let a = try args.bind(["d", "attribute"], function: name)
            var items = try iterate(value)
            if let attribute = a[1] { items = try items.map { try attributeGetter(attribute)($0) } }
            let sep = try a[0].map { try str($0) } ?? ""
            var out = ""
            for (i, item) in items.enumerated() {
                if i > 0 { out += sep }
                out += try str(item)
                try checkSize(out.utf8.count)
            }
            return .string(out)
        case "default", "d":
            let a = try args.bind(["default_value", "boolean"], function: name)
            if value.isUndefined || ((a[1]?.isTruthy ?? false) && !value.isTruthy) {
                return a[0] ?? .string("")
            }
            return value
        case "upper": return .string(try str(value).uppercased())
        case "lower": return .string(try str(value).lowercased())
        case "capitalize": return .string(PythonMethods.capitalize(try str(value)))
        case "title": return .string(Interpreter.jinjaTitle(try str(value)))
        case "replace":
            let a = try args.bind(["old", "new", "count"], function: name)
            guard let old = a[0], let new = a[1] else {
                throw JinjaError.runtime("replace() missing required argument", nil)
            }
            var count = -1
            if let c = a[2], !c.isNone {
                guard case .int(let n)? = c.numeric else { throw JinjaError.runtime("count must be an integer", nil) }
                count = n
            }
            let result = PythonMethods.replace(try str(value), try str(old), try str(new), count: count)
            try checkSize(result.utf8.count)
            return .string(result)
        case "selectattr", "rejectattr", "select", "reject":
            return .list(try selectOrReject(value, args, attribute: name.hasSuffix("attr"), keep: name.hasPrefix("select")))
        case "map":
            return .list(try mapFilter(value, args))
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.entries.map { .tuple([$0.key, $0.value]) })
            default: throw JinjaError.runtime("Can only get item pairs from a mapping.", nil)
            }
        case "dictsort":
            let a = try args.bind(["case_sensitive", "by", "reverse"], function: name)
            guard case .dict(let d) = value else { throw try undefinedOr(value, "'\(value.typeName)' object has no attribute 'items'") }
            let pos: Int
            switch a[1] {
            case nil, .string("key")?: pos = 0
            case .string("value")?: pos = 1
            default: throw JinjaError.runtime("You can only sort by either \"key\" or \"value\"", nil)
            }
            let caseSensitive = a[0]?.isTruthy ?? false
            let pairs = d.entries.map { Value.tuple([$0.key, $0.value]) }
            return .list(try stableSort(pairs, reverse: a[2]?.isTruthy ?? false) { item in
                guard case .tuple(let kv) = item else { return item }
                return caseSensitive ? kv[pos] : Interpreter.ignoreCase(kv[pos])
            })
        case "sort":
            let a = try args.bind(["reverse", "case_sensitive", "attribute"], function: name)
            let caseSensitive = a[1]?.isTruthy ?? false
            let getters: [(Value) throws -> Value]
            if let attribute = a[2], !attribute.isNone {
                let spec = try str(attribute)
                getters = try spec.split(separator: ",").map { try attributeGetter(.string(String($0))) }
            } else {
                getters = []
            }
            return .list(try stableSort(try iterate(value), reverse: a[0]?.isTruthy ?? false) { item in
                let keys: [Value] = getters.isEmpty ? [item] : try getters.map { try $0(item) }
                let processed = caseSensitive ? keys : keys.map(Interpreter.ignoreCase)
                return processed.count == 1 ? processed[0] : .list(processed)
            })
        case "unique":
            let a = try args.bind(["case_sensitive", "attribute"], function: name)
            let caseSensitive = a[0]?.isTruthy ?? false
            let getter = try a[1].map { try attributeGetter($0) }
            var seenKeys = Set<DictKey>()
            var out: [Value] = []
            for item in try iterate(value) {
                var key = try getter?(item) ?? item
                if !caseSensitive { key = Interpreter.ignoreCase(key) }
                if let k = DictKey(key) {
                    if seenKeys.insert(k).inserted { out.append(item) }
                } else {
                    throw JinjaError.runtime("unhashable type: '\(key.typeName)'", nil)
                }
            }
            return .list(out)
        case "reverse":
            if case .string(let s) = value { return .string(PythonMethods.string(s.unicodeScalars.reversed())) }
            return .list(try iterate(value).reversed())
        case "sum":
            let a = try args.bind(["attribute", "start"], function: name)
            var items = try iterate(value)
            if let attribute = a[0], !attribute.isNone { items = try items.map { try attributeGetter(attribute)($0) } }
            var total = a[1] ?? .int(0)
            for item in items { total = try binary("+", total, item) }
            return total
        case "min", "max":
            let a = try args.bind(["case_sensitive", "attribute"], function: name)
            let items = try iterate(value)
            guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
            let caseSensitive = a[0]?.isTruthy ?? false
            let getter = try a[1].flatMap { $0.isNone ? nil : try attributeGetter($0) }
            func key(_ v: Value) throws -> Value {
                let k = try getter?(v) ?? v
                return caseSensitive ? k : Interpreter.ignoreCase(k)
            }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let k = try key(item)
                let c = try Python.compare(k, bestKey)
                if (name == "min" && c < 0) || (name == "max" && c > 0) {
                    best = item
                    bestKey = k
                }
            }
            return best
        case "batch", "slice":
            let a = try args.bind([name == "batch" ? "linecount" : "slices", "fill_with"], function: name)
            guard case .int(let n)? = a[0]?.numeric, n > 0 else {
                throw JinjaError.runtime("\(name) requires a positive integer", nil)
            }
            let items = try iterate(value)
            let fill = a[1].flatMap { $0.isNone ? nil : $0 }
            var out: [Value] = []
            if name == "batch" {
                var i = 0
                while i < items.count {
                    var chunk = Array(items[i..<min(i + n, items.count)])
                    if let fill, chunk.count < n { chunk += [Value](repeating: fill, count: n - chunk.count) }
                    out.append(.list(chunk))
                    i += n
                }
                return .list(out)
            }
            let per = items.count / n, extra = items.count % n
            var offset = 0
            for k in 0..<min(n, Interpreter.maxRange) {
                let start = offset + k * per
                if k < extra { offset += 1 }
                let end = offset + (k + 1) * per
                var chunk = Array(items[start..<end])
                if let fill, k >= extra { chunk.append(fill) }
                out.append(.list(chunk))
            }
            return .list(out)
        case "int":
            let a = try args.bind(["default", "base"], function: name)
            let fallback = a[0] ?? .int(0)
            var base = 10
            if let b = a[1], case .int(let x)? = b.numeric { base = x }
            switch value {
            case .int(let i): return .int(i)
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d):
                guard d.isFinite, abs(d) < 9.2e18 else { return fallback }
                return .int(Int(d))
            case .string(let s):
                if let i = Interpreter.parsePythonInt(s, base: base) { return .int(i) }
                if let d = Interpreter.parsePythonFloat(s), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        case "float":
            let a = try args.bind(["default"], function: name)
            switch value {
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .float: return value
            case .string(let s): return Interpreter.parsePythonFloat(s).map(Value.float) ?? (a[0] ?? .float(0))
            default: return a[0] ?? .float(0)
            }
        case "abs":
            switch value.numeric {
            case .int(let i)?:
                guard i != Int.min else { throw JinjaError.runtime("integer overflow", nil) }
                return .int(abs(i))
            case .float(let d)?: return .float(abs(d))
            case nil: throw try undefinedOr(value, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let a = try args.bind(["precision", "method"], function: name)
            var precision = 0
            if let p = a[0] {
                guard case .int(let x)? = p.numeric else { throw JinjaError.runtime("precision must be an integer", nil) }
                precision = x
            }
            let method = try a[1].map { try str($0) } ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw JinjaError.runtime("method must be common, ceil or floor", nil)
            }
            guard let n = value.numeric else {
                throw try undefinedOr(value, "type \(value.typeName) doesn't define __round__ method")
            }
            if method == "common" {
                return try Interpreter.pythonRound(n, precision)
            }
            let scale = pow(10.0, Double(precision))
            let scaled = n.double * scale
            return .float((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
        case "indent":
            let a = try args.bind(["width", "first", "blank"], function: name)
            let indentation: String
            switch a[0] {
            case .string(let s)?: indentation = s
            case nil: indentation = "    "
            case let w?:
                guard case .int(let n)? = w.numeric else { throw JinjaError.runtime("width must be an integer", nil) }
                try checkSize(n)
                indentation = String(repeating: " ", count: max(n, 0))
            }
            let text = try str(value) + "\n"
            var lines = PythonMethods.splitLines(text)
            var result: String
            if a[2]?.isTruthy ?? false {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.isEmpty ? "" : lines.removeFirst()
                if !lines.isEmpty {
                    result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            if a[1]?.isTruthy ?? false { result = indentation + result }
            try checkSize(result.utf8.count)
            return .string(result)
        case "center":
            let a = try args.bind(["width"], function: name)
            var width = 80
            if let w = a[0] {
                guard case .int(let n)? = w.numeric else { throw JinjaError.runtime("width must be an integer", nil) }
                width = n
            }
            try checkSize(width)
            return .string(PythonMethods.center(try str(value), width))
        case "wordcount":
            var count = 0
            var inWord = false
            for u in try str(value).unicodeScalars {
                let w = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if w && !inWord { count += 1 }
                inWord = w
            }
            return .int(count)
        case "truncate":
            let a = try args.bind(["length", "killwords", "end", "leeway"], function: name)
            let s = PythonMethods.scalars(try str(value))
            var length = 255
            if let l = a[0], case .int(let n)? = l.numeric { length = n }
            let end = try a[2].map { try str($0) } ?? "..."
            var leeway = 5
            if let l = a[3], case .int(let n)? = l.numeric { leeway = n }
            let endCount = end.unicodeScalars.count
            guard length >= endCount else { throw JinjaError.runtime("expected length >= \(endCount), got \(length)", nil) }
            guard leeway >= 0 else { throw JinjaError.runtime("expected leeway >= 0, got \(leeway)", nil) }
            if s.count <= length + leeway { return .string(PythonMethods.string(s)) }
            let head = PythonMethods.string(s.prefix(length - endCount))
            if a[1]?.isTruthy ?? false { return .string(head + end) }
            if let lastSpace = head.utf8.lastIndex(of: UInt8(ascii: " ")) {
                return .string(String(head[..<lastSpace]) + end)
            }
            return .string(head + end)
        case "striptags":
            return .string(Interpreter.stripTags(try str(value)))
        case "safe":
            return value.isUndefined ? .string("") : (value.sequenceElements == nil ? .string(try str(value)) : value)
        case "escape", "e", "forceescape":
            return .string(Interpreter.htmlEscape(try str(value)))
        case "attr":
            let a = try args.bind(["name"], function: name)
            let attrName = try str(a[0] ?? .string(""))
            if case .dict = value {
                if Interpreter.dictMethods.contains(attrName) || Interpreter.dictUnsafe.contains(attrName) {
                    return try getAttribute(value, attrName)
                }
                return .undefined("'dict object' has no attribute '\(attrName)'")
            }
            return try getAttribute(value, attrName)
        case "format":
            let values: Value
            if !args.keyword.isEmpty {
                var d = ValueDict()
                for (k, v) in args.keyword { d[k] = v }
                values = .dict(d)
            } else {
                values = .tuple(args.positional)
            }
            return .string(try PythonMethods.percentFormat(try str(value), values, self))
        case "pprint":
            return .string(repr(value))
        default:
            throw JinjaError.runtime("No filter named '\(name)'.", nil)
        }
    }

    // MARK: - Helpers

    func length(_ v: Value) throws -> Int {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .undefined: return 0
        case .loop(let l): return l.items.count
        default: throw JinjaError.runtime("object of type '\(v.typeName)' has no len()", nil)
        }
    }

    /// jinja2's `make_attrgetter`: dotted path of items/attributes, digits as integer indexes.
    func attributeGetter(_ attribute: Value, default fallback: Value? = nil) throws -> (Value) throws -> Value {
        let parts: [Value]
        switch attribute {
        case .string(let s):
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { p in
                if !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }), let i = Int(p) { return .int(i) }
                return .string(String(p))
            }
        case .int: parts = [attribute]
        default: parts = [attribute]
        }
        return { item in
            var v = item
            for p in parts {
                v = try self.getItem(v, p)
                if let fallback, v.isUndefined { v = fallback }
            }
            return v
        }
    }

    static func ignoreCase(_ v: Value) -> Value {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    /// Stable sort by a key (Python's `sorted(key=..., reverse=...)`).
    func stableSort(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        let keys = try items.map(key)
        var order = Array(items.indices)
        // Merge sort: stable, and the comparator may throw (mixed types).
        var buffer = order
        func merge(_ lo: Int, _ mid: Int, _ hi: Int) throws {
            var i = lo, j = mid, k = lo
            while i < mid && j < hi {
                let c = try Python.compare(keys[order[j]], keys[order[i]])
                // reverse=True keeps equal elements in original order, like Python.
                let takeRight = reverse ? c > 0 : c < 0
                if takeRight {
                    buffer[k] = order[j]
                    j += 1
                } else {
                    buffer[k] = order[i]
                    i += 1
                }
                k += 1
            }
            while i < mid { buffer[k] = order[i]; i += 1; k += 1 }
            while j < hi { buffer[k] = order[j]; j += 1; k += 1 }
            for x in lo..<hi { order[x] = buffer[x] }
        }
        var width = 1
        while width < order.count {
            var lo = 0
            while lo < order.count {
                let mid = min(lo + width, order.count), hi = min(lo + 2 * width, order.count)
                if mid < hi { try merge(lo, mid, hi) }
                lo += 2 * width
            }
            width *= 2
        }
        return order.map { items[$0] }
    }

    private func selectOrReject(_ value: Value, _ args: Arguments, attribute: Bool, keep: Bool) throws -> [Value] {
        var positional = args.positional
        var transform: (Value) throws -> Value = { $0 }
        if attribute {
            guard !positional.isEmpty else { throw JinjaError.runtime("Missing parameter for attribute name", nil) }
            transform = try attributeGetter(positional.removeFirst())
        }
        var testName: String? = nil
        if !positional.isEmpty { testName = try str(positional.removeFirst()) }
        let testArgs = Arguments(positional: positional, keyword: args.keyword)
        guard value.isTruthy else { return [] }
        var out: [Value] = []
        for item in try iterate(value) {
            let v = try transform(item)
            let passed = try testName.map { try applyTest($0, v, testArgs) } ?? v.isTruthy
            if passed == keep { out.append(item) }
        }
        return out
    }

    private func mapFilter(_ value: Value, _ args: Arguments) throws -> [Value] {
        guard value.isTruthy else { return [] }
        let items = try iterate(value)
        if args.positional.isEmpty, let attr = args.keyword.first(where: { $0.name == "attribute" }) {
            let fallback = args.keyword.first(where: { $0.name == "default" })?.value
            for k in args.keyword where k.name != "attribute" && k.name != "default" {
                throw JinjaError.runtime("Unexpected keyword argument '\(k.name)'", nil)
            }
            let getter = try attributeGetter(attr.value, default: fallback.flatMap { $0.isNone ? nil : $0 })
            return try items.map(getter)
        }
        guard let first = args.positional.first else { throw JinjaError.runtime("map requires a filter argument", nil) }
        let filterName = try str(first)
        let rest = Arguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
        return try items.map { try applyFilter(filterName, $0, rest) }
    }

    /// jinja2's `title` filter: capitalise after `-`, whitespace and opening brackets.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atStart = true
        for u in s.unicodeScalars {
            let isDelimiter = Python.isSpace(u) || "-({[<".unicodeScalars.contains(u)
            if isDelimiter {
                out.unicodeScalars.append(u)
                atStart = true
            } else if atStart {
                out += u.properties.uppercaseMapping
                atStart = false
            } else {
                out += u.properties.lowercaseMapping
            }
        }
        return out
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// markupsafe's `striptags`: drop comments and tags, collapse whitespace, unescape entities.
    static func stripTags(_ s: String) -> String {
        var text = ""
        let u = PythonMethods.scalars(s)
        var i = 0
        func starts(_ p: String, _ at: Int) -> Bool {
            let ps = Array(p.unicodeScalars)
            return at + ps.count <= u.count && Array(u[at..<(at + ps.count)]) == ps
        }
        while i < u.count {
            if starts("<!--", i) {
                var j = i + 4
                while j < u.count && !starts("-->", j) { j += 1 }
                if j < u.count {
                    i = j + 3
                    continue
                }
            }
            if u[i] == "<", let close = u[(i + 1)...].firstIndex(of: ">") {
                i = close + 1
                continue
            }
            text.unicodeScalars.append(u[i])
            i += 1
        }
        let collapsed = PythonMethods.whitespaceSplit(text).joined(separator: " ")
        return htmlUnescape(collapsed)
    }

    static func htmlUnescape(_ s: String) -> String {
        let named: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
        ]
        var out = ""
        let u = PythonMethods.scalars(s)
        var i = 0
        while i < u.count {
            if u[i] == "&", let semi = u[(i + 1)...].prefix(12).firstIndex(of: ";") {
                let body = PythonMethods.string(u[(i + 1)..<semi])
                var replacement: String? = named[body]
                if body.hasPrefix("#x") || body.hasPrefix("#X") {
                    replacement = UInt32(body.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if body.hasPrefix("#") {
                    replacement = UInt32(body.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                }
                if let r = replacement {
                    out += r
                    i = semi + 1
                    continue
                }
            }
            out.unicodeScalars.append(u[i])
            i += 1
        }
        return out
    }

    /// Python `int(text, base)`: surrounding whitespace, sign, underscores between digits, 0x/0o/0b with base 16/8/2/0.
    static func parsePythonInt(_ text: String, base: Int) -> Int? {
        var s = Substring(PythonMethods.strip(text))
        var negative = false
        if let f = s.first, f == "+" || f == "-" {
            negative = f == "-"
            s = s.dropFirst()
        }
        var radix = base
        let lower = s.lowercased()
        for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == r || base == 0) {
            s = s.dropFirst(2)
            radix = r
        }
        if radix == 0 { radix = 10 }
        guard (2...36).contains(radix), !s.isEmpty, s.first != "_", s.last != "_", !s.contains("__") else { return nil }
        guard let v = Int(s.replacingUnderscores(), radix: radix) else { return nil }
        return negative ? -v : v
    }

    /// Python `float(text)`.
    static func parsePythonFloat(_ text: String) -> Double? {
        let s = PythonMethods.strip(text)
        let lower = s.lowercased()
        var body = Substring(lower)
        var sign = 1.0
        if let f = body.first, f == "+" || f == "-" {
            sign = f == "-" ? -1 : 1
            body = body.dropFirst()
        }
        if body == "inf" || body == "infinity" { return sign * .infinity }
        if body == "nan" { return .nan }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || "._e+-".contains($0)) }),
            body.first != "_", body.last != "_", !body.contains("__")
        else { return nil }
        return Double(String(body.replacingUnderscores())).map { $0 * sign }
    }

    /// Python `round(number, ndigits)`: ints stay ints, floats round half-to-even on their exact value.
    static func pythonRound(_ n: Numeric, _ digits: Int) throws -> Value {
        switch n {
        case .int(let i):
            guard digits < 0 else { return .int(i) }
            guard digits > -19 else { return .int(0) }
            var p = 1
            for _ in 0..<(-digits) { p *= 10 }
            let q = i / p, r = i % p
            var result = q
            let twice = 2 * abs(r)
            if twice > p || (twice == p && q % 2 != 0) { result += i < 0 ? -1 : 1 }
            let (v, o) = result.multipliedReportingOverflow(by: p)
            if o { throw JinjaError.runtime("integer overflow", nil) }
            return .int(v)
        case .float(let d):
            guard d.isFinite else { return .float(d) }
            if digits >= 0 {
                let text = PythonMethods.cFormat(d, conversion: "f", precision: min(digits, 330))
                return .float(Double(text) ?? d)
            }
            let scale = pow(10.0, Double(-digits))
            let scaled = d / scale
            var r = scaled.rounded(.toNearestOrEven)
            if abs(scaled - scaled.rounded(.towardZero)) != 0.5 { r = scaled.rounded() }
            return .float(r * scale)
        }
    }
}

extension PythonMethods {
    static func strip(_ s: String) -> String {
        (try? strip(s, nil, left: true, right: true)) ?? s
    }
}

extension Substring {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
