#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// Resource bounds for one render. Exceeding any of them throws `JinjaError.limitExceeded`.
public struct RenderLimits: Sendable {
    /// Largest output, and largest string or list any single operation may build, in bytes/items.
    public var maxOutputLength: Int
    /// Deepest nesting of macro calls, `caller()` and recursive loops.
    public var maxCallDepth: Int
    /// Total loop iterations (all loops together).
    public var maxLoopIterations: Int

    /// Defaults sized for chat prompts: 32 MiB of text, 80 nested calls, 10 million iterations.
    public init(maxOutputLength: Int = 32 << 20, maxCallDepth: Int = 80, maxLoopIterations: Int = 10_000_000) {
        self.maxOutputLength = maxOutputLength
        self.maxCallDepth = maxCallDepth
        self.maxLoopIterations = maxLoopIterations
    }
}

/// How a statement list finished: normally or through `{% break %}` / `{% continue %}`.
enum Flow {
    case normal, breakLoop, continueLoop
}

/// Evaluated call arguments.
struct Arguments {
    var positional: [Value] = []
    var keyword: [(name: String, value: Value)] = []

    /// Binds to Python-style parameters (positional or by name); unknown or duplicate names throw.
    func bind(_ names: [String], function: String) throws -> [Value?] {
        var slots = [Value?](repeating: nil, count: names.count)
        guard positional.count <= names.count else {
            throw JinjaError.runtime(
                "\(function)() takes at most \(names.count) argument(s) (\(positional.count) given)", nil)
        }
        for (i, v) in positional.enumerated() { slots[i] = v }
        for (k, v) in keyword {
            guard let i = names.firstIndex(of: k) else {
                throw JinjaError.runtime("\(function)() got an unexpected keyword argument '\(k)'", nil)
            }
            if slots[i] != nil {
                throw JinjaError.runtime("\(function)() got multiple values for argument '\(k)'", nil)
            }
            slots[i] = v
        }
        return slots
    }
}

/// Executes a parsed template. One instance per render; holds scopes, namespaces and output.
final class Interpreter {
    let limits: RenderLimits
    let context: [String: Value]
    /// Local scopes; index 0 is the template's top level.
    var frames: [[String: Value]] = [[:]]
    var namespaces: [ValueDict] = []
    var out = ""
    var produced = 0
    var callDepth = 0
    var iterations = 0

    init(context: [String: Value], limits: RenderLimits) {
        self.context = context
        self.limits = limits
    }

    // MARK: - Statements

    func execute(_ statements: [Statement]) throws -> Flow {
        for s in statements {
            let flow = try execute(s)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    func write(_ s: String) throws {
        produced += s.utf8.count
        if produced > limits.maxOutputLength {
            throw JinjaError.limitExceeded("output is longer than \(limits.maxOutputLength) bytes", nil)
        }
        out += s
    }

    /// Renders `body` into a separate buffer and returns it.
    func capture(_ body: () throws -> Void) throws -> String {
        let saved = out
        out = ""
        defer { out = saved }
        try body()
        return out
    }

    private func execute(_ s: Statement) throws -> Flow {
        do {
            switch s.kind {
            case .text(let t):
                try write(t)
            case .output(let e):
                try write(try str(try eval(e)))
            case .ifChain(let branches, let otherwise):
                for b in branches where try eval(b.condition).isTruthy {
                    return try execute(b.body)
                }
                return try execute(otherwise)
            case .forLoop(let f):
                return try runFor(f, iterable: try eval(f.iterable), depth0: 0)
            case .set(let target, let e):
                try assign(target, try eval(e))
            case .setBlock(let target, let filter, let body):
                var v = Value.string(try capture { _ = try execute(body) })
                if let filter { v = try applyFilterChain(filter, input: v) }
                try assign(target, v)
            case .macro(let name, let params, let body, let usesVarargs, let usesKwargs):
                let m = Macro(
                    name: name, parameters: params, body: body, captured: Array(frames.dropFirst()),
                    usesVarargs: usesVarargs, usesKwargs: usesKwargs)
                frames[frames.count - 1][name] = .function(Function(kind: .macro(m)))
            case .callBlock(let call, let params, let body):
                guard case .call(let callee, let args) = call.kind else { break }
                let caller = Macro(
                    name: "caller", parameters: params, body: body, captured: Array(frames.dropFirst()))
                var evaluated = try evalArguments(args)
                evaluated.keyword.append(("caller", .function(Function(kind: .macro(caller)))))
                try write(try str(try callValue(try eval(callee), evaluated)))
            case .filterBlock(let filter, let body):
                let text = try capture { _ = try execute(body) }
                try write(try str(try applyFilterChain(filter, input: .string(text))))
            case .with(let assignments, let body):
                var scope: [String: Value] = [:]
                for (target, e) in assignments {
                    let v = try eval(e)
                    try bind(target, v, into: &scope)
                }
                frames.append(scope)
                defer { frames.removeLast() }
                return try execute(body)
            case .group(let body):
                return try execute(body)
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            case .forbidden(let message):
                throw JinjaError.security(message, s.location)
            }
            return .normal
        } catch let e as JinjaError {
            throw e.located(s.location)
        }
    }

    /// Runs a `for` loop over `iterable`; also the target of `loop(...)` in recursive loops.
    func runFor(_ f: ForStatement, iterable: Value, depth0: Int) throws -> Flow {
        var items = try iterate(iterable)
        if let condition = f.condition {
            var kept: [Value] = []
            frames.append([:])
            defer { frames.removeLast() }
            for item in items {
                frames[frames.count - 1] = [:]
                try bind(f.target, item, into: &frames[frames.count - 1])
                if try eval(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            return try execute(f.elseBody)
        }
        frames.append([:])
        defer { frames.removeLast() }
        for i in items.indices {
            iterations += 1
            if iterations > limits.maxLoopIterations {
                throw JinjaError.limitExceeded("more than \(limits.maxLoopIterations) loop iterations", f.location)
            }
            var scope: [String: Value] = [:]
            try bind(f.target, items[i], into: &scope)
            scope["loop"] = .loop(
                LoopContext(items: items, index0: i, depth0: depth0, recursive: f.recursive ? f : nil))
            frames[frames.count - 1] = scope
            if case .breakLoop = try execute(f.body) { break }
        }
        return .normal
    }

    /// Assigns into the innermost scope (or a namespace attribute).
    func assign(_ target: AssignTarget, _ value: Value) throws {
        if case .attribute(let object, let attr) = target {
            guard case .namespace(let ns) = lookup(object), ns.id < namespaces.count else {
                throw JinjaError.runtime("cannot assign attribute on non-namespace object", nil)
            }
            namespaces[ns.id][attr] = value
            return
        }
        try bind(target, value, into: &frames[frames.count - 1])
    }

    func bind(_ target: AssignTarget, _ value: Value, into scope: inout [String: Value]) throws {
        switch target {
        case .name(let n):
            scope[n] = value
        case .tuple(let targets):
            let items: [Value]
            switch value {
            case .list, .tuple, .string, .dict: items = try iterate(value)
            default:
                throw JinjaError.runtime("cannot unpack non-iterable \(value.typeName) object", nil)
            }
            guard items.count == targets.count else {
                if items.count > targets.count {
                    throw JinjaError.runtime("too many values to unpack (expected \(targets.count))", nil)
                }
                throw JinjaError.runtime(
                    "not enough values to unpack (expected \(targets.count), got \(items.count))", nil)
            }
            for (t, v) in zip(targets, items) { try bind(t, v, into: &scope) }
        case .attribute:
            throw JinjaError.runtime("cannot assign to an attribute here", nil)
        }
    }

    func lookup(_ name: String) -> Value {
        var i = frames.count - 1
        while i >= 0 {
            if let v = frames[i][name] { return v }
            i -= 1
        }
        if let v = context[name] { return v }
        if Interpreter.globalNames.contains(name) { return .function(Function(kind: .builtin(name))) }
        return .undefinedName(name)
    }

    static let globalNames: Set<String> = [
        "range", "namespace", "dict", "raise_exception", "strftime_now",
    ]

    // MARK: - Expressions

    func eval(_ e: Expr) throws -> Value {
        do {
            return try evalUnlocated(e)
        } catch let err as JinjaError {
            throw err.located(e.location)
        }
    }

    private func evalUnlocated(_ e: Expr) throws -> Value {
        switch e.kind {
        case .literal(let v):
            return v
        case .name(let n):
            return lookup(n)
        case .list(let items):
            return .list(try items.map(eval))
        case .tuple(let items):
            return .tuple(try items.map(eval))
        case .dict(let pairs):
            var d = ValueDict()
            for p in pairs { try d.set(try eval(p.key), try eval(p.value)) }
            return .dict(d)
        case .attribute(let object, let name):
            return try getAttribute(try eval(object), name)
        case .item(let object, let key):
            return try getItem(try eval(object), try eval(key))
        case .slice(let object, let start, let stop, let step):
            return try slice(
                try eval(object), start.map(eval), stop.map(eval), step.map(eval))
        case .call(let callee, let args):
            return try callValue(try eval(callee), try evalArguments(args))
        case .filter(let operand, let name, let args):
            let input = try operand.map(eval) ?? .undefined("filter without input")
            return try applyFilter(name, input, try evalArguments(args))
        case .test(let operand, let name, let args, let negated):
            let result = try applyTest(name, try eval(operand), try evalArguments(args))
            return .bool(result != negated)
        case .unary(let op, let operand):
            let v = try eval(operand)
            switch op {
            case "not": return .bool(!v.isTruthy)
            case "-":
                switch v.numeric {
                case .int(let i)?:
                    guard i != Int.min else { throw JinjaError.runtime("integer overflow", nil) }
                    return .int(-i)
                case .float(let d)?: return .float(-d)
                case nil: throw try undefinedOr(v, "bad operand type for unary -: '\(v.typeName)'")
                }
            default:
                switch v.numeric {
                case .int(let i)?: return .int(i)
                case .float(let d)?: return .float(d)
                case nil: throw try undefinedOr(v, "bad operand type for unary +: '\(v.typeName)'")
                }
            }
        case .binary(let op, let l, let r):
            return try binary(op, try eval(l), try eval(r))
        case .and(let l, let r):
            let a = try eval(l)
            return a.isTruthy ? try eval(r) : a
        case .or(let l, let r):
            let a = try eval(l)
            return a.isTruthy ? a : try eval(r)
        case .compare(let first, let ops):
            var left = try eval(first)
            for (op, operandExpr) in ops {
                let right = try eval(operandExpr)
                if !(try compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let items):
            var s = ""
            for item in items {
                s += try str(try eval(item))
                try checkSize(s.utf8.count)
            }
            return .string(s)
        case .conditional(let test, let then, let otherwise):
            if try eval(test).isTruthy { return try eval(then) }
            if let otherwise { return try eval(otherwise) }
            return .undefined(
                "the inline if-expression on line \(e.location.line) evaluated to false and no else section was defined.")
        }
    }

    func evalArguments(_ a: CallArguments) throws -> Arguments {
        var args = Arguments()
        args.positional = try a.positional.map(eval)
        args.keyword = try a.keyword.map { ($0.name, try eval($0.value)) }
        if let star = a.star { args.positional += try iterate(try eval(star)) }
        if let dstar = a.doubleStar {
            guard case .dict(let d) = try eval(dstar) else {
                throw JinjaError.runtime("argument after ** must be a mapping", nil)
            }
            for (k, v) in d.entries {
                guard case .string(let ks) = k else { throw JinjaError.runtime("keywords must be strings", nil) }
                args.keyword.append((ks, v))
            }
        }
        return args
    }

    /// The error to throw for an operation on `v`: the undefined value's own message, else `message`.
    func undefinedOr(_ v: Value, _ message: String) throws -> JinjaError {
        if case .undefined(let m) = v { return .runtime(m, nil) }
        return .runtime(message, nil)
    }

    func checkSize(_ n: Int) throws {
        if n > limits.maxOutputLength {
            throw JinjaError.limitExceeded("a value is longer than \(limits.maxOutputLength)", nil)
        }
    }

    // MARK: - Python conversions

    /// `str(value)` as Jinja prints it.
    func str(_ v: Value) throws -> String {
        switch v {
        case .string(let s): return s
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return Python.floatRepr(d)
        default: return repr(v)
        }
    }

    /// `repr(value)`.
    func repr(_ v: Value) -> String {
        switch v {
        case .string(let s): return Python.stringRepr(s)
        case .undefined: return "Undefined"
        case .none, .bool, .int, .float: return (try? str(v)) ?? ""
        case .list(let a): return "[" + a.map(repr).joined(separator: ", ") + "]"
        case .tuple(let a):
            return a.count == 1 ? "(" + repr(a[0]) + ",)" : "(" + a.map(repr).joined(separator: ", ") + ")"
        case .dict(let d): return dictRepr(d)
        case .namespace(let h):
            let d = h.id < namespaces.count ? namespaces[h.id] : ValueDict()
            return "<Namespace " + dictRepr(d) + ">"
        case .function(let f):
            switch f.kind {
            case .macro(let m): return "<Macro '\(m.name)'>"
            case .builtin(let n): return "<function \(n)>"
            case .method(let r, let n), .unsafe(let r, let n):
                return "<built-in method \(n) of \(r.typeName) object>"
            case .loopRecurse, .loopCycle: return "<bound method LoopContext>"
            }
        case .loop(let l): return "<LoopContext \(l.index0 + 1)/\(l.items.count)>"
        }
    }

    private func dictRepr(_ d: ValueDict) -> String {
        "{" + d.entries.map { repr($0.key) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
    }

    /// `list(value)`: the items of a list, tuple or string, or the keys of a dict.
    func iterate(_ v: Value) throws -> [Value] {
        switch v {
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.entries.map(\.key)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case .loop(let l): return l.items
        default: throw JinjaError.runtime("'\(v.typeName)' object is not iterable", nil)
        }
    }

    // MARK: - Attribute and item access

    static let dictMethods: Set<String> = ["items", "keys", "values", "get", "copy"]
    static let dictUnsafe: Set<String> = ["pop", "popitem", "setdefault", "update", "clear"]
    static let listMethods: Set<String> = ["index", "count", "copy"]
    static let listUnsafe: Set<String> = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"]

    /// `obj.name`: Python attribute first (methods), then item, as jinja2's sandbox does.
    func getAttribute(_ v: Value, _ name: String) throws -> Value {
        switch v {
        case .undefined(let m):
            throw JinjaError.runtime(m, nil)
        case .dict(let d):
            if Interpreter.dictMethods.contains(name) { return .function(Function(kind: .method(v, name))) }
            if Interpreter.dictUnsafe.contains(name) { return .function(Function(kind: .unsafe(v, name))) }
            if let x = d[name] { return x }
            return .undefined("'dict object' has no attribute '\(name)'")
        case .string:
            if PythonMethods.stringMethods.contains(name) { return .function(Function(kind: .method(v, name))) }
            return .undefined("'str object' has no attribute '\(name)'")
        case .list, .tuple:
            if Interpreter.listMethods.contains(name) { return .function(Function(kind: .method(v, name))) }
            if case .list = v, Interpreter.listUnsafe.contains(name) {
                return .function(Function(kind: .unsafe(v, name)))
            }
            return .undefined("'\(v.typeName) object' has no attribute '\(name)'")
        case .namespace(let h):
            if h.id < namespaces.count, let x = namespaces[h.id][name] { return x }
            return .undefined("'Namespace object' has no attribute '\(name)'")
        case .loop(let l):
            return loopAttribute(l, name) ?? .undefined("'LoopContext object' has no attribute '\(name)'")
        case .none:
            return .undefined("'None' has no attribute '\(name)'")
        default:
            return .undefined("'\(v.typeName) object' has no attribute '\(name)'")
        }
    }

    private func loopAttribute(_ l: LoopContext, _ name: String) -> Value? {
        let n = l.items.count
        switch name {
        case "index": return .int(l.index0 + 1)
        case "index0": return .int(l.index0)
        case "revindex": return .int(n - l.index0)
        case "revindex0": return .int(n - l.index0 - 1)
        case "first": return .bool(l.index0 == 0)
        case "last": return .bool(l.index0 == n - 1)
        case "length": return .int(n)
        case "depth": return .int(l.depth0 + 1)
        case "depth0": return .int(l.depth0)
        case "previtem":
            return l.index0 > 0 ? l.items[l.index0 - 1] : .undefined("there is no previous item")
        case "nextitem":
            return l.index0 + 1 < n ? l.items[l.index0 + 1] : .undefined("there is no next item")
        case "cycle": return .function(Function(kind: .loopCycle(l)))
        default: return nil
        }
    }

    /// `obj[key]`: item first, then attribute for string keys.
    func getItem(_ v: Value, _ key: Value) throws -> Value {
        switch v {
        case .undefined(let m):
            throw JinjaError.runtime(m, nil)
        case .dict(let d):
            if let x = d.get(key) { return x }
        case .list(let a), .tuple(let a):
            if let i = key.numeric, case .int(let idx) = i {
                let j = idx < 0 ? idx + a.count : idx
                if j >= 0 && j < a.count { return a[j] }
                return .undefined("\(v.typeName) object has no element \(repr(key))")
            }
        case .string(let s):
            if let i = key.numeric, case .int(let idx) = i {
                let scalars = Array(s.unicodeScalars)
                let j = idx < 0 ? idx + scalars.count : idx
                if j >= 0 && j < scalars.count { return .string(String(scalars[j])) }
                return .undefined("str object has no element \(repr(key))")
            }
        default:
            break
        }
        if case .string(let name) = key {
            let attr = try getAttribute(v, name)
            if case .undefined = attr, case .dict = v {
                return .undefined("'dict object' has no attribute '\(name)'")
            }
            return attr
        }
        return .undefined("\(v.typeName) object has no element \(repr(key))")
    }

    func slice(_ v: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
        func bound(_ x: Value?) throws -> Int? {
            guard let x else { return nil }
            switch x {
            case .none: return nil
            case .int(let i): return i
            case .bool(let b): return b ? 1 : 0
            default:
                throw try undefinedOr(
                    x, "slice indices must be integers or None or have an __index__ method")
            }
        }
        let st = try bound(step) ?? 1
        guard st != 0 else { throw JinjaError.runtime("slice step cannot be zero", nil) }
        func indices(_ n: Int) throws -> [Int] {
            var lo: Int, hi: Int
            if st > 0 {
                lo = try bound(start).map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? 0
                hi = try bound(stop).map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? n
                return lo < hi ? Array(stride(from: lo, to: hi, by: st)) : []
            }
            lo = try bound(start).map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? (n - 1)
            hi = try bound(stop).map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? -1
            return lo > hi ? Array(stride(from: lo, to: hi, by: st)) : []
        }
        switch v {
        case .list(let a): return .list(try indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(try indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var view = String.UnicodeScalarView()
            for i in try indices(scalars.count) { view.append(scalars[i]) }
            return .string(String(view))
        case .undefined(let m): throw JinjaError.runtime(m, nil)
        default:
            return .undefined("'\(v.typeName)' object is not subscriptable")
        }
    }

    // MARK: - Operators

    func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        if case .undefined(let m) = a { throw JinjaError.runtime(m, nil) }
        if case .undefined(let m) = b { throw JinjaError.runtime(m, nil) }
        let unsupported = JinjaError.runtime(
            "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'", nil)
        if let x = a.numeric, let y = b.numeric {
            return try arithmetic(op, x, y)
        }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            try checkSize(x.utf8.count + y.utf8.count)
            return .string(x + y)
        case ("+", .list(let x), .list(let y)):
            try checkSize(x.count + y.count)
            return .list(x + y)
        case ("+", .tuple(let x), .tuple(let y)):
            try checkSize(x.count + y.count)
            return .tuple(x + y)
        case ("+", .string, _):
            throw JinjaError.runtime("can only concatenate str (not \"\(b.typeName)\") to str", nil)
        case ("+", .list, _):
            throw JinjaError.runtime("can only concatenate list (not \"\(b.typeName)\") to list", nil)
        case ("*", .string, _), ("*", .list, _), ("*", .tuple, _), ("*", _, .string), ("*", _, .list),
            ("*", _, .tuple):
            let (seq, countValue) = a.numeric == nil ? (a, b) : (b, a)
            guard case .int(let n)? = countValue.numeric else {
                throw JinjaError.runtime("can't multiply sequence by non-int of type '\(countValue.typeName)'", nil)
            }
            let times = max(n, 0)
            switch seq {
            case .string(let s):
                let (total, overflow) = s.utf8.count.multipliedReportingOverflow(by: times)
                if overflow { try checkSize(Int.max) }
                try checkSize(total)
                return .string(String(repeating: s, count: times))
            case .list(let x), .tuple(let x):
                let (total, overflow) = x.count.multipliedReportingOverflow(by: times)
                if overflow { try checkSize(Int.max) }
                try checkSize(total)
                var r: [Value] = []
                r.reserveCapacity(total)
                for _ in 0..<times { r += x }
                if case .tuple = seq { return .tuple(r) }
                return .list(r)
            default: throw unsupported
            }
        case ("%", .string(let s), _):
            return .string(try PythonMethods.percentFormat(s, b, self))
        default:
            throw unsupported
        }
    }

    private func arithmetic(_ op: String, _ x: Numeric, _ y: Numeric) throws -> Value {
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case "+":
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw JinjaError.runtime("integer overflow", nil) }
                return .int(r)
            case "-":
                let (r, o) = i.subtractingReportingOverflow(j)
                if o { throw JinjaError.runtime("integer overflow", nil) }
                return .int(r)
            case "*":
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw JinjaError.runtime("integer overflow", nil) }
                return .int(r)
            case "/":
                guard j != 0 else { throw JinjaError.runtime("division by zero", nil) }
                return .float(Double(i) / Double(j))
            case "//":
                guard j != 0 else { throw JinjaError.runtime("integer division or modulo by zero", nil) }
                guard !(i == Int.min && j == -1) else { throw JinjaError.runtime("integer overflow", nil) }
                let q = i / j
                return .int((i % j != 0 && (i < 0) != (j < 0)) ? q - 1 : q)
            case "%":
                guard j != 0 else { throw JinjaError.runtime("integer division or modulo by zero", nil) }
                guard !(i == Int.min && j == -1) else { return .int(0) }
                let r = i % j
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case "**":
                if j < 0 { return .float(pow(Double(i), Double(j))) }
                var result = 1
                var base = i
                var e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw JinjaError.runtime("integer overflow", nil) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw JinjaError.runtime("integer overflow", nil) }
                        base = b2
                    }
                }
                return .int(result)
            default:
                throw JinjaError.runtime("unknown operator \(op)", nil)
            }
        }
        let p = x.double, q = y.double
        switch op {
        case "+": return .float(p + q)
        case "-": return .float(p - q)
        case "*": return .float(p * q)
        case "/":
            guard q != 0 else { throw JinjaError.runtime("float division by zero", nil) }
            return .float(p / q)
        case "//":
            guard q != 0 else { throw JinjaError.runtime("float floor division by zero", nil) }
            return .float((p / q).rounded(.down))
        case "%":
            guard q != 0 else { throw JinjaError.runtime("float modulo", nil) }
            var r = fmod(p, q)
            if r != 0 && (r < 0) != (q < 0) { r += q }
            return .float(r)
        case "**":
            if p == 0 && q < 0 {
                throw JinjaError.runtime("0.0 cannot be raised to a negative power", nil)
            }
            return .float(pow(p, q))
        default:
            throw JinjaError.runtime("unknown operator \(op)", nil)
        }
    }

    func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case "==": return Python.equals(a, b)
        case "!=": return !Python.equals(a, b)
        case "in": return try contains(b, a)
        case "notin": return !(try contains(b, a))
        default:
            if case .undefined(let m) = a { throw JinjaError.runtime(m, nil) }
            if case .undefined(let m) = b { throw JinjaError.runtime(m, nil) }
            let c = try Python.compare(a, b, op: op)
            switch op {
            case "<": return c < 0
            case "<=": return c <= 0
            case ">": return c > 0
            default: return c >= 0
            }
        }
    }

    /// Python `needle in container`.
    func contains(_ container: Value, _ needle: Value) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let n) = needle else {
                throw try undefinedOr(
                    needle, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return PythonMethods.find(s, n) != nil
        case .list(let a), .tuple(let a):
            return a.contains { Python.equals($0, needle) }
        case .dict(let d):
            return d.contains(needle)
        case .loop(let l):
            return l.items.contains { Python.equals($0, needle) }
        case .undefined:
            return false
        default:
            throw JinjaError.runtime("argument of type '\(container.typeName)' is not iterable", nil)
        }
    }
}
