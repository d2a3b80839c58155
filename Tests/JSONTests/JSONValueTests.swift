import Testing
@testable import JSON

struct JSONValueTests {
    @Test func parsesAndKeepsKeyOrder() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": [true, null, 2.5, "x\u00e9\n"], "c": {}}"#)
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v["a"]?.arrayValue?[2].doubleValue == 2.5)
        #expect(v["a"]?.arrayValue?[3].stringValue == "xé\n")
    }

    @Test func writesPythonStyle() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": ["é", 1.0, null]}"#)
        #expect(v.serialized(.python()) == #"{"b": 1, "a": ["\u00e9", 1.0, null]}"#)
        #expect(v.serialized(.python(ensureASCII: false)) == #"{"b": 1, "a": ["é", 1.0, null]}"#)
        #expect(v.serialized(.python(indent: 2)) == "{\n  \"b\": 1,\n  \"a\": [\n    \"\\u00e9\",\n    1.0,\n    null\n  ]\n}")
        #expect(v.serialized() == #"{"b":1,"a":["é",1.0,null]}"#)
    }

    @Test func keysCompareByBytes() throws {
        // Canonically equivalent spellings are distinct keys (tokenizer vocabularies rely on it).
        let v = try JSONValue.parse("{\"\u{E0}\": 1, \"a\u{300}\": 2}")
        #expect(v.objectValue?.count == 2)
        #expect(v["\u{E0}"]?.intValue == 1)
        #expect(v["a\u{300}"]?.intValue == 2)
    }

    @Test func surrogatePairsAndErrors() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#).stringValue == "😀")
        #expect(JSONValue.string("😀").serialized(.python()) == #""\ud83d\ude00""#)
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01x", "[1] 2"] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bad) }
        }
        let deep = String(repeating: "[", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }
}
