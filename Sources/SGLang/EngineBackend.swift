import Foundation
import JSON
import Runtime
import Tokenizers

/// The in-process backend: programs run on a `Runtime.Engine` in this process, no server (the only file of the
/// frontend that touches the runtime).
///
/// Chat template: the one given, else the registry's match for the model path, else the model's own Jinja
/// template (from its tokenizer), else "default".
public final class EngineBackend: Backend, PromptLogprobSource {
    /// The engine the programs run on.
    public let engine: Engine
    public let modelName: String
    private let template: PromptTemplate

    /// A backend over a running engine; `modelPath` names the model (and picks the chat template).
    public init(engine: Engine, modelPath: String, chatTemplate: PromptTemplate? = nil) {
        self.engine = engine
        modelName = modelPath
        template = chatTemplate ?? Self.template(modelPath: modelPath, tokenizer: engine.tokenizer)
    }

    /// Loads the model at `modelPath` (a Hugging Face folder or a GGUF file) and starts an engine on it.
    /// - Throws: the loader's or the engine's error.
    public convenience init(modelPath: String, options: EngineOptions = EngineOptions(),
                            chatTemplate: PromptTemplate? = nil) throws {
        let model = try ModelLoader.load(path: modelPath)
        self.init(engine: try Engine(model: model, options: options), modelPath: modelPath, chatTemplate: chatTemplate)
    }

    /// The registry's match for the path, else the tokenizer's own template, else "default".
    public static func template(modelPath: String, tokenizer: Tokenizer?) -> PromptTemplate {
        if let name = PromptTemplate.matchName(modelPath: modelPath), let t = PromptTemplate.registry[name] { return t }
        if let tokenizer, let jinja = try? ChatTemplate(tokenizer: tokenizer) {
            return PromptTemplate(jinja: jinja)
        }
        return PromptTemplate.matching(modelPath: modelPath)
    }

    public func chatTemplate() async throws -> PromptTemplate { template }

    static func newRid() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    /// The runtime request for a gen.
    func request(_ context: ProgramContext, _ p: SamplingParameters, stream: Bool) throws -> GenerateRequest {
        let q = p.resolvingDType()
        var sampling = SamplingParams(
            maxNewTokens: q.maxNewTokens, stop: q.stop, stopTokenIds: Set(q.stopTokenIds), temperature: q.temperature,
            topP: q.topP, topK: q.topK, minP: q.minP, frequencyPenalty: q.frequencyPenalty,
            presencePenalty: q.presencePenalty, ignoreEOS: q.ignoreEOS, regex: q.regex, jsonSchema: q.jsonSchema)
        sampling.stopRegex = q.stopRegex
        var request = GenerateRequest(
            rid: Self.newRid(), prompt: .text(context.text), sampling: sampling, returnLogprob: q.returnLogprob ?? false,
            logprobStartLen: q.logprobStartLen ?? -1, topLogprobsNum: q.topLogprobsNum ?? 0,
            returnTextInLogprobs: q.returnTextInLogprobs ?? false, stream: stream)
        // The engine decodes the images (and rejects them for a text-only model with its own message).
        request.imageData = context.images.map { image in
            if case .data(let bytes) = image.source { return .bytes(bytes) }
            return .source(image.imageData)
        }
        return request
    }

    /// Embeddings of `texts`, in order, from an engine that serves an embedding model (`ModelLoader.load(…,
    /// isEmbedding: true)`): each the last token's final hidden state, L2-normalized. The requests run together.
    /// - Throws: `SGLangError.backend` with the engine's refusal (a generation model) or an abort.
    public func encode(_ texts: [String]) async throws -> [[Float]] {
        let engine = self.engine
        do {
            let prepared = try texts.map { try engine.prepare(EmbeddingRequest(rid: Self.newRid(), prompt: .text($0))) }
            return try await engine.encode(prepared).enumerated().map { i, out in
                guard let e = out.embedding else {
                    throw SGLangError.backend("the embedding of text \(i) was not computed: \(out.finishReason.map { "\($0)" } ?? "no result")")
                }
                return e
            }
        } catch let e as SGLangError {
            throw e
        } catch {
            throw SGLangError.backend("\(error)")
        }
    }

    /// The embedding of one text (see `encode(_:)` for a batch).
    public func encode(_ text: String) async throws -> [Float] { try await encode([text])[0] }

    /// Runs a request to its end.
    func final(_ request: GenerateRequest) async throws -> GenerateOutput {
        var last: GenerateOutput?
        do {
            for try await out in engine.generate(request) { last = out }
        } catch {
            throw SGLangError.backend("\(error)")
        }
        guard let last else { throw SGLangError.backend("the engine gave no output for \(request.rid)") }
        if case .abort(let message, _)? = last.finishReason { throw SGLangError.backend(message) }
        return last
    }

    public func generate(_ context: ProgramContext, _ params: SamplingParameters) async throws -> Generation {
        let req = try request(context, params, stream: false)
        let out = try await final(req)
        return Generation(text: out.text, meta: Self.meta(out, req))
    }

    public func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error> {
        let engine = self.engine
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let req = try request(context, params, stream: true)
                    var sent = ""
                    for try await out in engine.generate(req) {
                        if case .abort(let message, _)? = out.finishReason { throw SGLangError.backend(message) }
                        // Outputs are cumulative; a text that no longer extends what was sent cannot be taken back.
                        let delta = out.text.hasPrefix(sent) ? String(out.text.dropFirst(sent.count)) : ""
                        if out.text.hasPrefix(sent) { sent = out.text }
                        if !delta.isEmpty || out.isFinished {
                            continuation.yield(Generation(text: delta, meta: Self.meta(out, req)))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func select(_ context: ProgramContext, choices: [String], temperature: Double,
                       method: ChoicesMethod) async throws -> ChoicesDecision {
        guard context.images.isEmpty else { throw SGLangError.unsupported("the in-process engine has no image input") }
        return try await LogprobChoiceScorer.select(self, text: context.text, choices: choices, method: method)
    }

    public func cachePrefix(_ prefix: String) async throws { _ = try await prefill(prefix) }

    public func commitLazyOperations(_ context: ProgramContext) async throws { _ = try await prefill(context.text) }

    public func flushCache() async throws -> Bool { await engine.flushCache() }

    // MARK: prompt logprobs

    func prefill(_ text: String) async throws -> Int {
        let req = GenerateRequest(rid: Self.newRid(), prompt: .text(text),
                                  sampling: SamplingParams(maxNewTokens: 0, temperature: 0))
        return try await final(req).promptTokens
    }

    func promptLogprobs(_ texts: [String], start: Int) async throws -> [[ScoredToken]] {
        try await scoreAll(texts.map { .text($0) }, start: start)
    }

    func promptLogprobs(ids: [[Int]]) async throws -> [[ScoredToken]] {
        try await scoreAll(ids.map { .ids($0) }, start: 0)
    }

    private func scoreAll(_ prompts: [PromptInput], start: Int) async throws -> [[ScoredToken]] {
        try await withThrowingTaskGroup(of: (Int, [ScoredToken]).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask {
                    if case .ids(let ids) = prompt, ids.isEmpty { return (i, []) }
                    let req = GenerateRequest(rid: Self.newRid(), prompt: prompt,
                                              sampling: SamplingParams(maxNewTokens: 0, temperature: 0),
                                              returnLogprob: true, logprobStartLen: start, returnTextInLogprobs: true)
                    let out = try await self.final(req)
                    return (i, (out.inputTokenLogprobs ?? []).map { ScoredToken(logprob: $0.logprob, id: $0.id, text: $0.text) })
                }
            }
            var results = [[ScoredToken]](repeating: [], count: prompts.count)
            for try await (i, r) in group { results[i] = r }
            return results
        }
    }

    // MARK: meta info

    static func entries(_ list: [LogprobEntry]?) -> JSONValue {
        .array((list ?? []).map { e in
            .array([e.logprob.map(JSONValue.double) ?? .null, .int(e.id), e.text.map(JSONValue.string) ?? .null])
        })
    }

    static func finishReason(_ reason: FinishReason?) -> JSONValue {
        guard let reason else { return .null }
        switch reason {
        case .length(let n): return .object(JSONObject([("type", .string("length")), ("length", .int(n))]))
        case .matchedToken(let id): return .object(JSONObject([("type", .string("stop")), ("matched", .int(id))]))
        case .matchedString(let s): return .object(JSONObject([("type", .string("stop")), ("matched", .string(s))]))
        case .abort(let m, let code):
            return .object(JSONObject([("type", .string("abort")), ("message", .string(m)), ("status_code", .int(code))]))
        }
    }

    /// The same `meta_info` fields the server sends (spec §2.3).
    static func meta(_ out: GenerateOutput, _ req: GenerateRequest) -> JSONObject {
        var m = JSONObject()
        m["id"] = .string(out.rid)
        m["finish_reason"] = finishReason(out.finishReason)
        m["prompt_tokens"] = .int(out.promptTokens)
        m["completion_tokens"] = .int(out.completionTokens)
        m["completion_tokens_wo_jump_forward"] = .int(out.completionTokensWithoutJumpForward)
        m["cached_tokens"] = .int(out.cachedTokens)
        if req.returnLogprob {
            m["input_token_logprobs"] = entries(out.inputTokenLogprobs)
            m["output_token_logprobs"] = entries(out.outputTokenLogprobs)
            m["normalized_prompt_logprob"] = out.normalizedPromptLogprob.map(JSONValue.double) ?? .null
        }
        return m
    }
}
