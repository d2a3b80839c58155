import Foundation
import JSON
@testable import Server
import Testing
import Tokenizers

extension ServerTests {
    /// `--chat-template` conversation templates (FastChat style, spec §5).
    @Suite struct ConversationTemplateServerTests {
        /// The built-in chatml template renders what SmolLM2's own Jinja (a chatml template) renders.
        @Test func chatmlMatchesSmolLM2sJinjaTemplate() throws {
            let tokenizer = try #require(try ServerFixture.model().tokenizer)
            let jinja = try ChatTemplate(tokenizer: tokenizer)
            let messages: [(String, String)] = [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "Capital of France?")]
            let json = JSONValue.array(messages.map { obj(("role", str($0.0)), ("content", str($0.1))) })
            let expected = try jinja.apply(messages: json, addGenerationPrompt: true)
            let chatml = try #require(ConversationTemplate.builtins["chatml"])
            #expect(try chatml.prompt(messages.map { (role: $0.0, text: $0.1) }) == expected)
        }

        /// A JSON template file as SGLang documents it; a .jinja file replaces the tokenizer's template.
        @Test func templateFilesAndErrors() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sglang-server-tests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let jsonPath = dir.appendingPathComponent("t.json").path
            try #"{"name": "my", "system": "<|im_start|>system", "user": "<|im_start|>user", "assistant": "<|im_start|>assistant", "sep_style": "CHATML", "sep": "<|im_end|>", "stop_str": ["<|im_start|>"]}"#
                .write(toFile: jsonPath, atomically: true, encoding: .utf8)
            let tokenizer = try ServerFixture.model().tokenizer
            guard case .conversation(let conv) = try ChatPromptBuilder.resolve(jsonPath, tokenizer: tokenizer) else {
                Issue.record("a .json file must give a conversation template")
                return
            }
            #expect(try conv.prompt([(role: "system", text: "S"), (role: "user", text: "U")])
                == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
            #expect(conv.stopStrings == ["<|im_start|>"])
            let jinjaPath = dir.appendingPathComponent("t.jinja").path
            try "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"
                .write(toFile: jinjaPath, atomically: true, encoding: .utf8)
            let builder = try ChatPromptBuilder.resolve(jinjaPath, tokenizer: tokenizer)
            let rendered = try builder.render(messages: [obj(("role", str("user")), ("content", str("x")))], tools: nil,
                                              extra: [:], tokenizer: tokenizer)
            #expect(rendered.text == "[user]x[assistant]")
            #expect(throws: ServerError.self) { try ChatPromptBuilder.resolve("no-such-template", tokenizer: tokenizer) }
            #expect(throws: ServerError.self) { try ChatPromptBuilder.resolve(dir.appendingPathComponent("missing.json").path, tokenizer: tokenizer) }
        }
    }
}
