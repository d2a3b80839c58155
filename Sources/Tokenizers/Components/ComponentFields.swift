import JSON

/// Typed access to the fields of one tokenizer.json component object, with errors that name the
/// component kind, its type and the offending field.
struct ComponentFields: Sendable {
    let kind: String
    let json: JSONValue

    init(kind: String, json: JSONValue) throws {
        guard json.objectValue != nil else {
            throw TokenizerError.invalidComponent(kind: kind, reason: "expected an object, found \(json.typeName)")
        }
        self.kind = kind
        self.json = json
    }

    private var typeLabel: String { json["type"]?.stringValue ?? kind }

    private func wrong(_ key: String, _ expected: String, _ found: JSONValue) -> TokenizerError {
        .invalidComponent(kind: kind, reason: "\(typeLabel).\(key) must be \(expected), found \(found.typeName)")
    }

    private func missing(_ key: String) -> TokenizerError {
        .invalidComponent(kind: kind, reason: "\(typeLabel) is missing the field '\(key)'")
    }

    /// The value of `key`, treating an explicit `null` as absent.
    func value(_ key: String) -> JSONValue? {
        guard let v = json[key], !v.isNull else { return nil }
        return v
    }

    func string(_ key: String) throws -> String {
        guard let v = value(key) else { throw missing(key) }
        guard let s = v.stringValue else { throw wrong(key, "a string", v) }
        return s
    }

    func string(_ key: String, default d: String) throws -> String {
        guard value(key) != nil else { return d }
        return try string(key)
    }

    func optionalString(_ key: String) throws -> String? {
        guard value(key) != nil else { return nil }
        return try string(key)
    }

    func bool(_ key: String) throws -> Bool {
        guard let v = value(key) else { throw missing(key) }
        guard let b = v.boolValue else { throw wrong(key, "a boolean", v) }
        return b
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard value(key) != nil else { return d }
        return try bool(key)
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard value(key) != nil else { return nil }
        return try bool(key)
    }

    func int(_ key: String) throws -> Int {
        guard let v = value(key) else { throw missing(key) }
        guard let i = v.intValue else { throw wrong(key, "an integer", v) }
        return i
    }

    func int(_ key: String, default d: Int) throws -> Int {
        guard value(key) != nil else { return d }
        return try int(key)
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard value(key) != nil else { return nil }
        return try int(key)
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let v = value(key) else { throw missing(key) }
        guard let a = v.arrayValue else { throw wrong(key, "an array", v) }
        return a
    }

    func object(_ key: String) throws -> JSONObject {
        guard let v = value(key) else { throw missing(key) }
        guard let o = v.objectValue else { throw wrong(key, "an object", v) }
        return o
    }

    func invalid(_ reason: String) -> TokenizerError {
        .invalidComponent(kind: kind, reason: "\(typeLabel): \(reason)")
    }
}
