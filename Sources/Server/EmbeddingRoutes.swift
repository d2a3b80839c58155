import Foundation
import Hummingbird
import JSON
import Runtime

/// Embeddings (spec §2.1 `/encode`, §4.3 `/v1/embeddings`): served when the model is an embedding model
/// (`--is-embedding`); a generation server answers them with a 400 that says so.
extension SGLangServer {
    func addEmbeddingRoutes(to router: Router<ServerContext>) {
        router.post("/encode") { request, _ in try await self.encode(request) }
        router.put("/encode") { request, _ in try await self.encode(request) }
        router.post("/v1/embeddings") { request, _ in try await self.embeddings(request) }
    }

    /// Native `/encode`: `{text | input_ids, rid?}` → `{embedding, meta_info}`, a list for a batch.
    func encode(_ request: Request) async throws -> Response {
        let body = try await readJSON(request)
        logRequest("/encode", body)
        let f = try FieldReader.body(body)
        try f.rejectUnsupported(["input_embeds", "image_data", "lora_path"])
        let (prompts, batched) = try GenerateRequestParser.prompts(f)
        let rids = try GenerateRequestParser.perItem(f, "rid", prompts.count, batched, "a string") { $0.stringValue }
        let base = GenerateRequestParser.newRid()
        let requests = prompts.enumerated().map { i, prompt in
            EmbeddingRequest(rid: rids[i] ?? (batched ? "\(base)-\(i)" : base), prompt: prompt,
                             timeout: arguments.requestTimeout)
        }
        let outputs = try await embed(requests)
        let objects = outputs.map { out -> JSONValue in
            .object(JSONObject([
                ("embedding", Self.floats(out.embedding ?? [])),
                ("meta_info", .object(JSONObject([
                    ("id", .string(out.rid)), ("prompt_tokens", .int(out.promptTokens)),
                    ("cached_tokens", .int(out.cachedTokens)), ("e2e_latency", out.e2eLatency.map(JSONValue.double) ?? .null),
                ]))),
            ]))
        }
        return SGLangServer.json(batched ? .array(objects) : objects[0])
    }

    /// OpenAI `/v1/embeddings`: `input` (a string, strings, ids or lists of ids), `encoding_format` float or
    /// base64 (little-endian float32, what the `openai` package asks for by default), `dimensions`.
    func embeddings(_ request: Request) async throws -> Response {
        let body = try await readJSON(request)
        logRequest("/v1/embeddings", body)
        let f = try FieldReader.body(body)
        try checkModel(try f.string("model"))
        let format = try f.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else {
            throw ServerError.badRequest("encoding_format must be float or base64, found \(format)", param: "encoding_format")
        }
        let dimensions = try f.int("dimensions")
        _ = try f.string("user")
        let prompts = try OpenAIRequestParser.promptList(f, key: "input")
        let base = "embd-" + GenerateRequestParser.newRid()
        let requests = prompts.enumerated().map { i, prompt in
            EmbeddingRequest(rid: prompts.count == 1 ? base : "\(base)-\(i)", prompt: prompt, dimensions: dimensions,
                             timeout: arguments.requestTimeout)
        }
        let outputs = try await embed(requests)
        let data = outputs.enumerated().map { i, out -> JSONValue in
            let vector = out.embedding ?? []
            return .object(JSONObject([
                ("object", .string("embedding")),
                ("embedding", format == "base64" ? .string(Self.base64(vector)) : Self.floats(vector)),
                ("index", .int(i)),
            ]))
        }
        let tokens = outputs.reduce(0) { $0 + $1.promptTokens }
        var usage = JSONObject([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))])
        if arguments.enableCacheReport {
            usage["prompt_tokens_details"] = .object(JSONObject([
                ("cached_tokens", .int(outputs.reduce(0) { $0 + $1.cachedTokens })),
            ]))
        }
        return SGLangServer.json(.object(JSONObject([
            ("object", .string("list")), ("data", .array(data)), ("model", .string(arguments.modelName)),
            ("usage", .object(usage)),
        ])))
    }

    /// Validates every request first (a 400 names the first bad one and nothing runs), then embeds them together,
    /// so the scheduler batches their prefills; outputs come back in request order.
    func embed(_ requests: [EmbeddingRequest]) async throws -> [GenerateOutput] {
        let engine = self.engine
        let prepared: [PreparedRequest]
        do {
            prepared = try requests.map(engine.prepare)
        } catch {
            throw ServerError.from(error)
        }
        let outputs = try await engine.encode(prepared)
        record(outputs)
        logFinished(outputs)
        for out in outputs where out.embedding == nil {
            throw ServerError.fromAbort(out.finishReason)
                ?? ServerError.badRequest("the request \(out.rid) was aborted before its embedding was computed")
        }
        return outputs
    }

    /// A vector as a JSON list of numbers.
    static func floats(_ v: [Float]) -> JSONValue { .array(v.map { .double(Double($0)) }) }

    /// A vector as base64 of its little-endian float32 bytes (OpenAI's `encoding_format: base64`).
    static func base64(_ v: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(v.count * 4)
        for x in v {
            let bits = x.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
