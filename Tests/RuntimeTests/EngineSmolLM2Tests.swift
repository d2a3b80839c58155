import Foundation
import JSON
import Runtime
import Testing
import Tokenizers

/// The engine on SmolLM2 with its tokenizer: text prompts, stop strings, and constrained decoding (regex and
/// JSON schema, with and without jump-forward).
@Suite(.serialized) struct EngineSmolLM2Tests {
    static let engine: Result<Engine, any Error> = Result {
        try Engine(model: try RuntimeFixtures.smolLM2.get(), options: EngineOptions(contextLength: 2048, maxTotalTokens: 8192))
    }

    func engine() throws -> Engine {
        do { return try Self.engine.get() } catch {
            Issue.record("cannot start the SmolLM2 engine: \(error)")
            throw error
        }
    }

    func chatPrompt(_ engine: Engine, _ question: String) throws -> [Int] {
        guard let tokenizer = engine.tokenizer else { throw RuntimeError.invalidInput("no tokenizer") }
        let template = try ChatTemplate(tokenizer: tokenizer)
        var message = JSONObject()
        message["role"] = .string("user")
        message["content"] = .string(question)
        let text = try template.apply(messages: .array([.object(message)]), addGenerationPrompt: true)
        return tokenizer.encode(text, addSpecialTokens: false)
    }

    func final(_ engine: Engine, _ request: GenerateRequest) async throws -> GenerateOutput {
        var last: GenerateOutput?
        for try await out in engine.generate(request) { last = out }
        guard let last else { throw RuntimeError.invalidInput("no output") }
        return last
    }

    /// Greedy chat answer as `sglang generate` prints it; a stop string cuts the text before it.
    @Test func chatAnswerAndStopString() async throws {
        let engine = try engine()
        let prompt = try chatPrompt(engine, "What is the capital of France?")
        let answer = try await final(engine, GenerateRequest(
            rid: "paris", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 32, temperature: 0)))
        #expect(answer.text == "The capital of France is Paris.")
        #expect(answer.finishReason?.type == "stop")
        let cut = try await final(engine, GenerateRequest(
            rid: "cut", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 32, stop: [" Paris"], temperature: 0)))
        #expect(cut.text == "The capital of France is")
        #expect(cut.finishReason == .matchedString(" Paris"))
        // The second request reused the first one's prompt KV.
        #expect(cut.cachedTokens >= prompt.count - 1)
    }

    /// Regex and JSON-schema constrained outputs match their grammar; jump-forward emits the forced text
    /// without sampling it (fewer sampled tokens, same kind of output).
    @Test func constrainedDecodingWithAndWithoutJumpForward() async throws {
        let loaded = try RuntimeFixtures.smolLM2.get()
        let schema = #"{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"}},"required":["name","age"]}"#
        let prompt = try chatPrompt(try engine(), "Describe a person as JSON with name and age.")
        var sampled: [Bool: Int] = [:]
        for jumpForward in [true, false] {
            let engine = try Engine(model: loaded, options: EngineOptions(
                contextLength: 2048, maxTotalTokens: 4096, disableRegexJumpForward: !jumpForward))
            defer { engine.shutdown() }
            let out = try await final(engine, GenerateRequest(
                rid: "json", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 64, temperature: 0, jsonSchema: schema)))
            let value = try JSONValue.parse(out.text)
            #expect(value["name"]?.stringValue != nil, "\(out.text)")
            #expect(value["age"]?.intValue != nil, "\(out.text)")
            sampled[jumpForward] = out.completionTokensWithoutJumpForward
            if !jumpForward { #expect(out.completionTokensWithoutJumpForward == out.completionTokens) }

            let regexOut = try await final(engine, GenerateRequest(
                rid: "regex", prompt: .ids(prompt),
                sampling: SamplingParams(maxNewTokens: 24, temperature: 0, regex: "Answer: (yes|no), because [a-z ]{1,20}\\.")))
            #expect(regexOut.text.wholeMatch(of: /Answer: (yes|no), because [a-z ]{1,20}\./) != nil, "\(regexOut.text)")
            #expect(await engine.checkMemory() == nil)
        }
        #expect((sampled[true] ?? 0) < (sampled[false] ?? 0))
    }

    /// Invalid grammars are rejected before the request runs.
    @Test func invalidGrammarIsRejected() throws {
        let engine = try engine()
        #expect(throws: RuntimeError.self) {
            _ = try engine.prepare(GenerateRequest(rid: "bad", prompt: .text("x"), sampling: SamplingParams(regex: "(unclosed")))
        }
        #expect(throws: RuntimeError.self) {
            _ = try engine.prepare(GenerateRequest(rid: "bad2", prompt: .text("x"), sampling: SamplingParams(jsonSchema: "{not json")))
        }
    }
}
