import JSON
import Runtime

/// What the OpenAI request asked for beyond the engine requests themselves.
struct OpenAIOptions: Sendable {
    /// The `model` field (nil: not given).
    var model: String?
    var stream = false
    /// `stream_options.include_usage`.
    var includeUsage = false
    /// `stream_options.continuous_usage_stats`.
    var continuousUsage = false
    /// Completions: `logprobs` (top-N); chat: `top_logprobs` when `logprobs` is true. nil: no logprobs.
    var logprobs: Int?
    /// Completions: prepend the prompt.
    var echo = false
}

/// A parsed `/v1/completions` body (spec §4.1).
struct CompletionInput: Sendable {
    var items: [PromptItem]
    /// The prompt texts for `echo` (token-id prompts are decoded by the route).
    var prompts: [PromptInput]
    var options: OpenAIOptions
}

/// A parsed `/v1/chat/completions` body (spec §4.2) before the template is applied.
struct ChatInput: Sendable {
    /// Messages with string contents (list contents where a message holds images).
    var messages: [JSONValue]
    /// The `image_url` URLs of every message, in order.
    var images: [String] = []
    var tools: JSONValue?
    var templateKwargs: [String: JSONValue]
    /// The request template: its prompt is filled in after rendering.
    var item: PromptItem
    var options: OpenAIOptions
}

/// Parses the OpenAI request bodies with field-level 400s.
enum OpenAIRequestParser {
    static let maxTopLogprobs = 20

    /// The fields both endpoints share.
    static func common(_ f: FieldReader, defaults: SamplingDefaults, defaultMaxTokens: Int?) throws
        -> (SamplingParams, explicit: Bool, OpenAIOptions, rid: String?, timeout: Double?)
    {
        var p = SamplingParams()
        let maxTokens = try f.int("max_tokens", min: 0)
        let maxCompletion = try f.int("max_completion_tokens", min: 0)
        let max = maxCompletion ?? maxTokens
        if let max {
            p.maxNewTokens = max
        } else {
            p.maxNewTokens = defaultMaxTokens ?? (1 << 30)
        }
        p.minNewTokens = try f.int("min_tokens", min: 0) ?? 0
        try SamplingParamsParser.readCommon(f, into: &p, defaults: defaults)
        if let seed = try f.int("seed") { p.seed = UInt64(bitPattern: Int64(seed)) }
        if let format = try f.object("response_format") {
            let rf = FieldReader(format, prefix: "response_format.")
            switch try rf.string("type") {
            case "text"?, nil: break
            case "json_object"?: p.jsonSchema = "$$ANY$$"
            case "json_schema"?:
                guard let spec = try rf.object("json_schema"), let schema = spec["schema"], schema.objectValue != nil
                        || schema.boolValue != nil else {
                    throw ServerError.badRequest("response_format.json_schema.schema must be a JSON schema object", param: "response_format")
                }
                p.jsonSchema = schema.serialized()
            case let other?:
                throw ServerError.badRequest(
                    "response_format.type must be text, json_object or json_schema, found \(other)", param: "response_format")
            }
        }
        var o = OpenAIOptions()
        o.model = try f.string("model")
        o.stream = try f.bool("stream") ?? false
        if let so = try f.object("stream_options") {
            let s = FieldReader(so, prefix: "stream_options.")
            o.includeUsage = try s.bool("include_usage") ?? false
            o.continuousUsage = try s.bool("continuous_usage_stats") ?? false
        }
        _ = try f.string("user")
        let rid = try f.string("rid")
        let timeout = try f.double("timeout")
        if let t = timeout, !(t > 0) { throw ServerError.badRequest("timeout must be > 0 seconds, found \(t)", param: "timeout") }
        return (p, max != nil, o, rid, timeout)
    }

    static func completion(_ body: JSONValue, defaults: SamplingDefaults, defaultTimeout: Double?) throws -> CompletionInput {
        let f = try FieldReader.body(body)
        try f.rejectUnsupported(["lora_path", "session_params", "custom_logit_processor"])
        var (params, explicit, options, rid, timeout) = try common(f, defaults: defaults, defaultMaxTokens: 16)
        options.echo = try f.bool("echo") ?? false
        options.logprobs = try f.int("logprobs", min: 0, max: maxTopLogprobs)
        _ = try f.int("best_of", min: 1)
        _ = try f.string("suffix")
        let prompts = try promptList(f, key: "prompt")
        let base = rid ?? GenerateRequestParser.newRid()
        let items = prompts.enumerated().map { i, prompt in
            PromptItem(
                request: GenerateRequest(
                    rid: prompts.count == 1 ? base : "\(base)-p\(i)", prompt: prompt, sampling: params,
                    returnLogprob: options.logprobs != nil, logprobStartLen: options.echo && options.logprobs != nil ? 0 : -1,
                    topLogprobsNum: options.logprobs ?? 0, returnTextInLogprobs: true, stream: options.stream,
                    timeout: timeout ?? defaultTimeout),
                maxTokensExplicit: explicit)
        }
        _ = params
        return CompletionInput(items: items, prompts: prompts, options: options)
    }

    /// An OpenAI prompt list (`prompt` of completions, `input` of embeddings): a string, a list of strings, a list of
    /// token ids, or a list of lists of token ids.
    static func promptList(_ f: FieldReader, key: String) throws -> [PromptInput] {
        guard let promptValue = f.value(key) else { throw ServerError.badRequest("\(key) is required", param: key) }
        let expected = "a string, a list of strings, a list of token ids or a list of lists of token ids"
        var prompts: [PromptInput] = []
        if let s = promptValue.stringValue {
            prompts = [.text(s)]
        } else if let list = promptValue.arrayValue, !list.isEmpty {
            if list.allSatisfy({ $0.stringValue != nil }) {
                prompts = list.compactMap { $0.stringValue.map(PromptInput.text) }
            } else if list.allSatisfy({ $0.boolValue == nil && $0.intValue != nil }) {
                prompts = [.ids(list.compactMap(\.intValue))]
            } else if list.allSatisfy({ $0.arrayValue != nil }) {
                prompts = try list.map { row in
                    let r = row.arrayValue ?? []
                    guard r.allSatisfy({ $0.boolValue == nil && $0.intValue != nil }) else { throw f.fail(key, expected) }
                    return .ids(r.compactMap(\.intValue))
                }
            } else {
                throw f.fail(key, expected)
            }
        } else if promptValue.arrayValue != nil {
            throw ServerError.badRequest("\(key) must not be an empty list", param: key)
        } else {
            throw f.fail(key, expected)
        }
        guard prompts.count <= GenerateRequestParser.maxBatch else {
            throw ServerError.badRequest("at most \(GenerateRequestParser.maxBatch) prompts per request, found \(prompts.count)", param: key)
        }
        return prompts
    }

    static let roles: Set<String> = ["system", "user", "assistant", "tool", "developer", "function"]

    static func chat(_ body: JSONValue, defaults: SamplingDefaults, defaultTimeout: Double?) throws -> ChatInput {
        let f = try FieldReader.body(body)
        try f.rejectUnsupported(["lora_path", "session_params", "custom_logit_processor"])
        if try f.bool("continue_final_message") == true {
            throw ServerError.badRequest("continue_final_message is not supported by this server", param: "continue_final_message")
        }
        var (params, explicit, options, rid, timeout) = try common(f, defaults: defaults, defaultMaxTokens: nil)
        let wantLogprobs = try f.bool("logprobs") ?? false
        let top = try f.int("top_logprobs", min: 0, max: maxTopLogprobs)
        if top != nil && top != 0 && !wantLogprobs {
            throw ServerError.badRequest("top_logprobs needs logprobs set to true", param: "top_logprobs")
        }
        options.logprobs = wantLogprobs ? (top ?? 0) : nil
        guard let list = f.value("messages")?.arrayValue else {
            throw f.has("messages") ? f.fail("messages", "a list of message objects")
                : ServerError.badRequest("messages is required", param: "messages")
        }
        guard !list.isEmpty else { throw ServerError.badRequest("messages must not be empty", param: "messages") }
        let messages = try list.enumerated().map { i, m in try normalize(m, index: i) }
        let images = messages.flatMap(ChatImages.urls)
        var tools: JSONValue?
        if let t = f.value("tools") {
            guard let arr = t.arrayValue else { throw f.fail("tools", "a list of tool objects") }
            tools = arr.isEmpty ? nil : t
        }
        switch f.value("tool_choice") {
        case nil: break
        case let v? where v.stringValue == "auto" || v.stringValue == "none": break
        case _?:
            throw ServerError.badRequest("tool_choice must be \"auto\" or \"none\" on this server (no tool-call parser)", param: "tool_choice")
        }
        if try f.string("tool_choice") == "none" { tools = nil }
        var kwargs: [String: JSONValue] = [:]
        if let k = try f.object("chat_template_kwargs") { for (key, v) in k { kwargs[key] = v } }
        let request = GenerateRequest(
            rid: rid ?? GenerateRequestParser.newRid(), prompt: .ids([]), sampling: params,
            returnLogprob: options.logprobs != nil, logprobStartLen: -1, topLogprobsNum: options.logprobs ?? 0,
            returnTextInLogprobs: true, stream: options.stream, timeout: timeout ?? defaultTimeout)
        _ = params
        return ChatInput(messages: messages, images: images, tools: tools, templateKwargs: kwargs,
                         item: PromptItem(request: request, maxTokensExplicit: explicit), options: options)
    }

    /// A message with a valid role and its content as a string (text parts joined by spaces).
    static func normalize(_ m: JSONValue, index i: Int) throws -> JSONValue {
        let field = "messages[\(i)]"
        guard var o = m.objectValue else {
            throw ServerError.badRequest("\(field) must be an object, found \(m.typeName)", param: "messages")
        }
        guard let role = o["role"]?.stringValue else {
            throw ServerError.badRequest("\(field).role must be a string", param: "messages")
        }
        guard roles.contains(role) else {
            throw ServerError.badRequest(
                "\(field).role must be one of \(roles.sorted().joined(separator: ", ")), found \(role)", param: "messages")
        }
        switch o["content"] {
        case nil, .null?:
            guard role == "assistant" else { throw ServerError.badRequest("\(field).content is required", param: "messages") }
        case .string?:
            break
        case .array(let parts)?:
            var texts: [String] = []
            if parts.contains(where: { $0["type"]?.stringValue == "image_url" }) {
                o["content"] = .array(try ChatImages.parts(parts, field: field))
                return .object(o)
            }
            for (j, part) in parts.enumerated() {
                guard let type = part["type"]?.stringValue else {
                    throw ServerError.badRequest("\(field).content[\(j)].type must be a string", param: "messages")
                }
                guard type == "text" else {
                    throw ServerError.badRequest(
                        "\(field).content[\(j)]: \(type) parts are not supported by this model (text only)", param: "messages")
                }
                guard let text = part["text"]?.stringValue else {
                    throw ServerError.badRequest("\(field).content[\(j)].text must be a string", param: "messages")
                }
                texts.append(text)
            }
            o["content"] = .string(texts.joined(separator: " "))
        case let other?:
            throw ServerError.badRequest(
                "\(field).content must be a string or a list of content parts, found \(other.typeName)", param: "messages")
        }
        return .object(o)
    }
}
