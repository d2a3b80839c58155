import Foundation
import JSON
import SGLang
import Testing
import Tokenizers

/// The frontend's chat templates: the v0.3 registry and path matching (spec §1.13), and the model's own Jinja
/// template driven role by role, checked against transformers' renderings.
struct PromptTemplateTests {
    /// Every v0.3 template is registered, and model paths pick the template SGLang v0.3 picks.
    @Test func registryAndPathMatching() throws {
        let names = ["default", "claude", "chatml", "qwen", "chatml-llava", "vicuna_v1.1", "yi-1.5", "llama-2-chat",
                     "llama-3-instruct", "yi-vl", "gemma-it", "dbrx-instruct", "c4ai-command-r"]
        #expect(Set(PromptTemplate.registry.keys) == Set(names))
        let cases: [(String, String?)] = [
            ("meta-llama/Llama-2-7b-chat-hf", "llama-2-chat"),
            ("mistralai/Mistral-7B-Instruct-v0.2", "llama-2-chat"),
            ("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-instruct"),
            ("Qwen/Qwen2-7B-Instruct", "qwen"),
            ("lmms-lab/llava-onevision-qwen2-7b-ov", "chatml-llava"),
            ("liuhaotian/llava-v1.5-7b", "vicuna_v1.1"),
            ("databricks/dbrx-instruct", "dbrx-instruct"),
            ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "chatml"),
            ("google/gemma-2b-it", "gemma-it"),
            ("01-ai/Yi-34B-Chat", "chatml-llava"),
            ("01-ai/Yi-1.5-9B-Chat", "yi-1.5"),
            ("01-ai/Yi-VL-6B", "yi-vl"),
            ("CohereForAI/c4ai-command-r-v01", "c4ai-command-r"),
            ("models/SmolLM2-135M-Instruct.Q4_1.gguf", nil),
        ]
        for (path, expected) in cases {
            #expect(PromptTemplate.matchName(modelPath: path) == expected, "\(path)")
        }
        #expect(PromptTemplate.matching(modelPath: "unknown/model").name == "default")
        #expect(throws: SGLangError.self) { try PromptTemplate.named("no-such-template") }
    }

    /// Table templates: prefix + content + suffix per message; Llama-2's system message sits inside the first
    /// [INST] block and the following user message has no prefix of its own.
    @Test func tablePrompts() throws {
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                        ChatMessage(role: "assistant", content: "Hello")]
        let chatml = try PromptTemplate.named("chatml")
        var expected = ""
        for m in messages { expected += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        #expect(try chatml.prompt(for: messages) == expected)
        let llama2 = try PromptTemplate.named("llama-2-chat")
        #expect(try llama2.prompt(for: messages)
                == "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]Hello </s><s>")
        let qwen = try PromptTemplate.named("qwen")
        #expect(try qwen.prompt(for: [ChatMessage(role: "system", content: "")])
                == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
    }
}
