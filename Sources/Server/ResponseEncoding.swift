import JSON
import Runtime

/// JSON shapes of engine outputs: native `/generate` objects (spec §2.3) and OpenAI pieces (spec §4).
enum ResponseEncoding {
    // MARK: native

    /// SGLang's `finish_reason` object, or null while running.
    static func finishReason(_ reason: FinishReason?) -> JSONValue {
        guard let reason else { return .null }
        switch reason {
        case .length(let n):
            return .object(JSONObject([("type", .string("length")), ("length", .int(n))]))
        case .matchedToken(let id):
            return .object(JSONObject([("type", .string("stop")), ("matched", .int(id))]))
        case .matchedString(let s):
            return .object(JSONObject([("type", .string("stop")), ("matched", .string(s))]))
        case .abort(let message, let code):
            return .object(JSONObject([
                ("type", .string("abort")), ("message", .string(message)), ("status_code", .int(code)),
                ("err_type", .null),
            ]))
        }
    }

    /// `[logprob, token_id, text-or-null]`.
    static func entry(_ e: LogprobEntry) -> JSONValue {
        .array([e.logprob.map(JSONValue.double) ?? .null, .int(e.id), e.text.map(JSONValue.string) ?? .null])
    }

    static func entries(_ list: [LogprobEntry]?) -> JSONValue { .array((list ?? []).map(entry)) }

    static func topEntries(_ list: [[LogprobEntry]?]?) -> JSONValue {
        .array((list ?? []).map { row in row.map { .array($0.map(entry)) } ?? .null })
    }

    /// The native object: `{"text", "output_ids", "meta_info"}` (plus `"index"` in batch streams).
    static func native(_ out: GenerateOutput, request: GenerateRequest, index: Int?) -> JSONValue {
        var meta = JSONObject()
        meta["id"] = .string(out.rid)
        meta["finish_reason"] = finishReason(out.finishReason)
        meta["prompt_tokens"] = .int(out.promptTokens)
        meta["completion_tokens"] = .int(out.completionTokens)
        meta["completion_tokens_wo_jump_forward"] = .int(out.completionTokensWithoutJumpForward)
        meta["cached_tokens"] = .int(out.cachedTokens)
        meta["total_retractions"] = .int(out.retractions)
        meta["e2e_latency"] = out.e2eLatency.map(JSONValue.double) ?? .null
        if request.returnLogprob {
            meta["input_token_logprobs"] = entries(out.inputTokenLogprobs)
            meta["output_token_logprobs"] = entries(out.outputTokenLogprobs)
            if request.topLogprobsNum > 0 {
                meta["input_top_logprobs"] = topEntries(out.inputTopLogprobs)
                meta["output_top_logprobs"] = topEntries(out.outputTopLogprobs)
            }
            if request.tokenIdsLogprob != nil {
                meta["input_token_ids_logprobs"] = topEntries(out.inputTokenIdsLogprobs)
                meta["output_token_ids_logprobs"] = topEntries(out.outputTokenIdsLogprobs)
            }
            meta["normalized_prompt_logprob"] = out.normalizedPromptLogprob.map(JSONValue.double) ?? .null
        }
        var o = JSONObject()
        o["text"] = .string(out.text)
        o["output_ids"] = .array(out.outputIds.map(JSONValue.int))
        o["meta_info"] = .object(meta)
        if let index { o["index"] = .int(index) }
        return .object(o)
    }

    // MARK: OpenAI

    /// "stop", "length", "abort" or null.
    static func openAIFinishReason(_ reason: FinishReason?) -> JSONValue {
        reason.map { .string($0.type) } ?? .null
    }

    /// The id or string that stopped the output, or null.
    static func matchedStop(_ reason: FinishReason?) -> JSONValue {
        switch reason {
        case .matchedToken(let id)?: return .int(id)
        case .matchedString(let s)?: return .string(s)
        default: return .null
        }
    }

    /// `usage`; `cached` adds `prompt_tokens_details` (`--enable-cache-report`).
    static func usage(prompt: Int, completion: Int, cached: Int?) -> JSONValue {
        var o = JSONObject([
            ("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)),
            ("total_tokens", .int(prompt + completion)),
        ])
        if let cached { o["prompt_tokens_details"] = .object(JSONObject([("cached_tokens", .int(cached))])) }
        return .object(o)
    }

    /// The legacy completions `logprobs` object over `entries`; `offset` is the text offset of the first token.
    static func completionLogprobs(_ entries: [LogprobEntry], top: [[LogprobEntry]?], offset: Int) -> JSONValue {
        var tokens: [JSONValue] = []
        var lps: [JSONValue] = []
        var tops: [JSONValue] = []
        var offsets: [JSONValue] = []
        var at = offset
        for (i, e) in entries.enumerated() {
            let text = e.text ?? ""
            tokens.append(.string(text))
            lps.append(e.logprob.map(JSONValue.double) ?? .null)
            offsets.append(.int(at))
            at += text.unicodeScalars.count
            if i < top.count, let row = top[i] {
                var d = JSONObject()
                for alt in row { d[alt.text ?? ""] = alt.logprob.map(JSONValue.double) ?? .null }
                tops.append(.object(d))
            } else {
                tops.append(.null)
            }
        }
        return .object(JSONObject([
            ("text_offset", .array(offsets)), ("token_logprobs", .array(lps)), ("tokens", .array(tokens)),
            ("top_logprobs", .array(tops)),
        ]))
    }

    /// Chat `logprobs.content` items for output entries.
    static func chatLogprobContent(_ entries: [LogprobEntry], top: [[LogprobEntry]?], topCount: Int) -> [JSONValue] {
        func item(_ e: LogprobEntry) -> JSONObject {
            let text = e.text ?? ""
            return JSONObject([
                ("token", .string(text)), ("bytes", .array(Array(text.utf8).map { .int(Int($0)) })),
                ("logprob", e.logprob.map(JSONValue.double) ?? .null),
            ])
        }
        return entries.enumerated().map { i, e in
            var o = item(e)
            let alts = i < top.count ? (top[i] ?? []) : []
            o["top_logprobs"] = .array(alts.prefix(topCount).map { .object(item($0)) })
            return .object(o)
        }
    }
}
