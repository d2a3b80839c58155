import JSON

/// Typed access to the keys of a config object; a JSON `null` counts as absent (HF writes
/// `"sliding_window": null` for "not set"), and a value of the wrong kind is an error naming the key.
struct ConfigReader: Sendable {
    let object: JSONValue
    /// Prefix for error messages of nested objects, e.g. `rope_scaling.`.
    let keyPrefix: String

    init(_ object: JSONValue, keyPrefix: String = "") {
        self.object = object
        self.keyPrefix = keyPrefix
    }

    /// The value for `key`, or nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected an integer, found \(describe(v))")
        }
        return i
    }

    func requiredInt(_ key: String) throws -> Int {
        guard let i = try int(key) else { throw ModelError.missingField(keyPrefix + key) }
        return i
    }

    /// An integer that must be > 0 (sizes and counts).
    func positiveInt(_ key: String) throws -> Int? {
        guard let i = try int(key) else { return nil }
        guard i > 0 else { throw ModelError.invalidField(keyPrefix + key, reason: "must be positive, found \(i)") }
        return i
    }

    func requiredPositiveInt(_ key: String) throws -> Int {
        guard let i = try positiveInt(key) else { throw ModelError.missingField(keyPrefix + key) }
        return i
    }

    func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected a number, found \(describe(v))")
        }
        return d
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected true or false, found \(describe(v))")
        }
        return b
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected a string, found \(describe(v))")
        }
        return s
    }

    /// An integer or a list of integers (e.g. `eos_token_id`), as a list.
    func intList(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        if let i = v.intValue { return [i] }
        if let a = v.arrayValue {
            return try a.map { e in
                guard let i = e.intValue else {
                    throw ModelError.invalidField(keyPrefix + key, reason: "expected integers, found \(describe(e))")
                }
                return i
            }
        }
        throw ModelError.invalidField(keyPrefix + key, reason: "expected an integer or a list of integers, found \(describe(v))")
    }

    func doubleList(_ key: String) throws -> [Double]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected a list of numbers, found \(describe(v))")
        }
        return try a.map { e in
            guard let d = e.doubleValue else {
                throw ModelError.invalidField(keyPrefix + key, reason: "expected numbers, found \(describe(e))")
            }
            return d
        }
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard let a = v.arrayValue else {
            throw ModelError.invalidField(keyPrefix + key, reason: "expected a list of strings, found \(describe(v))")
        }
        return try a.map { e in
            guard let s = e.stringValue else {
                throw ModelError.invalidField(keyPrefix + key, reason: "expected strings, found \(describe(e))")
            }
            return s
        }
    }

    private func describe(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return "the string \"\(s.prefix(40))\""
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        default: return "a value of type \(v.typeName)"
        }
    }
}
