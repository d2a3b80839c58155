import JSON

/// A JSON Schema for `gen(jsonSchema:)`: JSON text, a `JSONValue`, or derived from a Swift type.
///
/// `JSONSchema(Person.self)` derives the schema of a `Decodable` type by decoding it with a recording decoder
/// (`SchemaRecorder`): stored properties become `properties` (all `required` except optionals), `String`,
/// integers, floating-point numbers and `Bool` map to their JSON types, arrays to `items`, nested types to
/// nested objects. A type that conforms to `JSONSchemaConvertible` supplies its own schema instead (use that
/// for enums and custom coding).
public struct JSONSchema: Sendable, Hashable, ExpressibleByStringLiteral {
    /// The schema as JSON text.
    public var text: String

    /// A schema from JSON text.
    public init(_ text: String) { self.text = text }
    public init(stringLiteral value: String) { text = value }
    /// A schema from a JSON value.
    public init(_ value: JSONValue) { text = value.serialized() }

    /// The schema of a Swift type (see the type's documentation for the rules).
    /// - Throws: `SGLangError.invalidProgram` when the type cannot be described (an unsupported shape).
    public init<T: Decodable>(_ type: T.Type) throws {
        text = try SchemaRecorder.schema(of: type).serialized()
    }
}

/// A type that describes its own JSON Schema (takes precedence over the derived one).
public protocol JSONSchemaConvertible {
    /// The schema.
    static var jsonSchema: JSONValue { get }
}
