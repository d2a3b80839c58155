import Foundation
import JSON
import Synchronization

/// A backend on Anthropic's Messages API (SGLang's `Anthropic`, spec §1.10): `POST {baseURL}/v1/messages` with
/// `x-api-key` and `anthropic-version: 2023-06-01`. The prompt is the program's messages (a leading system
/// message becomes the top-level `system` field), or one user message holding the text when the program has
/// no messages. Chat template "claude".
///
/// Sampling (SGLang's `to_anthropic_kwargs`): `max_tokens` (required by the API), `stop_sequences`,
/// `temperature`, and `top_p` / `top_k` when set (top_p below 1, top_k above 0: newer models reject both
/// temperature and top_p, and the API has no "unset" value for top_k). Penalties are dropped; regex, dtype and
/// JSON schemas are `unsupported` errors. Streams read the SSE `content_block_delta` events.
public final class Anthropic: Backend {
    /// The API version header every request carries.
    public static let apiVersion = "2023-06-01"

    public let modelName: String
    let api: APIClient
    let template: PromptTemplate
    private let usage = Mutex(TokenUsage())

    /// Input and output tokens summed over every call.
    public struct TokenUsage: Sendable, Hashable {
        public var inputTokens = 0
        public var outputTokens = 0
    }

    /// A backend for `model`.
    /// - Parameters:
    ///   - apiKey: the `x-api-key` header; nil reads `ANTHROPIC_API_KEY`.
    ///   - baseURL: the API root (requests go to `{baseURL}/v1/messages`).
    /// - Throws: `SGLangError.invalidProgram` without an API key or for a malformed URL.
    public init(model: String, apiKey: String? = nil, baseURL: String = "https://api.anthropic.com",
                retries: Int = 3, retryDelay: Duration = .seconds(5)) throws {
        guard let key = apiKey ?? ProcessInfo.processInfo.environment["ANTHROPIC_API_KEY"], !key.isEmpty else {
            throw SGLangError.invalidProgram("Anthropic needs an API key (apiKey: or ANTHROPIC_API_KEY)")
        }
        modelName = model
        template = (try? PromptTemplate.named("claude")) ?? PromptTemplate.matching(modelPath: "")
        api = try APIClient(baseURL: baseURL, headers: [("x-api-key", key), ("anthropic-version", Self.apiVersion)],
                            retries: retries, retryDelay: retryDelay)
    }

    public func chatTemplate() async throws -> PromptTemplate { template }

    /// Tokens used so far.
    public var tokenUsage: TokenUsage { usage.withLock { $0 } }

    private func record(_ u: JSONValue?) {
        guard let u, !u.isNull else { return }
        usage.withLock {
            $0.inputTokens += u["input_tokens"]?.intValue ?? 0
            $0.outputTokens += u["output_tokens"]?.intValue ?? 0
        }
    }

    /// The Messages API body for a gen.
    /// - Throws: `SGLangError.unsupported` for constrained gens, `.invalidProgram` for a system message that is
    ///   not the first.
    func body(_ context: ProgramContext, _ p: SamplingParameters, stream: Bool) throws -> JSONObject {
        if p.regex != nil || p.dtype != nil || p.jsonSchema != nil || !p.stopRegex.isEmpty {
            throw SGLangError.unsupported("regex, dtype, jsonSchema and stopRegex on Anthropic (the Messages API has no "
                                          + "constrained decoding or stop patterns)")
        }
        var messages = context.messages.isEmpty ? [ChatMessage(role: "user", content: context.text)] : context.messages
        var system: String?
        if messages.first?.role == "system" { system = messages.removeFirst().content }
        if let misplaced = messages.firstIndex(where: { $0.role == "system" }) {
            throw SGLangError.invalidProgram("Anthropic takes one system message, before the others (message "
                                             + "\(misplaced + (system == nil ? 0 : 1)) is a system message)")
        }
        var o = JSONObject()
        o["model"] = .string(modelName)
        o["max_tokens"] = .int(p.maxNewTokens)
        if let system, !system.isEmpty { o["system"] = .string(system) }
        o["messages"] = .array(messages.map(Self.message))
        if !p.stop.isEmpty { o["stop_sequences"] = .array(p.stop.map(JSONValue.string)) }
        o["temperature"] = .double(p.temperature)
        if p.topP < 1 { o["top_p"] = .double(p.topP) }
        if p.topK > 0 { o["top_k"] = .int(p.topK) }
        if stream { o["stream"] = .bool(true) }
        return o
    }

    /// A message in the Messages API's shape: text content, or text and image blocks.
    static func message(_ m: ChatMessage) -> JSONValue {
        guard !m.images.isEmpty else {
            return .object(JSONObject([("role", .string(m.role)), ("content", .string(m.content))]))
        }
        var blocks: [JSONValue] = m.images.map { image in
            let source: JSONObject
            if let data = image.base64 {
                source = JSONObject([("type", .string("base64")), ("media_type", .string("image/jpeg")),
                                     ("data", .string(data))])
            } else {
                source = JSONObject([("type", .string("url")), ("url", .string(image.url))])
            }
            return .object(JSONObject([("type", .string("image")), ("source", .object(source))]))
        }
        blocks.append(.object(JSONObject([("type", .string("text")), ("text", .string(m.content))])))
        return .object(JSONObject([("role", .string(m.role)), ("content", .array(blocks))]))
    }

    public func generate(_ context: ProgramContext, _ params: SamplingParameters) async throws -> Generation {
        let response = try await api.post("/v1/messages", .object(body(context, params, stream: false)))
        record(response["usage"])
        guard let blocks = response["content"]?.arrayValue else {
            throw SGLangError.backend("/v1/messages answered without content: \(response.serialized().prefix(300))")
        }
        let text = blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
        var meta = JSONObject()
        if let id = response["id"] { meta["id"] = id }
        if let r = response["stop_reason"] { meta["stop_reason"] = r }
        if let s = response["stop_sequence"] { meta["stop_sequence"] = s }
        if let u = response["usage"] {
            meta["prompt_tokens"] = u["input_tokens"]
            meta["completion_tokens"] = u["output_tokens"]
        }
        return Generation(text: text, meta: meta)
    }

    public func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let request = try body(context, params, stream: true)
                    var meta = JSONObject()
                    var sentMeta = JSONObject()
                    try await api.stream("/v1/messages", .object(request)) { event in
                        switch event["type"]?.stringValue {
                        case "message_start"?:
                            let message = event["message"]
                            if let id = message?["id"] { meta["id"] = id }
                            if let n = message?["usage"]?["input_tokens"] { meta["prompt_tokens"] = n }
                            self.record(message?["usage"])
                        case "content_block_delta"?:
                            guard event["delta"]?["type"]?.stringValue == "text_delta",
                                  let text = event["delta"]?["text"]?.stringValue, !text.isEmpty else { return }
                            continuation.yield(Generation(text: text, meta: meta))
                            sentMeta = meta
                        case "message_delta"?:
                            if let r = event["delta"]?["stop_reason"] { meta["stop_reason"] = r }
                            if let s = event["delta"]?["stop_sequence"] { meta["stop_sequence"] = s }
                            if let n = event["usage"]?["output_tokens"] {
                                meta["completion_tokens"] = n
                                self.record(.object(JSONObject([("output_tokens", n)])))
                            }
                        case "error"?:
                            let message = event["error"]?["message"]?.stringValue ?? event.serialized()
                            throw SGLangError.backend("/v1/messages stream error: \(message)")
                        default:
                            break
                        }
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
}
