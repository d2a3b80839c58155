import JSON
import Runtime

/// `--backend` of `bench-serving`: which API the client speaks.
public enum ServingBackend: String, Sendable, CaseIterable {
    /// SGLang's native `POST /generate`.
    case sglang
    /// Same as `sglang`.
    case sglangNative = "sglang-native"
    /// OpenAI `POST /v1/completions`.
    case sglangOAI = "sglang-oai"
    /// OpenAI `POST /v1/chat/completions`.
    case sglangOAIChat = "sglang-oai-chat"

    /// The endpoint's path.
    public var path: String {
        switch self {
        case .sglang, .sglangNative: "/generate"
        case .sglangOAI: "/v1/completions"
        case .sglangOAIChat: "/v1/chat/completions"
        }
    }

    /// Whether this is an OpenAI-style API (needs a model name).
    public var isOpenAI: Bool { self == .sglangOAI || self == .sglangOAIChat }

    /// The request body SGLang's client sends: greedy, `max_new_tokens`/`max_tokens` = the output length,
    /// `ignore_eos` unless disabled; `extra` is merged in last (it wins).
    public func payload(prompt: PromptInput, outputLen: Int, model: String, stream: Bool, ignoreEOS: Bool,
                        extra: JSONObject? = nil) -> JSONValue {
        var body = JSONObject()
        let promptValue: JSONValue = switch prompt {
        case .text(let t): .string(t)
        case .ids(let ids): .array(ids.map { .int($0) })
        }
        switch self {
        case .sglang, .sglangNative:
            if case .ids = prompt { body["input_ids"] = promptValue } else { body["text"] = promptValue }
            body["sampling_params"] = .object(JSONObject([
                ("temperature", .double(0)), ("max_new_tokens", .int(outputLen)), ("ignore_eos", .bool(ignoreEOS)),
            ]))
            body["stream"] = .bool(stream)
            body["return_logprob"] = .bool(false)
            body["logprob_start_len"] = .int(-1)
        case .sglangOAI:
            body["model"] = .string(model)
            body["prompt"] = promptValue
            body["temperature"] = .double(0)
            body["best_of"] = .int(1)
            body["max_tokens"] = .int(outputLen)
            body["stream"] = .bool(stream)
            body["ignore_eos"] = .bool(ignoreEOS)
        case .sglangOAIChat:
            let text: String = switch prompt {
            case .text(let t): t
            case .ids(let ids): ids.map(String.init).joined(separator: " ")
            }
            body["model"] = .string(model)
            body["messages"] = .array([.object(JSONObject([("role", .string("user")), ("content", .string(text))]))])
            body["temperature"] = .double(0)
            body["max_tokens"] = .int(outputLen)
            body["stream"] = .bool(stream)
            body["ignore_eos"] = .bool(ignoreEOS)
        }
        if isOpenAI, stream {
            // The final usage chunk gives the exact completion token count.
            body["stream_options"] = .object(JSONObject([("include_usage", .bool(true))]))
        }
        for (key, value) in extra ?? JSONObject() { body[key] = value }
        return .object(body)
    }

    /// What one streamed data payload (or a whole non-streamed body) says.
    public struct Chunk: Sendable, Hashable {
        /// New text (OpenAI: the delta; native: the cumulative text).
        public var text: String
        /// The server's completion token count so far, when reported.
        public var completionTokens: Int?
    }

    /// Reads one payload: a stream chunk (`streamed`) or a complete response.
    /// - Throws: `BenchError.http` for a payload that is not the expected JSON.
    public func parse(_ payload: String, streamed: Bool) throws -> Chunk {
        let json: JSONValue
        do { json = try JSONValue.parse(payload) } catch {
            throw BenchError.http("a response payload is not JSON: \(payload.prefix(200))")
        }
        if let error = json["error"], !error.isNull {
            throw BenchError.http("the server reported an error: \(payload.prefix(300))")
        }
        switch self {
        case .sglang, .sglangNative:
            return Chunk(text: json["text"]?.stringValue ?? "",
                         completionTokens: json["meta_info"]?["completion_tokens"]?.intValue)
        case .sglangOAI, .sglangOAIChat:
            let choice = json["choices"]?.arrayValue?.first
            let text: String
            if self == .sglangOAI {
                text = choice?["text"]?.stringValue ?? ""
            } else {
                text = (streamed ? choice?["delta"]?["content"] : choice?["message"]?["content"])?.stringValue ?? ""
            }
            return Chunk(text: text, completionTokens: json["usage"]?["completion_tokens"]?.intValue)
        }
    }
}
