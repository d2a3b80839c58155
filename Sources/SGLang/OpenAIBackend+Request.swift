import JSON
import Tokenizers

extension OpenAI {
    /// One API call: the path under the base URL, the body, and whether the answer is wrapped in quotes
    /// (`dtype: .string` on completion models).
    struct Call {
        var path: String
        var body: JSONObject
        var quote = false
    }

    /// The request for a gen (spec §1.4 `to_openai_kwargs`, §1.10).
    /// - Throws: `SGLangError.invalidProgram` for a chat gen outside a fresh assistant turn,
    ///   `.unsupported` for constraints this API cannot express.
    func request(_ context: ProgramContext, _ params: SamplingParameters, stream: Bool,
                 speculating: Bool = false) throws -> Call {
        var p = sglangExtensions ? params.resolvingDType() : params
        var promptSuffix = ""
        var quote = false
        var logitBias: JSONObject?
        if let dtype = p.dtype {
            guard !isChatModel else {
                throw SGLangError.unsupported("dtype \(dtype.rawValue) on the chat model \(modelName) (constrained types "
                                              + "need a completion model, or sglangExtensions on an SGLang server)")
            }
            switch dtype {
            case .string:
                promptSuffix = "\""
                p.stop = ["\""]
                quote = true
            case .int:
                guard let bias = try intLogitBias() else {
                    throw SGLangError.unsupported("dtype int on \(modelName) biases the model's digit tokens and needs "
                                                  + "its tokenizer: pass OpenAI(tokenizer:)")
                }
                logitBias = bias
                p.stop = [" "]
            case .float, .bool:
                throw SGLangError.unsupported("dtype \(dtype.rawValue) on the OpenAI backend (SGLang's OpenAI backend "
                                              + "has str and int only; use sglangExtensions on an SGLang server)")
            }
            p.regex = nil
        }
        if !p.stopRegex.isEmpty, !sglangExtensions {
            throw SGLangError.unsupported("stopRegex on \(modelName): the OpenAI API has no stop patterns (an SGLang "
                                          + "server's does: pass sglangExtensions: true)")
        }
        if p.regex != nil, !sglangExtensions {
            throw SGLangError.unsupported("regex on \(modelName): the OpenAI API has no regex constraint (an SGLang "
                                          + "server's does: pass sglangExtensions: true)")
        }
        var body = JSONObject()
        body["model"] = .string(modelName)
        let path: String
        if isChatModel {
            if !speculating {
                let prefix = try template.affixes(role: "assistant", history: context.messages).prefix
                guard context.text.hasSuffix(prefix) else {
                    throw SGLangError.invalidProgram(
                        "for OpenAI chat models a gen must come right after assistant begins (the API continues whole "
                            + "messages); run the program with numAPISpecTokens for gens inside an assistant turn")
                }
            }
            body["messages"] = .array(context.messages.map(\.json))
            path = "/chat/completions"
        } else {
            guard context.images.isEmpty else {
                throw SGLangError.unsupported("images on the completion model \(modelName) (a text prompt has no images)")
            }
            body["prompt"] = .string(context.text + promptSuffix)
            path = "/completions"
        }
        body["max_tokens"] = .int(p.maxNewTokens)
        if !p.stop.isEmpty { body["stop"] = .array(p.stop.map(JSONValue.string)) }
        body["temperature"] = .double(p.temperature)
        body["top_p"] = .double(p.topP)
        body["frequency_penalty"] = .double(p.frequencyPenalty)
        body["presence_penalty"] = .double(p.presencePenalty)
        body["n"] = .int(1)
        if let logitBias { body["logit_bias"] = .object(logitBias) }
        if p.returnLogprob == true {
            if isChatModel {
                body["logprobs"] = .bool(true)
                if let top = p.topLogprobsNum { body["top_logprobs"] = .int(top) }
            } else {
                body["logprobs"] = .int(p.topLogprobsNum ?? 0)
            }
        }
        if let schema = p.jsonSchema {
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(schema) } catch {
                throw SGLangError.invalidProgram("jsonSchema is not JSON: \(error)")
            }
            body["response_format"] = .object(JSONObject([
                ("type", .string("json_schema")),
                ("json_schema", .object(JSONObject([
                    ("name", .string("output")), ("schema", parsed), ("strict", .bool(true)),
                ]))),
            ]))
        }
        if sglangExtensions {
            if let r = p.regex { body["regex"] = .string(r) }
            if !p.stopRegex.isEmpty { body["stop_regex"] = .array(p.stopRegex.map(JSONValue.string)) }
            if p.topK > 0 { body["top_k"] = .int(p.topK) }
            if p.minP > 0 { body["min_p"] = .double(p.minP) }
            if p.ignoreEOS { body["ignore_eos"] = .bool(true) }
            if !p.stopTokenIds.isEmpty { body["stop_token_ids"] = .array(p.stopTokenIds.map(JSONValue.int)) }
        }
        if stream {
            body["stream"] = .bool(true)
            body["stream_options"] = .object(JSONObject([("include_usage", .bool(true))]))
        }
        return Call(path: path, body: body, quote: quote)
    }

    /// SGLang's `create_logit_bias_int`: +100 on the first 299 tokens that decode to digits only or to one
    /// space, and on the end-of-text token.
    func intLogitBias() throws -> JSONObject? {
        guard let tokenizer else { return nil }
        if let cached = intBias.withLock({ $0 }) { return cached }
        var bias = JSONObject()
        var count = 0
        for id in 0..<tokenizer.vocabSize where count < 299 {
            let s = tokenizer.decode([id])
            if s == " " || (!s.isEmpty && s.allSatisfy({ $0.isASCII && $0.isNumber })) {
                bias[String(id)] = .int(100)
                count += 1
            }
        }
        if let eos = tokenizer.eosTokenId { bias[String(eos)] = .int(100) }
        intBias.withLock { $0 = bias }
        return bias
    }
}
