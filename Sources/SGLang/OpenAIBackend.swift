import Foundation
import JSON
import Synchronization
import Tokenizers

/// A backend on an OpenAI-compatible API (SGLang's `OpenAI`, spec §1.10): completion models through
/// `POST {baseURL}/completions` with the program's text as the prompt, chat models through
/// `POST {baseURL}/chat/completions` with the program's messages. Any base URL works, e.g. an SGLang server's
/// `http://host:port/v1`.
///
/// - Chat models: a gen must come right after `assistant` begins (the API continues whole messages), unless
///   the program runs with API speculative execution (`ChatSpeculation`); `select` is not supported.
/// - Completion models: `select` scores choices token by token with `logit_bias` (needs the model's
///   tokenizer); `dtype: .string` quotes the prompt, `dtype: .int` biases digit tokens (needs the tokenizer).
/// - `jsonSchema` is sent as `response_format` (OpenAI structured outputs; SGLang servers honour it);
///   `regex`, `top_k`, `min_p`, `ignore_eos` and `stop_token_ids` need `sglangExtensions` (an SGLang server,
///   whose OpenAI API takes them), else regex is an `unsupported` error and the others are dropped as SGLang does.
/// - Connection errors, 429 and 5xx are retried (`retries` attempts, `retryDelay` apart); other errors throw
///   `SGLangError.backend` with the status and the server's message.
public final class OpenAI: Backend, ChatSpeculativeBackend {
    /// Completion (not chat) models by name (SGLang's `INSTRUCT_MODEL_NAMES`).
    public static let instructModelNames: Set<String> = ["gpt-3.5-turbo-instruct"]

    /// The `model` field of every request.
    public let modelName: String
    public let isChatModel: Bool
    /// Whether the server is SGLang's OpenAI API (regex, dtype, top_k, min_p, ignore_eos, stop_token_ids).
    public let sglangExtensions: Bool
    /// The model's tokenizer (SGLang uses tiktoken): `select` and `dtype: .int` on completion models need it.
    public let tokenizer: Tokenizer?
    let api: APIClient
    let template: PromptTemplate
    private let usage = Mutex(TokenUsage())
    /// `dtype: .int`'s logit bias, built once.
    let intBias = Mutex<JSONObject?>(nil)

    /// Prompt and completion tokens summed over every call (SGLang's `token_usage`).
    public struct TokenUsage: Sendable, Hashable {
        public var promptTokens = 0
        public var completionTokens = 0
    }

    /// A backend on `baseURL` (`http://host:port/v1`).
    /// - Parameters:
    ///   - apiKey: sent as `Authorization: Bearer`; nil reads `OPENAI_API_KEY`; nothing is sent when empty or unset.
    ///   - isChatModel: nil: chat unless the model is in `instructModelNames` (SGLang's rule).
    ///   - chatTemplate: how roles render into the program's text; nil matches the model name (spec §1.13).
    ///   - baseURL: the API root; `https://` goes through TLS.
    /// - Throws: `SGLangError.invalidProgram` for a malformed URL.
    public init(model: String, baseURL: String = "https://api.openai.com/v1", apiKey: String? = nil, isChatModel: Bool? = nil,
                chatTemplate: PromptTemplate? = nil, tokenizer: Tokenizer? = nil, sglangExtensions: Bool = false,
                retries: Int = 3, retryDelay: Duration = .seconds(5)) throws {
        modelName = model
        self.isChatModel = isChatModel ?? !Self.instructModelNames.contains(model)
        self.sglangExtensions = sglangExtensions
        self.tokenizer = tokenizer
        template = chatTemplate ?? PromptTemplate.matching(modelPath: model)
        let key = (apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]).flatMap { $0.isEmpty ? nil : $0 }
        api = try APIClient(baseURL: baseURL, headers: key.map { [("Authorization", "Bearer \($0)")] } ?? [],
                            retries: retries, retryDelay: retryDelay)
    }

    public func chatTemplate() async throws -> PromptTemplate { template }

    /// Tokens used so far.
    public var tokenUsage: TokenUsage { usage.withLock { $0 } }

    /// Zeroes `tokenUsage`.
    public func resetTokenUsage() { usage.withLock { $0 = TokenUsage() } }

    func record(_ response: JSONValue) {
        guard let u = response["usage"], !u.isNull else { return }
        usage.withLock {
            $0.promptTokens += u["prompt_tokens"]?.intValue ?? 0
            $0.completionTokens += u["completion_tokens"]?.intValue ?? 0
        }
    }

    // MARK: generation

    public func generate(_ context: ProgramContext, _ params: SamplingParameters) async throws -> Generation {
        let call = try request(context, params, stream: false)
        let response = try await api.post(call.path, .object(call.body))
        record(response)
        guard let choice = response["choices"]?.arrayValue?.first else {
            throw SGLangError.backend("POST \(call.path) answered without choices: \(response.serialized().prefix(300))")
        }
        let content = isChatModel ? choice["message"]?["content"] : choice["text"]
        guard let text = content?.stringValue ?? (content?.isNull == true ? "" : nil) else {
            throw SGLangError.backend("POST \(call.path) answered without text: \(response.serialized().prefix(300))")
        }
        return Generation(text: call.quote ? "\"" + text + "\"" : text, meta: Self.meta(response, choice))
    }

    public func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let call = try request(context, params, stream: true)
                    guard !call.quote else {
                        throw SGLangError.unsupported("dtype on a streamed gen (OpenAI backend)")
                    }
                    var meta = JSONObject()
                    var sentMeta = JSONObject()
                    try await api.stream(call.path, .object(call.body)) { event in
                        if let error = event["error"], !error.isNull {
                            throw SGLangError.backend("POST \(call.path) stream error: "
                                                      + (error["message"]?.stringValue ?? error.serialized()))
                        }
                        if let id = event["id"] { meta["id"] = id }
                        if let u = event["usage"], !u.isNull {
                            self.record(event)
                            meta["prompt_tokens"] = u["prompt_tokens"]
                            meta["completion_tokens"] = u["completion_tokens"]
                        }
                        guard let choice = event["choices"]?.arrayValue?.first else { return }
                        if let f = choice["finish_reason"], !f.isNull { meta["finish_reason"] = f }
                        if let m = choice["matched_stop"], !m.isNull { meta["matched_stop"] = m }
                        let piece = (self.isChatModel ? choice["delta"]?["content"] : choice["text"])?.stringValue ?? ""
                        guard !piece.isEmpty else { return }
                        continuation.yield(Generation(text: piece, meta: meta))
                        sentMeta = meta
                    }
                    if meta != sentMeta { continuation.yield(Generation(text: "", meta: meta)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// SGLang-style meta info from a response: `id`, `finish_reason`, `matched_stop`, token counts, `logprobs`.
    static func meta(_ response: JSONValue, _ choice: JSONValue) -> JSONObject {
        var m = JSONObject()
        if let id = response["id"] { m["id"] = id }
        if let f = choice["finish_reason"] { m["finish_reason"] = f }
        if let s = choice["matched_stop"] { m["matched_stop"] = s }
        if let u = response["usage"], !u.isNull {
            m["prompt_tokens"] = u["prompt_tokens"]
            m["completion_tokens"] = u["completion_tokens"]
        }
        if let l = choice["logprobs"], !l.isNull { m["logprobs"] = l }
        return m
    }

    // MARK: API speculative execution (chat)

    /// Runs one speculated assistant turn (spec §1.12): one chat completion of `maxTokens` tokens with the
    /// turn's sampling parameters and no stop strings, split into the turn's fills and gens; up to three tries
    /// until the output matches the turn's constant text. `context.messages` are the messages before the turn.
    public func speculateAssistantTurn(_ context: ProgramContext,
                                       _ turn: ChatSpeculation) async throws -> ChatSpeculation.Outcome {
        guard isChatModel else {
            throw SGLangError.unsupported("\(modelName) is a completion model: its speculative execution runs per gen")
        }
        guard let params = turn.params else { return turn.fallback(nil) }
        var p = params
        p.maxNewTokens = turn.maxTokens
        p.stop = []
        var body = try request(context, p, stream: false, speculating: true).body
        body["stop"] = nil
        var last: ChatSpeculation.Outcome?
        for _ in 0..<ChatSpeculation.maxTries {
            let response = try await api.post("/chat/completions", .object(body))
            record(response)
            let text = response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
            let outcome = turn.match(text)
            if outcome.matched { return outcome }
            last = outcome
        }
        return last ?? turn.fallback(nil)
    }
}
