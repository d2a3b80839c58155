import Bench
import Foundation
import JSON
import NIOHTTP1

/// A backend on a running SGLang server over HTTP (SGLang's `RuntimeEndpoint`, spec §1.9): gens post the
/// program's text to `/generate`, `select` scores choices with prompt logprobs, forks and prefix caching
/// prefill with `max_new_tokens: 0`.
///
/// Chat template: the one given (or named), else the registry's match for the server's model path, else
/// "default" (a server does not send its model's Jinja template).
public final class RuntimeEndpoint: Backend, PromptLogprobSource {
    /// The server's base URL.
    public let url: BenchURL
    public let modelName: String
    private let client: BenchHTTPClient
    private let template: PromptTemplate

    /// Connects to `url` (`http://host:port`) and reads `/get_model_info`.
    /// - Throws: `SGLangError.backend` when the server cannot be reached or answers with an error,
    ///   `.invalidProgram` for a bad URL or an unknown template name.
    public init(url: String, apiKey: String? = nil, chatTemplate: PromptTemplate? = nil,
                chatTemplateName: String? = nil) async throws {
        do { self.url = try BenchURL(parsing: url) } catch {
            throw SGLangError.invalidProgram("bad server URL: \(error)")
        }
        client = BenchHTTPClient(headers: apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [])
        let info = try await Self.request(client, .GET, self.url.appending(path: "/get_model_info"), nil)
        guard let path = info["model_path"]?.stringValue else {
            throw SGLangError.backend("/get_model_info has no model_path: \(info.serialized())")
        }
        modelName = path
        if let chatTemplate {
            template = chatTemplate
        } else if let chatTemplateName {
            template = try PromptTemplate.named(chatTemplateName)
        } else {
            template = PromptTemplate.matching(modelPath: path)
        }
    }

    public func chatTemplate() async throws -> PromptTemplate { template }

    static func request(_ client: BenchHTTPClient, _ method: HTTPMethod, _ url: BenchURL,
                        _ body: JSONValue?) async throws -> JSONValue {
        let (status, bytes) = try await raw(client, method, url, body)
        do { return try JSONValue.parse(bytes: bytes) } catch {
            throw SGLangError.backend("\(url.path) answered \(status) with invalid JSON: \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    static func raw(_ client: BenchHTTPClient, _ method: HTTPMethod, _ url: BenchURL,
                    _ body: JSONValue?) async throws -> (Int, [UInt8]) {
        let result: (status: Int, body: [UInt8])
        do {
            result = try await client.fetch(method: method, url: url, body: body.map { Array($0.serialized().utf8) })
        } catch {
            throw SGLangError.backend("\(method) \(url): \(error)")
        }
        guard result.status == 200 else {
            throw SGLangError.backend("\(method) \(url.path) answered \(result.status): "
                                      + String(decoding: result.body, as: UTF8.self))
        }
        return (result.status, result.body)
    }

    private func post(_ body: JSONValue) async throws -> JSONValue {
        try await Self.request(client, .POST, url.appending(path: "/generate"), body)
    }

    /// The `/generate` body for a gen (spec §1.9).
    func body(_ context: ProgramContext, _ p: SamplingParameters, stream: Bool) throws -> JSONValue {
        let q = p.resolvingDType()
        var sp = JSONObject()
        sp["skip_special_tokens"] = .bool(true)
        sp["spaces_between_special_tokens"] = .bool(true)
        sp["max_new_tokens"] = .int(q.maxNewTokens)
        sp["stop"] = .array(q.stop.map(JSONValue.string))
        sp["stop_token_ids"] = .array(q.stopTokenIds.map(JSONValue.int))
        if !q.stopRegex.isEmpty { sp["stop_regex"] = .array(q.stopRegex.map(JSONValue.string)) }
        sp["temperature"] = .double(q.temperature)
        sp["top_p"] = .double(q.topP)
        sp["top_k"] = .int(q.topK)
        sp["min_p"] = .double(q.minP)
        sp["frequency_penalty"] = .double(q.frequencyPenalty)
        sp["presence_penalty"] = .double(q.presencePenalty)
        sp["ignore_eos"] = .bool(q.ignoreEOS)
        if let r = q.regex { sp["regex"] = .string(r) }
        if let s = q.jsonSchema { sp["json_schema"] = .string(s) }
        var o = JSONObject()
        o["text"] = .string(context.text)
        o["sampling_params"] = .object(sp)
        if let v = q.returnLogprob { o["return_logprob"] = .bool(v) }
        if let v = q.logprobStartLen { o["logprob_start_len"] = .int(v) }
        if let v = q.topLogprobsNum { o["top_logprobs_num"] = .int(v) }
        if let v = q.returnTextInLogprobs { o["return_text_in_logprobs"] = .bool(v) }
        if !context.images.isEmpty {
            guard context.images.count == 1 else {
                throw SGLangError.unsupported("a server request takes one image, the program has \(context.images.count)")
            }
            o["image_data"] = .string(context.images[0].imageData)
        }
        if stream { o["stream"] = .bool(true) }
        return .object(o)
    }

    static func generation(_ v: JSONValue) throws -> Generation {
        guard let text = v["text"]?.stringValue else {
            throw SGLangError.backend("/generate answered without text: \(v.serialized())")
        }
        return Generation(text: text, meta: v["meta_info"]?.objectValue ?? JSONObject())
    }

    public func generate(_ context: ProgramContext, _ params: SamplingParameters) async throws -> Generation {
        try Self.generation(try await post(body(context, params, stream: false)))
    }

    public func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error> {
        let client = self.client
        let url = self.url.appending(path: "/generate")
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let bytes = Array(try body(context, params, stream: true).serialized().utf8)
                    var parser = SSEParser()
                    var sent = ""
                    var errorBody: [UInt8] = []
                    func handle(_ payload: String) throws {
                        guard payload != "[DONE]" else { return }
                        let v = try JSONValue.parse(payload)
                        if let e = v["error"] { throw SGLangError.backend("stream error: \(e.serialized())") }
                        let g = try Self.generation(v)
                        guard g.text.hasPrefix(sent) else { return }
                        let delta = String(g.text.dropFirst(sent.count))
                        sent = g.text
                        continuation.yield(Generation(text: delta, meta: g.meta))
                    }
                    let status = try await client.send(method: .POST, url: url, body: bytes) { chunk in
                        errorBody += chunk.prefix(4096)
                        for p in parser.feed(chunk) { try handle(p) }
                    }
                    guard status == 200 else {
                        throw SGLangError.backend("POST /generate answered \(status): \(String(decoding: errorBody, as: UTF8.self))")
                    }
                    for p in parser.finish() { try handle(p) }
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
        try await LogprobChoiceScorer.select(self, text: context.text, choices: choices, method: method)
    }

    public func cachePrefix(_ prefix: String) async throws { _ = try await prefill(prefix) }

    public func commitLazyOperations(_ context: ProgramContext) async throws { _ = try await prefill(context.text) }

    /// Embeddings of `texts`, in order, from a server that serves an embedding model (`sglang serve --is-embedding`;
    /// `POST /encode`): each the last token's final hidden state, L2-normalized.
    /// - Throws: `SGLangError.backend` with the server's answer (a generation server answers 400).
    public func encode(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let v = try await Self.request(client, .POST, url.appending(path: "/encode"),
                                       .object(JSONObject([("text", .array(texts.map(JSONValue.string)))])))
        guard let items = v.arrayValue, items.count == texts.count else {
            throw SGLangError.backend("/encode answered a batch of \(texts.count) with \(v.serialized().prefix(200))")
        }
        return try items.map { item in
            guard let values = item["embedding"]?.arrayValue else {
                throw SGLangError.backend("/encode answered without an embedding: \(item.serialized().prefix(200))")
            }
            return values.map { Float($0.doubleValue ?? .nan) }
        }
    }

    /// The embedding of one text (see `encode(_:)` for a batch).
    public func encode(_ text: String) async throws -> [Float] { try await encode([text])[0] }

    /// `GET /flush_cache`; false when the server refused (requests running).
    public func flushCache() async throws -> Bool {
        let (status, _) = try await client.fetch(method: .GET, url: url.appending(path: "/flush_cache"))
        return status == 200
    }

    /// The server's arguments and state (`GET /get_server_info`).
    public func serverInfo() async throws -> JSONValue {
        try await Self.request(client, .GET, url.appending(path: "/get_server_info"), nil)
    }

    /// The server's Prometheus metrics (`GET /metrics`; the server needs `--enable-metrics`).
    public func metricsText() async throws -> String {
        let (_, bytes) = try await Self.raw(client, .GET, url.appending(path: "/metrics"), nil)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: prompt logprobs

    private static func zeroTokens() -> JSONValue {
        .object(JSONObject([("max_new_tokens", .int(0)), ("temperature", .double(0))]))
    }

    func prefill(_ text: String) async throws -> Int {
        let v = try await post(.object(JSONObject([("text", .string(text)), ("sampling_params", Self.zeroTokens())])))
        guard let n = v["meta_info"]?["prompt_tokens"]?.intValue else {
            throw SGLangError.backend("/generate answered without meta_info.prompt_tokens: \(v.serialized())")
        }
        return n
    }

    func promptLogprobs(_ texts: [String], start: Int) async throws -> [[ScoredToken]] {
        try await score(("text", .array(texts.map(JSONValue.string))), start: start, count: texts.count)
    }

    func promptLogprobs(ids: [[Int]]) async throws -> [[ScoredToken]] {
        let nonEmpty = ids.filter { !$0.isEmpty }
        guard !nonEmpty.isEmpty else { return ids.map { _ in [] } }
        let scored = try await score(("input_ids", .array(nonEmpty.map { .array($0.map(JSONValue.int)) })), start: 0,
                                     count: nonEmpty.count)
        var it = scored.makeIterator()
        return ids.map { $0.isEmpty ? [] : (it.next() ?? []) }
    }

    private func score(_ prompt: (String, JSONValue), start: Int, count: Int) async throws -> [[ScoredToken]] {
        let v = try await post(.object(JSONObject([
            prompt, ("sampling_params", Self.zeroTokens()), ("return_logprob", .bool(true)),
            ("logprob_start_len", .int(start)), ("return_text_in_logprobs", .bool(true)),
        ])))
        guard let items = v.arrayValue, items.count == count else {
            throw SGLangError.backend("/generate answered a batch of \(count) with \(v.serialized().prefix(200))")
        }
        return try items.map { item in
            guard let list = item["meta_info"]?["input_token_logprobs"]?.arrayValue else {
                throw SGLangError.backend("/generate answered without input_token_logprobs")
            }
            return try list.map { e in
                guard let a = e.arrayValue, a.count >= 2, let id = a[1].intValue else {
                    throw SGLangError.backend("bad logprob entry \(e.serialized())")
                }
                return ScoredToken(logprob: a[0].doubleValue, id: id, text: a.count > 2 ? a[2].stringValue : nil)
            }
        }
    }
}
