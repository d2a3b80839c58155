import Foundation
import JSON
import Jinja
import Testing

@testable import Tokenizers

/// `ChatTemplate`: transformers' `apply_chat_template(tokenize=False)` context on top of the Jinja interpreter.
@Suite struct ChatTemplateTests {
    @Test func smolLM2TokenizerTemplateMatchesTransformers() throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.path("smollm2/hf-tokenizer"))
        let chat = try ChatTemplate(tokenizer: tokenizer)
        let rows = try CoreFixtures.jsonLines("smollm2/chat_template.jsonl")
        #expect(rows.count == 10)
        for (i, row) in rows.enumerated() {
            let got = try chat.apply(
                messages: row["messages"] ?? .array([]),
                addGenerationPrompt: row["add_generation_prompt"]?.boolValue ?? false)
            #expect(got == row["rendered"]?.stringValue, "row \(i)")
        }
    }

    @Test func casesFixtureThroughChatTemplate() throws {
        // The Jinja suite covers every row; here a sample goes through ChatTemplate's own context building.
        let rows = try CoreFixtures.jsonLines("chat_templates/cases.jsonl")
        for row in rows where ["qwen2.5-instruct.jinja", "tool-llama3.1-json.jinja", "tool-mistral.jinja", "chatml.jinja"]
            .contains(row["template"]?.stringValue ?? "")
        {
            let name = try #require(row["template"]?.stringValue)
            let source = try String(contentsOfFile: try CoreFixtures.path("chat_templates/templates/\(name)"), encoding: .utf8)
            let extra = row["extra"]?.objectValue ?? JSONObject()
            let chat = try ChatTemplate(
                source, bosToken: extra["bos_token"]?.stringValue, eosToken: extra["eos_token"]?.stringValue)
            var vars: [String: JSONValue] = [:]
            for (k, v) in extra where k != "bos_token" && k != "eos_token" { vars[k] = v }
            let tools = row["tools"].flatMap { $0.isNull ? nil : $0 }
            let label = "\(name) / \(row["case"]?.stringValue ?? "")"
            do {
                let got = try chat.apply(
                    messages: row["messages"] ?? .array([]), tools: tools,
                    addGenerationPrompt: row["add_generation_prompt"]?.boolValue ?? false, extra: vars)
                #expect(got == row["rendered"]?.stringValue, "\(label)")
            } catch JinjaError.raised(let message, _) {
                #expect(row["error"]?.stringValue == "TemplateError: " + message, "\(label)")
            }
        }
    }

    @Test func contextHasToolsDocumentsAndExtras() throws {
        let chat = try ChatTemplate(
            "{{ bos_token }}|{{ tools is none }}|{{ documents | length }}|{{ add_generation_prompt }}|{{ enable_thinking }}|{{ eos_token }}",
            bosToken: "<s>", eosToken: "</s>")
        let got = try chat.apply(
            messages: .array([]), documents: .array([.object(JSONObject([("text", .string("d"))]))]),
            addGenerationPrompt: true, extra: ["enable_thinking": .bool(false), "eos_token": .string("<E>")])
        #expect(got == "<s>|True|1|True|False|<E>")
    }

    @Test func missingTemplateIsAClearError() throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.path("smollm2/hf-tokenizer"))
        #expect(throws: TokenizerError.self) { try ChatTemplate(tokenizer: tokenizer, name: "no_such_template") }
    }
}
