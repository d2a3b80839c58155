import JSON

/// A value seen by a template: the Python object model that Jinja templates are written against.
///
/// Build context values with `Value(json:)` or the literal cases. `undefined` carries the message
/// that is raised if the template uses the value where a real one is required.
public enum Value: Sendable {
    /// A missing variable, attribute or item; prints as an empty string. The payload is the error
    /// message used when the template does something with it that needs a real value.
    case undefined(String)
    /// Python `None`.
    case none
    /// Python `True` / `False`.
    case bool(Bool)
    /// A Python int (64-bit here; arithmetic that overflows throws instead of growing).
    case int(Int)
    /// A Python float.
    case float(Double)
    /// A Python str (indexed and measured in Unicode scalars, like Python's code points).
    case string(String)
    /// A Python list.
    case list([Value])
    /// A Python tuple (from `(a, b)` literals, `dict.items()` and the like); prints with parentheses.
    case tuple([Value])
    /// An insertion-ordered dictionary.
    case dict(ValueDict)
    /// A `namespace()` object; its attributes live in the render that created it.
    case namespace(NamespaceHandle)
    /// A macro, builtin function or bound method.
    case function(Function)
    /// The `loop` variable inside a `for` block.
    indirect case loop(LoopContext)

    /// Converts a JSON document: objects become ordered dicts, arrays lists, numbers int or float.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(Value.init(json:)))
        case .object(let o):
            var d = ValueDict()
            d.reserveCapacity(o.count)
            for (k, v) in o { d[k] = Value(json: v) }
            self = .dict(d)
        }
    }

    /// A dict value from string keys in order.
    public static func object(_ pairs: [(String, Value)]) -> Value {
        var d = ValueDict()
        for (k, v) in pairs { d[k] = v }
        return .dict(d)
    }

    /// The undefined value for a missing variable `name`.
    static func undefinedName(_ name: String) -> Value { .undefined("'\(name)' is undefined") }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return !d.isEmpty
        case .namespace, .function, .loop: return true
        }
    }

    /// The Python type name, for error messages (`'dict object' has no attribute ...`).
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function(let f): return f.typeName
        case .loop: return "LoopContext"
        }
    }

    /// Numeric view: bools count as ints, as in Python.
    var numeric: Numeric? {
        switch self {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    /// The elements when this is a list or tuple.
    var sequenceElements: [Value]? {
        switch self {
        case .list(let a), .tuple(let a): return a
        default: return nil
        }
    }
}

/// Int or float, after Python's bool → int promotion.
enum Numeric {
    case int(Int)
    case float(Double)

    var double: Double {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }
}

/// Identifies a `namespace()` object inside one render.
public struct NamespaceHandle: Sendable, Hashable {
    let id: Int
}

/// The state of the `loop` variable for one iteration.
public struct LoopContext: Sendable {
    /// All items of the (filtered) loop, for `length`, `previtem` and `nextitem`.
    let items: [Value]
    let index0: Int
    let depth0: Int
    /// The loop statement, when declared `recursive`, so `loop(children)` can re-enter it.
    let recursive: ForStatement?
}

/// Something a template can call.
public struct Function: Sendable {
    let kind: Kind

    indirect enum Kind: Sendable {
        /// A global such as `range`, `namespace`, `raise_exception`, `strftime_now`.
        case builtin(String)
        /// A method bound to a receiver: `'a b'.split`, `d.items`.
        case method(Value, String)
        /// A method the immutable sandbox refuses (`list.append`, `dict.update`, ...).
        case unsafe(Value, String)
        case macro(Macro)
        /// `loop(...)` inside a recursive loop.
        case loopRecurse(LoopContext)
        /// `loop.cycle(...)`.
        case loopCycle(LoopContext)
    }

    var typeName: String {
        switch kind {
        case .builtin: return "builtin_function_or_method"
        case .method, .unsafe: return "builtin_function_or_method"
        case .macro: return "Macro"
        case .loopRecurse, .loopCycle: return "method"
        }
    }
}

/// A macro (or a `call` block's body, which is invoked as `caller()`), with the variables
/// of the scopes it was defined in.
struct Macro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Statement]
    /// Enclosing local scopes (innermost last) at definition time, excluding the template's top level,
    /// which is looked up live.
    let captured: [[String: Value]]
    /// Whether extra positional / keyword arguments are collected into `varargs` / `kwargs`
    /// (jinja2 accepts them only when the body mentions those names).
    var usesVarargs = true
    var usesKwargs = true
}

/// Hashable projection of a Python dict key: `1`, `1.0` and `True` are the same key.
enum DictKey: Hashable, Sendable {
    case str(String)
    case int(Int)
    case float(Double)
    case none
    case tuple([DictKey])

    init?(_ v: Value) {
        switch v {
        case .string(let s): self = .str(s)
        case .int(let i): self = .int(i)
        case .bool(let b): self = .int(b ? 1 : 0)
        case .float(let d):
            if d == d.rounded(), abs(d) < 9.2e18 { self = .int(Int(d)) } else { self = .float(d) }
        case .none: self = .none
        case .tuple(let a):
            var keys: [DictKey] = []
            for e in a {
                guard let k = DictKey(e) else { return nil }
                keys.append(k)
            }
            self = .tuple(keys)
        default: return nil
        }
    }
}

/// An insertion-ordered dictionary with Python key semantics.
public struct ValueDict: Sendable {
    /// Keys and values in insertion order.
    public private(set) var entries: [(key: Value, value: Value)] = []
    private var index: [DictKey: Int] = [:]

    /// An empty dictionary.
    public init() {}

    /// The number of entries.
    public var count: Int { entries.count }
    /// True when there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    mutating func reserveCapacity(_ n: Int) {
        entries.reserveCapacity(n)
        index.reserveCapacity(n)
    }

    /// Reads or writes the entry for a string key.
    public subscript(key: String) -> Value? {
        get {
            guard let i = index[.str(key)] else { return nil }
            return entries[i].value
        }
        set {
            let k = DictKey.str(key)
            if let newValue {
                if let i = index[k] {
                    entries[i].value = newValue
                } else {
                    index[k] = entries.count
                    entries.append((.string(key), newValue))
                }
            } else if index[k] != nil {
                remove(k)
            }
        }
    }

    /// Looks up any hashable key; nil when absent or unhashable.
    func get(_ key: Value) -> Value? {
        guard let k = DictKey(key), let i = index[k] else { return nil }
        return entries[i].value
    }

    /// Inserts or replaces; fails for unhashable keys (lists, dicts), like Python.
    mutating func set(_ key: Value, _ value: Value) throws {
        guard let k = DictKey(key) else {
            throw JinjaError.runtime("unhashable type: '\(key.typeName)'", nil)
        }
        if let i = index[k] {
            entries[i].value = value
        } else {
            index[k] = entries.count
            entries.append((key, value))
        }
    }

    func contains(_ key: Value) -> Bool { get(key) != nil }

    private mutating func remove(_ k: DictKey) {
        guard let i = index[k] else { return }
        entries.remove(at: i)
        index = [:]
        for (j, e) in entries.enumerated() {
            if let kk = DictKey(e.key) { index[kk] = j }
        }
    }
}
