import Foundation
import JSON
import Runtime
import Testing
import Tokenizers

/// Constrained decoding through the engine with SmolLM2: the grammar token budget (`EngineOptions
/// .disableGrammarTokenBudget`) and jump-forward output consistency. Outputs are judged independently of the
/// grammar module: JSON by this repository's JSON parser and the schema's fields, regexes by Swift `Regex`.
@Suite(.serialized) struct GrammarEngineTests {
    /// Unbounded strings: greedy SmolLM2 writes far more than the budget allows.
    static let storySchema = #"{"type":"object","properties":{"title":{"type":"string"},"story":{"type":"string"}},"required":["title","story"]}"#
    static let storyQuestion = "Write a long fairy tale about a dragon and a knight. Answer as JSON with a title and the story."

    func engine(budget: Bool, jumpForward: Bool = true) throws -> Engine {
        let model: LoadedModel
        do { model = try RuntimeFixtures.smolLM2.get() } catch {
            Issue.record("cannot load SmolLM2: \(error)")
            throw error
        }
        return try Engine(model: model, options: EngineOptions(
            contextLength: 2048, maxTotalTokens: 4096, disableRegexJumpForward: !jumpForward,
            disableGrammarTokenBudget: !budget))
    }

    func chatPrompt(_ engine: Engine, _ question: String) throws -> [Int] {
        guard let tokenizer = engine.tokenizer else { throw RuntimeError.invalidInput("no tokenizer") }
        var message = JSONObject()
        message["role"] = .string("user")
        message["content"] = .string(question)
        let text = try ChatTemplate(tokenizer: tokenizer).apply(messages: .array([.object(message)]), addGenerationPrompt: true)
        return tokenizer.encode(text, addSpecialTokens: false)
    }

    func final(_ engine: Engine, _ request: GenerateRequest) async throws -> GenerateOutput {
        var last: GenerateOutput?
        for try await out in engine.generate(request) { last = out }
        guard let last else { throw RuntimeError.invalidInput("no output") }
        return last
    }

    /// Whether `text` is a JSON object with string `title` and `story` (what the schema requires).
    static func isStory(_ text: String) -> Bool {
        guard let value = try? JSONValue.parse(text), value.objectValue != nil else { return false }
        return value["title"]?.stringValue != nil && value["story"]?.stringValue != nil
    }

    /// With the budget (the default) a JSON-schema request cut by max_new_tokens still ends in a complete,
    /// valid object within the limit; without it the same greedy request is truncated mid-string.
    @Test(arguments: [8, 16])
    func jsonSchemaFinishesWithinMaxNewTokens(maxNewTokens: Int) async throws {
        var outputs: [Bool: GenerateOutput] = [:]
        for budget in [true, false] {
            let engine = try engine(budget: budget)
            defer { engine.shutdown() }
            let prompt = try chatPrompt(engine, Self.storyQuestion)
            outputs[budget] = try await final(engine, GenerateRequest(
                rid: "story", prompt: .ids(prompt),
                sampling: SamplingParams(maxNewTokens: maxNewTokens, temperature: 0, jsonSchema: Self.storySchema)))
            #expect(await engine.checkMemory() == nil)
        }
        let on = try #require(outputs[true]), off = try #require(outputs[false])
        #expect(Self.isStory(on.text), "budget on: \(on.text)")
        #expect(on.completionTokens <= maxNewTokens)
        // Off: the model is still writing its story when the limit cuts it.
        #expect(off.finishReason == .length(maxNewTokens))
        #expect(off.completionTokens == maxNewTokens)
        #expect(!Self.isStory(off.text), "budget off: \(off.text)")
    }

    /// Sampled (T = 0.7, three seeds) regex requests with a tight budget all end in a full match; the budget
    /// counts jump-forward tokens too.
    @Test func sampledRegexFinishesWithinMaxNewTokens() async throws {
        let engine = try engine(budget: true)
        defer { engine.shutdown() }
        let pattern = #"Answer: [a-z ]{1,60}\. Confidence: (low|medium|high)\."#
        let prompt = try chatPrompt(engine, "Why is the sky blue? Answer in one sentence and give your confidence.")
        for seed in 1...3 {
            let out = try await final(engine, GenerateRequest(
                rid: "why-\(seed)", prompt: .ids(prompt),
                sampling: SamplingParams(maxNewTokens: 16, temperature: 0.7, regex: pattern, seed: UInt64(seed))))
            #expect(out.text.wholeMatch(of: try Regex(pattern)) != nil, "seed \(seed): \(out.text)")
            #expect(out.completionTokens <= 16)
        }
    }

    /// Jump-forward output stays in the grammar: the forced tokens move the matcher once (they were accepted
    /// a second time before, which let free fields swallow forced text: `"name": ",\n    "house": …`).
    @Test func jumpForwardOutputMatchesItsRegex() async throws {
        let pattern = #"\{\n    "name": "[a-zA-Z ]{1,16}",\n    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n    "wand": \{\n        "wood": "[a-zA-Z ]{1,16}",\n        "length": [0-9]{1,2}\.[0-9]{0,2}\n    \},\n    "patronus": "[a-zA-Z ]{1,16}"\n\}"#
        let engine = try engine(budget: true)
        defer { engine.shutdown() }
        let prompt = try chatPrompt(engine, "Describe a Harry Potter character as JSON: name, house, wand, patronus.")
        let regex = try Regex(pattern)
        for seed in 1...2 {
            let out = try await final(engine, GenerateRequest(
                rid: "character-\(seed)", prompt: .ids(prompt),
                sampling: SamplingParams(maxNewTokens: 160, temperature: 0.7, regex: pattern, seed: UInt64(seed))))
            #expect(out.text.wholeMatch(of: regex) != nil, "seed \(seed): \(out.text)")
            // Most of the text is forced: far fewer tokens were sampled than emitted.
            #expect(out.completionTokensWithoutJumpForward * 2 < out.completionTokens,
                    "\(out.completionTokensWithoutJumpForward) of \(out.completionTokens) sampled")
            let decoded = engine.tokenizer?.decode(out.outputIds.filter { !engine.model.eosTokenIds.contains($0) })
            #expect(decoded == out.text)
        }
        #expect(await engine.checkMemory() == nil)
    }

    /// `constrainedJSONWhitespacePattern` ("" here) reaches the schema compiler: no whitespace outside
    /// strings; an invalid pattern stops the engine from starting.
    @Test func jsonWhitespacePattern() async throws {
        let model = try RuntimeFixtures.smolLM2.get()
        let engine = try Engine(model: model, options: EngineOptions(
            contextLength: 2048, maxTotalTokens: 4096, constrainedJSONWhitespacePattern: ""))
        defer { engine.shutdown() }
        let schema = #"{"type":"object","properties":{"name":{"type":"string","maxLength":20},"house":{"enum":["Gryffindor","Slytherin"]},"year":{"type":"integer"}},"required":["name","house","year"]}"#
        let prompt = try chatPrompt(engine, "Describe a Hogwarts student as JSON with name, house and year.")
        let out = try await final(engine, GenerateRequest(
            rid: "compact", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 48, temperature: 0, jsonSchema: schema)))
        let value = try JSONValue.parse(out.text)
        #expect(value["name"]?.stringValue != nil && value["year"]?.intValue != nil, "\(out.text)")
        let outsideStrings = out.text.replacing(/"(?:[^"\\]|\\.)*"/, with: "")
        let spaces = outsideStrings.filter(\.isWhitespace).count
        #expect(spaces == 0, "\(out.text)")
        #expect(throws: RuntimeError.self) {
            _ = try Engine(model: model, options: EngineOptions(maxTotalTokens: 64, constrainedJSONWhitespacePattern: "[ "))
        }
    }
}
