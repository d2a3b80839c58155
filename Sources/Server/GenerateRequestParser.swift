import Foundation
import JSON
import Runtime

/// One prompt of an API request before tokenization; `request.sampling.n` may still be > 1.
struct PromptItem: Sendable {
    var request: GenerateRequest
    /// Whether the client set the token limit (then a prompt + limit beyond the context is a 400; a default
    /// limit is clamped to the context instead).
    var maxTokensExplicit: Bool
}

/// A parsed native `/generate` body (spec §2.2).
struct NativeGenerateInput: Sendable {
    /// One item per prompt.
    var items: [PromptItem]
    /// Answer with a JSON list (a batch of prompts, or n > 1).
    var isBatch: Bool
    /// Answer as SSE.
    var stream: Bool
}

/// Parses `/generate` bodies (`GenerateReqInput`) with field-level 400s.
enum GenerateRequestParser {
    /// Most prompts in one batch.
    static let maxBatch = 1024

    static func newRid() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    static func parse(_ body: JSONValue, defaults: SamplingDefaults, defaultTimeout: Double?) throws -> NativeGenerateInput {
        let f = try FieldReader.body(body)
        try f.rejectUnsupported(["input_embeds", "lora_path", "session_params", "custom_logit_processor"])
        let (prompts, batched) = try prompts(f)
        let count = prompts.count

        let samplings: [JSONObject?] = try perItem(f, "sampling_params", count, batched, "an object") { $0.objectValue }
        let rids: [String?] = try perItem(f, "rid", count, batched, "a string") { $0.stringValue }
        let returnLogprob: [Bool?] = try perItem(f, "return_logprob", count, batched, "a boolean") { $0.boolValue }
        let startLen: [Int?] = try perItem(f, "logprob_start_len", count, batched, "an integer") {
            $0.boolValue == nil ? $0.intValue : nil
        }
        let topNum: [Int?] = try perItem(f, "top_logprobs_num", count, batched, "an integer") {
            $0.boolValue == nil ? $0.intValue : nil
        }
        let tokenIds = try tokenIdsLogprob(f, count, batched)
        let textInLogprobs = try f.bool("return_text_in_logprobs") ?? false
        let images = try ImageDataResolver.parse(f.value("image_data"), count: count, batched: batched)
        let stream = try f.bool("stream") ?? false
        let timeout = try f.double("timeout") ?? defaultTimeout
        if let t = timeout, !(t > 0) { throw ServerError.badRequest("timeout must be > 0 seconds, found \(t)", param: "timeout") }
        let givenRids = rids.compactMap { $0 }
        if Set(givenRids).count != givenRids.count {
            throw ServerError.badRequest("rid values must be unique within a batch", param: "rid")
        }

        var items: [PromptItem] = []
        var anyParallel = false
        for i in 0..<count {
            let prefix = batched && f.value("sampling_params")?.arrayValue != nil ? "sampling_params[\(i)]." : "sampling_params."
            let (params, explicit) = try SamplingParamsParser.native(samplings[i], prefix: prefix, defaults: defaults)
            if params.n > 1 { anyParallel = true }
            if let top = topNum[i], top < 0 {
                throw ServerError.badRequest("top_logprobs_num must be an integer ≥ 0, found \(top)", param: "top_logprobs_num")
            }
            if let start = startLen[i], start < -1 {
                throw ServerError.badRequest("logprob_start_len must be -1 or ≥ 0, found \(start)", param: "logprob_start_len")
            }
            var request = GenerateRequest(
                rid: rids[i] ?? newRid(), prompt: prompts[i], sampling: params,
                returnLogprob: returnLogprob[i] ?? false, logprobStartLen: startLen[i] ?? -1,
                topLogprobsNum: topNum[i] ?? 0, returnTextInLogprobs: textInLogprobs, stream: stream,
                timeout: timeout)
            request.imageData = images[i]
            request.tokenIdsLogprob = tokenIds[i]
            items.append(PromptItem(request: request, maxTokensExplicit: explicit))
        }
        if anyParallel && Set(items.map(\.request.sampling.n)).count > 1 {
            throw ServerError.badRequest("every prompt of a batch must use the same n")
        }
        return NativeGenerateInput(items: items, isBatch: batched || anyParallel, stream: stream)
    }

    /// The prompts of a native body: `text` (a string or a list) or `input_ids` (a list, or a list of lists), and
    /// whether they form a batch (the answer is then a list).
    static func prompts(_ f: FieldReader) throws -> (prompts: [PromptInput], batched: Bool) {
        let prompts: [PromptInput]
        var batched = false
        switch (f.value("text"), f.value("input_ids")) {
        case (nil, nil):
            throw ServerError.badRequest("give one of text or input_ids")
        case (_?, _?):
            throw ServerError.badRequest("give either text or input_ids, not both")
        case (let text?, nil):
            if let s = text.stringValue {
                prompts = [.text(s)]
            } else if let list = text.arrayValue {
                batched = true
                prompts = try list.map { item in
                    guard let s = item.stringValue else { throw f.fail("text", "a string or a list of strings") }
                    return .text(s)
                }
            } else {
                throw f.fail("text", "a string or a list of strings")
            }
        case (nil, let ids?):
            guard let list = ids.arrayValue else { throw f.fail("input_ids", "a list of integers or a list of lists") }
            if let first = list.first, first.arrayValue != nil {
                batched = true
                prompts = try list.map { row in
                    guard let r = row.arrayValue else { throw f.fail("input_ids", "a list of lists of integers") }
                    return .ids(try r.map { try tokenId($0, f) })
                }
            } else {
                prompts = [.ids(try list.map { try tokenId($0, f) })]
            }
        }
        guard !prompts.isEmpty else { throw ServerError.badRequest("the batch is empty", param: batched ? "text" : "input_ids") }
        guard prompts.count <= maxBatch else {
            throw ServerError.badRequest("a batch holds at most \(maxBatch) prompts, found \(prompts.count)")
        }
        return (prompts, batched)
    }

    /// `token_ids_logprob`: a list of ids for every prompt, or in a batch one list (or null) per prompt.
    static func tokenIdsLogprob(_ f: FieldReader, _ count: Int, _ batched: Bool) throws -> [[Int]?] {
        let key = "token_ids_logprob", expected = "a list of token ids, or one list per prompt"
        guard let v = f.value(key), !v.isNull else { return Array(repeating: nil, count: count) }
        guard let list = v.arrayValue else { throw f.fail(key, expected) }
        func ids(_ items: [JSONValue]) throws -> [Int] {
            try items.map { item in
                guard item.boolValue == nil, let i = item.intValue else { throw f.fail(key, expected) }
                return i
            }
        }
        if batched, list.contains(where: { $0.arrayValue != nil || $0.isNull }) {
            guard list.count == count else {
                throw ServerError.badRequest("\(key) has \(list.count) lists for \(count) prompts", param: key)
            }
            return try list.map { item in
                if item.isNull { return nil }
                guard let inner = item.arrayValue else { throw f.fail(key, expected) }
                return try ids(inner)
            }
        }
        let shared = try ids(list)
        return Array(repeating: shared, count: count)
    }

    static func tokenId(_ v: JSONValue, _ f: FieldReader) throws -> Int {
        guard v.boolValue == nil, let i = v.intValue else { throw f.fail("input_ids", "a list of integers") }
        return i
    }

    /// A field given once for the whole request or as a list with one entry per prompt.
    static func perItem<T>(_ f: FieldReader, _ key: String, _ count: Int, _ batched: Bool, _ expected: String,
                           _ read: (JSONValue) -> T?) throws -> [T?] {
        guard let v = f.value(key) else { return Array(repeating: nil, count: count) }
        if let list = v.arrayValue {
            guard batched else { throw f.fail(key, expected) }
            guard list.count == count else {
                throw ServerError.badRequest("\(key) has \(list.count) entries for \(count) prompts", param: key)
            }
            return try list.map { item in
                if item.isNull { return nil }
                guard let t = read(item) else { throw ServerError.badRequest("\(key) entries must be \(expected), found \(item.typeName)", param: key) }
                return t
            }
        }
        guard let t = read(v) else { throw f.fail(key, batched ? "\(expected) or a list of them" : expected) }
        if batched && key == "rid" {
            throw ServerError.badRequest("rid must be a list with one id per prompt for a batch", param: "rid")
        }
        return Array(repeating: t, count: count)
    }
}
