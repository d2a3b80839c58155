import JSON

/// Reads typed fields of a JSON request object, throwing a 400 that names the field and the expected type
/// ("max_tokens must be an integer ≥ 0"). A missing key and an explicit `null` both read as nil.
struct FieldReader {
    let object: JSONObject
    /// Prefix for field names in messages (e.g. "sampling_params.").
    let prefix: String

    init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Reads the body of a request: a JSON object.
    static func body(_ value: JSONValue) throws -> FieldReader {
        guard let o = value.objectValue else {
            throw ServerError.badRequest("the request body must be a JSON object, found \(value.typeName)")
        }
        return FieldReader(o)
    }

    func name(_ key: String) -> String { prefix + key }

    func fail(_ key: String, _ expected: String) -> ServerError {
        let found = object[key].map(\.typeName) ?? "nothing"
        return ServerError.badRequest("\(name(key)) must be \(expected), found \(found)", param: name(key))
    }

    /// The raw value, nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func int(_ key: String, min: Int? = nil, max: Int? = nil) throws -> Int? {
        guard let v = value(key) else { return nil }
        let expected = Self.describe("an integer", min: min, max: max)
        guard v.boolValue == nil, let i = v.intValue else { throw fail(key, expected) }
        if let lo = min, i < lo { throw ServerError.badRequest("\(name(key)) must be \(expected), found \(i)", param: name(key)) }
        if let hi = max, i > hi { throw ServerError.badRequest("\(name(key)) must be \(expected), found \(i)", param: name(key)) }
        return i
    }

    func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw fail(key, "a number") }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw fail(key, "a boolean") }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw fail(key, "a string") }
        return s
    }

    func object(_ key: String) throws -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard let o = v.objectValue else { throw fail(key, "an object") }
        return o
    }

    /// A string or a list of strings, as a list.
    func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        if let s = v.stringValue { return [s] }
        guard let a = v.arrayValue else { throw fail(key, "a string or a list of strings") }
        return try a.map { item in
            guard let s = item.stringValue else { throw fail(key, "a string or a list of strings") }
            return s
        }
    }

    /// A list of integers.
    func ints(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else { throw fail(key, "a list of integers") }
        return try a.map { item in
            guard item.boolValue == nil, let i = item.intValue else { throw fail(key, "a list of integers") }
            return i
        }
    }

    /// Fails when a key outside `known` carries a value: for fields this server cannot honour.
    func rejectUnsupported(_ keys: [String]) throws {
        for key in keys where has(key) {
            throw ServerError.badRequest("\(name(key)) is not supported by this server", param: name(key))
        }
    }

    static func describe(_ base: String, min: Int?, max: Int?) -> String {
        switch (min, max) {
        case let (lo?, hi?): return "\(base) in [\(lo), \(hi)]"
        case let (lo?, nil): return "\(base) ≥ \(lo)"
        case let (nil, hi?): return "\(base) ≤ \(hi)"
        default: return base
        }
    }
}
