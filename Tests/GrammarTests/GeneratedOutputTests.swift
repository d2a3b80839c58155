import Grammar
import JSON
import Testing

/// SmolLM2-135M outputs generated under the suite's constraints through the serving engine (`sglang
/// eval-grammar`: `Runtime.Engine`, 16 requests in flight, jump-forward and the grammar token budget on,
/// temperature 0.7, sampling seeds 1-3, prompts in the model's chat template) and judged by Python's
/// `re.fullmatch` / `jsonschema` in scripts/grammar_eval.py: every one is valid, and this DFA accepts every one.
@Suite struct GeneratedOutputTests {
    @Test func everyConstrainedOutputValidates() throws {
        let rows = try #require(try GrammarFixtures.load("smollm2_outputs.checked.json").arrayValue)
        var regexNames: Set<String> = [], schemaNames: Set<String> = []
        var dfas: [String: ByteDFA] = [:]
        for row in rows {
            let kind = try #require(row["kind"]?.stringValue)
            let name = try #require(row["name"]?.stringValue)
            let text = try #require(row["text"]?.stringValue)
            #expect(row["valid"] == .bool(true), "\(name) seed \(row["seed"]?.intValue ?? 0): \(text)")
            let source = try #require(row[kind]?.stringValue)
            let key = kind + "\u{0}" + source
            if dfas[key] == nil {
                dfas[key] = try RegexCompiler.compile(kind == "regex" ? source : JSONSchemaConverter.regex(schemaText: source))
            }
            #expect(dfas[key]?.matches(text) == true, "\(name): \(text)")
            if kind == "regex" { regexNames.insert(name) } else { schemaNames.insert(name) }
        }
        #expect(regexNames.count >= 30)
        #expect(schemaNames.count >= 20)
        #expect(rows.count >= 3 * (regexNames.count + schemaNames.count))
    }
}
