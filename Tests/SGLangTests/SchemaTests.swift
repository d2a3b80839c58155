import JSON
import SGLang
import Testing

/// JSON Schemas derived from Decodable types: properties, required (not optionals), nested objects, arrays,
/// enums, and a type's own schema.
struct SchemaTests {
    enum Mood: String, Codable, CaseIterable { case happy, sad }

    struct Pet: Codable {
        var name: String
        var legs: Int
    }

    struct Person: Codable {
        var name: String
        var age: Int
        var height: Double
        var student: Bool
        var nickname: String?
        var tags: [String]
        var pet: Pet
        var mood: Mood
    }

    struct Custom: Codable, JSONSchemaConvertible {
        var x: Int
        static var jsonSchema: JSONValue { .object(JSONObject([("type", .string("integer"))])) }
    }

    static func type(_ name: String) -> JSONValue { .object(JSONObject([("type", .string(name))])) }

    @Test func derivedFromCodable() throws {
        let schema = try JSONValue.parse(try JSONSchema(Person.self).text)
        #expect(schema["type"]?.stringValue == "object")
        let props = try #require(schema["properties"]?.objectValue)
        #expect(props.keys == ["name", "age", "height", "student", "nickname", "tags", "pet", "mood"])
        #expect(props["name"] == Self.type("string"))
        #expect(props["age"] == Self.type("integer"))
        #expect(props["height"] == Self.type("number"))
        #expect(props["student"] == Self.type("boolean"))
        #expect(props["nickname"] == Self.type("string"))
        #expect(props["tags"]?["type"]?.stringValue == "array")
        #expect(props["tags"]?["items"] == Self.type("string"))
        #expect(props["pet"]?["properties"]?["legs"] == Self.type("integer"))
        #expect(props["pet"]?["required"] == .array([.string("name"), .string("legs")]))
        #expect(props["mood"]?["enum"] == .array([.string("happy"), .string("sad")]))
        let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(required == ["name", "age", "height", "student", "tags", "pet", "mood"])
        #expect(try JSONSchema(Custom.self).text == #"{"type":"integer"}"#)
    }
}
