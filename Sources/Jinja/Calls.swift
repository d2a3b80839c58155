#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Calling values: macros, `caller()`, global functions, bound methods and the `loop` helpers.
extension Interpreter {
    /// jinja2's sandbox caps `range()` at this many items.
    static let maxRange = 100_000

    func callValue(_ callee: Value, _ args: Arguments) throws -> Value {
        if case .loop(let l) = callee {
            return try callValue(.function(Function(kind: .loopRecurse(l))), args)
        }
        guard case .function(let f) = callee else {
            throw try undefinedOr(callee, "'\(callee.typeName)' object is not callable")
        }
        switch f.kind {
        case .macro(let m):
            return try callMacro(m, args)
        case .builtin(let name):
            return try callBuiltin(name, args)
        case .method(let receiver, let name):
            return try PythonMethods.call(receiver, name, args, self)
        case .unsafe(let receiver, let name):
            throw JinjaError.security(
                "access to attribute '\(name)' of '\(receiver.typeName)' object is unsafe.", nil)
        case .loopCycle(let l):
            guard !args.positional.isEmpty else { throw JinjaError.runtime("no items for cycling given", nil) }
            return args.positional[l.index0 % args.positional.count]
        case .loopRecurse(let l):
            guard let f = l.recursive else { throw JinjaError.runtime("loop is not recursive", nil) }
            guard let items = args.positional.first, args.positional.count == 1 else {
                throw JinjaError.runtime("loop() takes exactly one argument", nil)
            }
            callDepth += 1
            defer { callDepth -= 1 }
            if callDepth > limits.maxCallDepth {
                throw JinjaError.limitExceeded("recursion deeper than \(limits.maxCallDepth) levels", nil)
            }
            let text = try capture { _ = try runFor(f, iterable: items, depth0: l.depth0 + 1) }
            return .string(text)
        }
    }

    /// Calls a macro following jinja2's `Macro.__call__` rules.
    func callMacro(_ m: Macro, _ args: Arguments) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxCallDepth {
            throw JinjaError.limitExceeded("macro calls nested deeper than \(limits.maxCallDepth) levels", nil)
        }
        var scope: [String: Value] = [:]
        let names = m.parameters.map(\.name)
        var provided = [Bool](repeating: false, count: names.count)
        for (i, v) in args.positional.prefix(names.count).enumerated() {
            scope[names[i]] = v
            provided[i] = true
        }
        let extra = Array(args.positional.dropFirst(names.count))
        if !extra.isEmpty && !m.usesVarargs {
            throw JinjaError.runtime("macro '\(m.name)' takes not more than \(names.count) argument(s)", nil)
        }
        var kwargs = ValueDict()
        var caller: Value? = nil
        for (k, v) in args.keyword {
            if let i = names.firstIndex(of: k) {
                if provided[i] {
                    throw JinjaError.runtime("macro '\(m.name)' got multiple values for argument '\(k)'", nil)
                }
                scope[k] = v
                provided[i] = true
            } else if k == "caller" {
                caller = v
            } else if m.usesKwargs {
                kwargs[k] = v
            } else {
                throw JinjaError.runtime("macro '\(m.name)' takes no keyword argument '\(k)'", nil)
            }
        }
        let savedFrames = frames
        frames = [frames[0]] + m.captured + [scope]
        defer { frames = savedFrames }
        // Defaults are evaluated in the macro's scope, so they can refer to earlier parameters.
        for (i, p) in m.parameters.enumerated() where !provided[i] {
            if let d = p.defaultValue {
                frames[frames.count - 1][p.name] = try eval(d)
            } else {
                frames[frames.count - 1][p.name] = .undefined("parameter '\(p.name)' was not provided")
            }
        }
        frames[frames.count - 1]["varargs"] = .tuple(extra)
        frames[frames.count - 1]["kwargs"] = .dict(kwargs)
        if let caller { frames[frames.count - 1]["caller"] = caller }
        let text = try capture { _ = try execute(m.body) }
        return .string(text)
    }

    func callBuiltin(_ name: String, _ args: Arguments) throws -> Value {
        switch name {
        case "range":
            guard args.keyword.isEmpty else { throw JinjaError.runtime("range() takes no keyword arguments", nil) }
            var ints: [Int] = []
            for v in args.positional {
                guard case .int(let i)? = v.numeric, !(v.isFloat) else {
                    throw try undefinedOr(v, "'\(v.typeName)' object cannot be interpreted as an integer")
                }
                ints.append(i)
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw JinjaError.runtime("range expected at most 3 arguments, got \(ints.count)", nil)
            }
            guard step != 0 else { throw JinjaError.runtime("range() arg 3 must not be zero", nil) }
            let count: Int
            if step > 0 {
                count = start < stop ? (stop - start - 1) / step + 1 : 0
            } else {
                count = start > stop ? (start - stop - 1) / (-step) + 1 : 0
            }
            if count > Interpreter.maxRange {
                throw JinjaError.limitExceeded(
                    "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(Interpreter.maxRange)).", nil)
            }
            return .list((0..<count).map { .int(start + $0 * step) })
        case "dict", "namespace":
            var d = ValueDict()
            for p in args.positional {
                switch p {
                case .dict(let other):
                    for e in other.entries { try d.set(e.key, e.value) }
                case .list(let items), .tuple(let items):
                    for item in items {
                        let pair = try iterate(item)
                        guard pair.count == 2 else {
                            throw JinjaError.runtime("dictionary update sequence element has length \(pair.count); 2 is required", nil)
                        }
                        try d.set(pair[0], pair[1])
                    }
                default:
                    throw JinjaError.runtime("'\(p.typeName)' object is not iterable", nil)
                }
            }
            for (k, v) in args.keyword { d[k] = v }
            if name == "dict" { return .dict(d) }
            namespaces.append(d)
            return .namespace(NamespaceHandle(id: namespaces.count - 1))
        case "raise_exception":
            let message = try args.positional.first.map { try str($0) } ?? ""
            throw JinjaError.raised(message, nil)
        case "strftime_now":
            guard case .string(let format)? = args.positional.first else {
                throw JinjaError.runtime("strftime_now() argument must be str", nil)
            }
            return .string(Interpreter.strftimeNow(format))
        default:
            throw JinjaError.runtime("'\(name)' is undefined", nil)
        }
    }

    /// `datetime.now().strftime(format)` in local time.
    static func strftimeNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 512 + format.utf8.count * 8)
        let n = strftime(&buffer, buffer.count, format, &parts)
        let bytes = buffer.prefix(n).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Value {
    var isFloat: Bool {
        if case .float = self { return true }
        return false
    }
}
