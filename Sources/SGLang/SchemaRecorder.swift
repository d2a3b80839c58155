import JSON

/// Derives a JSON Schema from a `Decodable` type by decoding one placeholder value with a decoder that records
/// what the type asks for (`JSONSchema.init(_:)` documents the rules).
final class SchemaRecorder: Decoder {
    enum Shape { case unknown, object, array, single }

    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var shape = Shape.unknown
    var properties: [(String, JSONValue)] = []
    var optional: Set<String> = []
    var items: JSONValue?
    var single: JSONValue?
    let depth: Int

    init(depth: Int) { self.depth = depth }

    /// The schema of a type (a `JSONSchemaConvertible` type's own schema when it has one).
    static func schema<T: Decodable>(of type: T.Type) throws -> JSONValue {
        if let c = type as? any JSONSchemaConvertible.Type { return c.jsonSchema }
        return try describe(type, depth: 0).schema
    }

    static func describe<T: Decodable>(_ type: T.Type, depth: Int) throws -> (schema: JSONValue, value: T) {
        if let (schema, value) = primitive(type), let v = value as? T { return (schema, v) }
        if let (first, values) = enumCases(type), let v = first as? T {
            let schema = (type as? any JSONSchemaConvertible.Type)?.jsonSchema
                ?? .object(JSONObject([("enum", .array(values))]))
            return (schema, v)
        }
        guard depth < 16 else {
            throw SGLangError.invalidProgram("\(T.self) nests too deeply (or recursively) for a JSON schema")
        }
        let recorder = SchemaRecorder(depth: depth + 1)
        let value: T
        do { value = try T(from: recorder) } catch let e as SGLangError { throw e } catch {
            throw SGLangError.invalidProgram("cannot derive a JSON schema for \(T.self): \(error)")
        }
        let schema = (type as? any JSONSchemaConvertible.Type)?.jsonSchema ?? recorder.schema()
        return (schema, value)
    }

    func schema() -> JSONValue {
        switch shape {
        case .object:
            var props = JSONObject()
            for (k, v) in properties { props[k] = v }
            let required = properties.map(\.0).filter { !optional.contains($0) }
            return .object(JSONObject([
                ("type", .string("object")), ("properties", .object(props)),
                ("required", .array(required.map(JSONValue.string))),
            ]))
        case .array:
            return .object(JSONObject([("type", .string("array")), ("items", items ?? .object(JSONObject()))]))
        case .single:
            return single ?? .object(JSONObject())
        case .unknown:
            return .object(JSONObject())
        }
    }

    static func type(_ name: String) -> JSONValue { .object(JSONObject([("type", .string(name))])) }

    static func primitive<T>(_ t: T.Type) -> (JSONValue, Any)? {
        switch t {
        case is String.Type: return (type("string"), "")
        case is Bool.Type: return (type("boolean"), false)
        case is Int.Type: return (type("integer"), 0 as Int)
        case is Int8.Type: return (type("integer"), 0 as Int8)
        case is Int16.Type: return (type("integer"), 0 as Int16)
        case is Int32.Type: return (type("integer"), 0 as Int32)
        case is Int64.Type: return (type("integer"), 0 as Int64)
        case is UInt.Type: return (type("integer"), 0 as UInt)
        case is UInt8.Type: return (type("integer"), 0 as UInt8)
        case is UInt16.Type: return (type("integer"), 0 as UInt16)
        case is UInt32.Type: return (type("integer"), 0 as UInt32)
        case is UInt64.Type: return (type("integer"), 0 as UInt64)
        case is Double.Type: return (type("number"), 0.0 as Double)
        case is Float.Type: return (type("number"), 0 as Float)
        default: return nil
        }
    }

    static func enumCases(_ t: Any.Type) -> (Any, [JSONValue])? {
        guard let c = t as? any CaseIterable.Type else { return nil }
        return cases(of: c)
    }

    private static func cases<E: CaseIterable>(of e: E.Type) -> (Any, [JSONValue])? {
        let all = Array(E.allCases)
        guard let first = all.first else { return nil }
        let values: [JSONValue] = all.map { item in
            let raw = (item as? any RawRepresentable)?.rawValue
            if let s = raw as? String { return .string(s) }
            if let i = raw as? Int { return .int(i) }
            return .string("\(item)")
        }
        return (first, values)
    }

    /// Records the schema of a value the type decodes and returns a placeholder for it.
    func record<T: Decodable>(_ type: T.Type, key: String?) throws -> T {
        let (schema, value) = try Self.describe(type, depth: depth)
        if let key {
            properties.removeAll { $0.0 == key }
            properties.append((key, schema))
        } else if shape == .array {
            items = schema
        } else {
            shape = .single
            single = schema
        }
        return value
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        shape = .object
        return KeyedDecodingContainer(KeyedRecorder<Key>(recorder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        shape = .array
        return UnkeyedRecorder(recorder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleRecorder(recorder: self)
    }
}

private struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    /// Asked only for optional properties (through `decodeIfPresent`): they are not required.
    func decodeNil(forKey key: Key) throws -> Bool {
        recorder.optional.insert(key.stringValue)
        return false
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try recorder.record(type, key: key.stringValue)
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try recorder.record(type, key: key.stringValue) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try recorder.record(type, key: key.stringValue) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw SGLangError.invalidProgram("custom nested containers cannot be described; conform to JSONSchemaConvertible")
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw SGLangError.invalidProgram("custom nested containers cannot be described; conform to JSONSchemaConvertible")
    }
    func superDecoder() throws -> any Decoder { recorder }
    func superDecoder(forKey key: Key) throws -> any Decoder { recorder }
}

private struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= 1 }

    init(recorder: SchemaRecorder) { self.recorder = recorder }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        return try recorder.record(type, key: nil)
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: String.Type) throws -> String { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Double.Type) throws -> Double { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Float.Type) throws -> Float { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Int.Type) throws -> Int { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { currentIndex += 1; return try recorder.record(type, key: nil) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw SGLangError.invalidProgram("custom nested containers cannot be described; conform to JSONSchemaConvertible")
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw SGLangError.invalidProgram("custom nested containers cannot be described; conform to JSONSchemaConvertible")
    }
    mutating func superDecoder() throws -> any Decoder { recorder }
}

private struct SingleRecorder: SingleValueDecodingContainer {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try recorder.record(type, key: nil) }
    func decode(_ type: Bool.Type) throws -> Bool { try recorder.record(type, key: nil) }
    func decode(_ type: String.Type) throws -> String { try recorder.record(type, key: nil) }
    func decode(_ type: Double.Type) throws -> Double { try recorder.record(type, key: nil) }
    func decode(_ type: Float.Type) throws -> Float { try recorder.record(type, key: nil) }
    func decode(_ type: Int.Type) throws -> Int { try recorder.record(type, key: nil) }
    func decode(_ type: Int8.Type) throws -> Int8 { try recorder.record(type, key: nil) }
    func decode(_ type: Int16.Type) throws -> Int16 { try recorder.record(type, key: nil) }
    func decode(_ type: Int32.Type) throws -> Int32 { try recorder.record(type, key: nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try recorder.record(type, key: nil) }
    func decode(_ type: UInt.Type) throws -> UInt { try recorder.record(type, key: nil) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try recorder.record(type, key: nil) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try recorder.record(type, key: nil) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try recorder.record(type, key: nil) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try recorder.record(type, key: nil) }
}
