/// A JSON document as a Swift value.
///
/// Objects keep their keys in document order, because chat templates iterate dictionaries and
/// `tojson` must print keys in the order the user wrote them (as Python's `json` does).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// An integer that fits in 64 bits (written without a fraction or exponent).
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string payload, or nil when this is not a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer payload; a double with an integral value also converts.
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int(d)
        default: return nil
        }
    }

    /// The numeric payload as a double.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The boolean payload, or nil when this is not a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, or nil when this is not an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, or nil when this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup on objects; nil for missing keys and non-objects.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// A short name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A JSON object that remembers the order of its keys; a later duplicate key replaces the earlier value.
///
/// Keys compare by their UTF-8 bytes, not by Swift's canonical-equivalence `String` equality: a vocabulary
/// may hold both "\u{E0}" and "a\u{300}" as distinct tokens.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// Key-value pairs in document order.
    public private(set) var entries: [(key: String, value: JSONValue)]
    private var index: [ExactString: Int]

    /// An empty object.
    public init() {
        self.entries = []
        self.index = [:]
    }

    /// An object with the given pairs in order.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    /// The number of keys.
    public var count: Int { entries.count }

    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    /// Reads or writes a member; writing nil removes it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = index[ExactString(key)] else { return nil }
            return entries[i].value
        }
        set {
            if let i = index[ExactString(key)] {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                    index = [:]
                    for (j, e) in entries.enumerated() { index[ExactString(e.key)] = j }
                }
            } else if let newValue {
                index[ExactString(key)] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        entries.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (k, v) in lhs.entries where rhs[k] != v { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for (k, v) in entries.sorted(by: { $0.key < $1.key }) {
            hasher.combine(k)
            hasher.combine(v)
        }
    }
}
