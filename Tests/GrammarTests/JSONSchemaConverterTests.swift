import Foundation
import Grammar
import JSON
import Testing

@Suite struct JSONSchemaConverterTests {
    /// Every fixture schema: the regex equals outlines' (with its two bugs fixed) where outlines supports the
    /// schema, and the DFA agrees with Python's `re.fullmatch` on outlines' regex and with `jsonschema` on
    /// hand-written instances.
    @Test func matchesOutlinesAndJSONSchema() throws {
        let fixtures = try GrammarFixtures.load("schema_cases.json")
        let cases = try #require(fixtures["cases"]?.arrayValue)
        #expect(cases.count >= 20)
        for c in cases {
            let name = try #require(c["name"]?.stringValue)
            let schema = try #require(c["schema"]?.stringValue)
            let regex = try JSONSchemaConverter.regex(schemaText: schema)
            // no_required: same language as outlines, written without its redundant optional prefixes.
            if let expected = c["expected_regex"]?.stringValue, name != "no_required" {
                #expect(regex == expected, "\(name)")
            }
            let dfa = try RegexCompiler.compile(regex)
            for s in try #require(c["samples"]?.arrayValue) {
                let text = try #require(s["text"]?.stringValue)
                let expected = (s["match"] ?? s["valid"]) == .bool(true)
                #expect(dfa.matches(text) == expected, "\(name): \(text.debugDescription)")
            }
        }
    }

    /// Strings sampled from each schema's DFA (deterministic seed) are the ones Python validated with
    /// `jsonschema` (format checks on) and every one of them is valid. Set GRAMMAR_DUMP_SAMPLES=path to
    /// write fresh samples for `scripts/make_grammar_fixtures.py --validate-dfa-samples path`.
    @Test func dfaSamplesValidate() throws {
        let fixtures = try GrammarFixtures.load("schema_cases.json")
        let validated = try GrammarFixtures.load("schema_dfa_samples.json")
        var dump: [(String, JSONValue)] = []
        var total = 0
        for c in try #require(fixtures["cases"]?.arrayValue) {
            let name = try #require(c["name"]?.stringValue)
            let dfa = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: try #require(c["schema"]?.stringValue)))
            let sampler = DFASampler(dfa)
            var rng = SplitMix64(seed: 42)
            var texts: [String] = []
            for _ in 0..<12 {
                let bytes = try #require(sampler.sample(using: &rng))
                let text = try #require(String(validating: bytes, as: UTF8.self))
                #expect(dfa.matches(text))
                #expect((try? JSONValue.parse(text)) != nil, "\(name): not JSON: \(text)")
                texts.append(text)
            }
            dump.append((name, .array(texts.map { .string($0) })))
        }
        if let path = ProcessInfo.processInfo.environment["GRAMMAR_DUMP_SAMPLES"] {
            try JSONValue.object(JSONObject(dump)).serialized().write(toFile: path, atomically: true, encoding: .utf8)
        }
        for (name, texts) in dump {
            let rows = try #require(validated[name]?.arrayValue, "\(name) has no validated samples")
            #expect(rows.compactMap { $0["text"] } == (texts.arrayValue ?? []), "\(name): samples changed; regenerate")
            for row in rows { #expect(row["valid"] == .bool(true), "\(name): jsonschema rejects \(row["text"]?.stringValue ?? "")") }
            total += rows.count
        }
        #expect(total >= 300)
    }

    @Test func integerRanges() throws {
        for (lo, hi) in [(18, 120), (-4, 999), (-120, -18), (0, 0), (7, 7), (-1000, 1000), (123, 4567)] {
            let dfa = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: "{\"type\":\"integer\",\"minimum\":\(lo),\"maximum\":\(hi)}"))
            for v in (lo - 30)...(hi + 30) { #expect(dfa.matches(String(v)) == (lo...hi).contains(v), "\(lo)...\(hi): \(v)") }
            #expect(!dfa.matches("0\(abs(hi))"))  // no leading zeros
        }
        let open = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: #"{"type":"integer","exclusiveMinimum":-3}"#))
        for v in -50...5000 { #expect(open.matches(String(v)) == (v > -3)) }
        #expect(open.matches("123456789012"))
        let below = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: #"{"type":"integer","maximum":-7}"#))
        for v in -500...50 { #expect(below.matches(String(v)) == (v <= -7)) }
    }

    @Test func invalidSchemas() {
        for text in ["{", #"{"type":"strin"}"#, ##"{"$ref":"#/$defs/Missing"}"##, #"{"enum":[[1]]}"#,
                     #"{"type":"string","minLength":5,"maxLength":2}"#, #"{"type":"string","pattern":"(a"}"#,
                     #"{"type":"integer","minimum":5,"maximum":2}"#, #"{"type":"string","format":"hostname"}"#, "[]"] {
            #expect(throws: GrammarError.self, "\(text)") { try JSONSchemaConverter.regex(schemaText: text) }
        }
    }

    @Test func recursionIsBounded() throws {
        let schema = ##"{"$defs":{"N":{"type":"object","properties":{"v":{"type":"integer"},"c":{"type":"array","items":{"$ref":"#/$defs/N"}}},"required":["v","c"]}},"$ref":"#/$defs/N"}"##
        let dfa = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: schema, options: JSONSchemaOptions(maxRecursionDepth: 2)))
        #expect(dfa.matches(#"{"v":1,"c":[{"v":2,"c":[]}]}"#))
        #expect(!dfa.matches(#"{"v":1,"c":[{"v":2,"c":[{"v":3,"c":[]}]}]}"#))
    }

    @Test func anyJSONAndWhitespaceOption() throws {
        let any = try RegexCompiler.compile(JSONSchemaConverter.anyJSON())
        for ok in ["1", "-2.5e+3", "\"x\"", "null", "true", "[1, \"a\", [2]]", #"{"a": {"b": [1]}}"#] { #expect(any.matches(ok), "\(ok)") }
        for bad in ["", "[1,]", "{a:1}", "tru"] { #expect(!any.matches(bad), "\(bad)") }
        let obj = try RegexCompiler.compile(JSONSchemaConverter.anyJSONObject(options: JSONSchemaOptions(whitespacePattern: #"[\n\t ]*"#)))
        #expect(obj.matches("{\n\t\"a\" :  1,\n \"b\": [true, null]\n}"))
        #expect(!obj.matches("[1]"))
    }

    /// The frontend's `dtype` regexes (spec §1.3).
    @Test func dtypeRegexes() throws {
        let int = try RegexCompiler.compile(BuiltinRegex.int)
        #expect(int.matches("-42 \n") && int.matches("+7") && !int.matches("4.2"))
        let float = try RegexCompiler.compile(BuiltinRegex.float)
        #expect(float.matches("-.5") && float.matches("3.14\n") && float.matches("12") && !float.matches("1."))
        let bool = try RegexCompiler.compile(BuiltinRegex.bool)
        #expect(bool.matches("True") && bool.matches("False") && !bool.matches("true"))
        let str = try RegexCompiler.compile(BuiltinRegex.string)
        #expect(str.matches("\"Hello world 42\"") && !str.matches("\"a,b\""))
        #expect(BuiltinRegex.regex(forDType: "int") == BuiltinRegex.int)
        #expect(BuiltinRegex.regex(forDType: "str") == BuiltinRegex.string)
        #expect(BuiltinRegex.regex(forDType: "list") == nil)
    }
}
