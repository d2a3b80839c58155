import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Runtime
import Synchronization

/// SGLang's native endpoints (spec §2.1).
extension SGLangServer {
    func addNativeRoutes(to router: Router<ServerContext>) {
        router.get("/health") { _, _ in
            self.isReady ? Response(status: .ok) : SGLangServer.text("the server is starting", status: .serviceUnavailable)
        }
        router.get("/health_generate") { _, _ in try await self.healthGenerate() }
        for path in ["/get_model_info", "/model_info"] {
            router.get(RouterPath(path)) { _, _ in SGLangServer.json(self.modelInfo()) }
        }
        for path in ["/get_server_info", "/server_info", "/get_server_args"] {
            router.get(RouterPath(path)) { _, _ in SGLangServer.json(await self.serverInfo()) }
        }
        router.get("/flush_cache") { _, _ in await self.flushCache() }
        router.post("/flush_cache") { _, _ in await self.flushCache() }
        router.post("/abort_request") { request, _ in try await self.abortRequest(request) }
        for path in ["/tokenize", "/v1/tokenize"] {
            router.post(RouterPath(path)) { request, _ in try await self.tokenize(request) }
        }
        for path in ["/detokenize", "/v1/detokenize"] {
            router.post(RouterPath(path)) { request, _ in try await self.detokenize(request) }
        }
        router.get("/metrics") { _, _ in
            guard let metrics = self.metrics else {
                throw ServerError(status: 404, "metrics are off; start the server with --enable-metrics")
            }
            let body = metrics.render(await self.engine.stats())
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.post("/generate") { request, context in try await self.generate(request, context: context) }
        router.put("/generate") { request, context in try await self.generate(request, context: context) }
    }

    // MARK: /generate

    func generate(_ request: Request, context: ServerContext) async throws -> Response {
        let body = try await readJSON(request)
        logRequest("/generate", body)
        var input = try GenerateRequestParser.parse(body, defaults: defaults, defaultTimeout: arguments.requestTimeout)
        try await ImageDataResolver.resolve(&input.items)
        let (items, runner) = (input.items, self.runner)
        let prepared = try await ImageDataResolver.preparing(hasImages: items.contains { !$0.request.imageData.isEmpty }) {
            try items.map(runner.prepare)
        }
        let requests = prepared.flatMap { $0.samples.map(\.request) }
        if input.stream {
            let formatter = NativeStreamFormatter(requests: requests, isBatch: input.isBatch)
            return SSEStream.response(runner.run(prepared), channel: context.channel, formatter: formatter,
                                      onEvent: recorder())
        }
        let outputs = try await runner.collect(prepared, channel: context.channel)
        record(outputs)
        logFinished(outputs)
        if let error = outputs.lazy.compactMap({ ServerError.fromAbort($0.finishReason) }).first { throw error }
        let objects = zip(outputs, requests).map { ResponseEncoding.native($0, request: $1, index: nil) }
        return SGLangServer.json(input.isBatch ? .array(objects) : objects[0])
    }

    /// Records finished outputs in the metrics.
    func record(_ outputs: [GenerateOutput]) {
        guard let metrics else { return }
        for o in outputs { metrics.record(finished: o, firstTokenLatency: nil) }
    }

    /// A per-stream event hook that records time to first token and finished requests.
    func recorder() -> @Sendable (RunEvent) -> Void {
        guard let metrics else { return { _ in } }
        let began = Date()
        let seen = SeenSet()
        return { event in
            if event.output.completionTokens > 0, seen.insert(event.index) {
                metrics.record(firstToken: Date().timeIntervalSince(began))
            }
            if event.output.isFinished { metrics.record(finished: event.output, firstTokenLatency: nil) }
        }
    }

    // MARK: health and info

    func healthGenerate() async throws -> Response {
        if engine.isEmbedding {
            let out: GenerateOutput
            do {
                out = try await engine.encode(EmbeddingRequest(
                    rid: "HEALTH_CHECK_\(Int(Date().timeIntervalSince1970 * 1000))_\(GenerateRequestParser.newRid().prefix(8))",
                    prompt: .ids([0]), timeout: 20))
            } catch {
                throw ServerError(status: 503, "health check embedding failed: \(error)")
            }
            if case .abort(let message, _)? = out.finishReason {
                throw ServerError(status: 503, "health check embedding failed: \(message)")
            }
            return Response(status: .ok)
        }
        let request = GenerateRequest(
            rid: "HEALTH_CHECK_\(Int(Date().timeIntervalSince1970 * 1000))_\(GenerateRequestParser.newRid().prefix(8))",
            prompt: .ids([0]), sampling: SamplingParams(maxNewTokens: 1, temperature: 0), timeout: 20)
        var last: GenerateOutput?
        do {
            for try await out in engine.generate(request) { last = out }
        } catch {
            throw ServerError(status: 503, "health check generation failed: \(error)")
        }
        if case .abort(let message, _)? = last?.finishReason {
            throw ServerError(status: 503, "health check generation failed: \(message)")
        }
        return Response(status: .ok)
    }

    func modelInfo() -> JSONValue {
        .object(JSONObject([
            ("model_path", .string(arguments.modelPath)),
            ("tokenizer_path", .string(arguments.tokenizerPath ?? arguments.modelPath)),
            ("is_generation", .bool(!engine.isEmbedding)),
            ("preferred_sampling_params", .null),
            ("weight_version", .string("default")),
            ("has_image_understanding", .bool(model.vision != nil)),
            ("has_audio_understanding", .bool(false)),
            ("model_type", .string(model.vision == nil ? model.config.modelType : "llava")),
            ("architectures", .array((model.vision == nil ? model.config.architectures : ["LlavaForConditionalGeneration"])
                .map(JSONValue.string))),
        ]))
    }

    func serverInfo() async -> JSONValue {
        let stats = await engine.stats()
        let leak = await engine.checkMemory()
        var o = arguments.json(seed: seed)
        o["port"] = .int(port ?? arguments.port)
        o["is_embedding"] = .bool(engine.isEmbedding)
        o["context_length"] = .int(engine.contextLength)
        o["max_total_num_tokens"] = .int(engine.maxTotalTokens)
        o["max_running_requests"] = .int(engine.maxRunningRequests)
        o["max_req_input_len"] = .int(engine.maxRequestInputLength)
        let state = JSONObject([
            ("num_running_reqs", .int(stats.runningRequests)),
            ("num_waiting_reqs", .int(stats.waitingRequests)),
            ("max_total_num_tokens", .int(stats.maxTotalTokens)),
            ("available_tokens", .int(stats.availableTokens)),
            ("evictable_tokens", .int(stats.evictableTokens)),
            ("protected_tokens", .int(stats.protectedTokens)),
            ("prompt_tokens", .int(stats.promptTokens)),
            ("cached_tokens", .int(stats.cachedTokens)),
            ("generated_tokens", .int(stats.generatedTokens)),
            ("finished_requests", .int(stats.finishedRequests)),
            ("retractions", .int(stats.retractions)),
            ("cache_hit_rate", .double(stats.cacheHitRate)),
            ("memory_check", leak.map(JSONValue.string) ?? .null),
        ])
        o["internal_states"] = .array([.object(state)])
        o["uptime"] = .double(Date().timeIntervalSince(startTime))
        o["version"] = .string("0.3.0-swift")
        return .object(o)
    }

    func flushCache() async -> Response {
        if await engine.flushCache() {
            return SGLangServer.text("Cache flushed.\nPlease check backend logs for more details. "
                                     + "(When there are running or waiting requests, the operation will not be performed.)\n")
        }
        return SGLangServer.text("Cache not flushed: requests are running or waiting.\n", status: .badRequest)
    }

    func abortRequest(_ request: Request) async throws -> Response {
        let f = try FieldReader.body(try await readJSON(request))
        let rid = try f.string("rid") ?? ""
        if try f.bool("abort_all") ?? false {
            engine.abortAll()
        } else {
            guard !rid.isEmpty else { throw ServerError.badRequest("give rid, or abort_all: true", param: "rid") }
            engine.abort(rid: rid)
        }
        return Response(status: .ok)
    }

    // MARK: tokenize

    func tokenize(_ request: Request) async throws -> Response {
        let f = try FieldReader.body(try await readJSON(request))
        guard let tokenizer = model.tokenizer else { throw ServerError.badRequest("the model has no tokenizer") }
        let add = try f.bool("add_special_tokens") ?? true
        guard let value = f.value("prompt") ?? f.value("text") else {
            throw ServerError.badRequest("prompt is required", param: "prompt")
        }
        var o = JSONObject()
        if let s = value.stringValue {
            let ids = tokenizer.encode(s, addSpecialTokens: add)
            o["tokens"] = .array(ids.map(JSONValue.int))
            o["count"] = .int(ids.count)
        } else if let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
            let all = list.compactMap(\.stringValue).map { tokenizer.encode($0, addSpecialTokens: add) }
            o["tokens"] = .array(all.map { .array($0.map(JSONValue.int)) })
            o["count"] = .array(all.map { .int($0.count) })
        } else {
            throw f.fail("prompt", "a string or a list of strings")
        }
        o["max_model_len"] = .int(engine.contextLength)
        return SGLangServer.json(.object(o))
    }

    func detokenize(_ request: Request) async throws -> Response {
        let f = try FieldReader.body(try await readJSON(request))
        guard let tokenizer = model.tokenizer else { throw ServerError.badRequest("the model has no tokenizer") }
        let skip = try f.bool("skip_special_tokens") ?? false
        let vocab = model.config.vocabSize
        func check(_ ids: [Int]) throws -> [Int] {
            if let bad = ids.first(where: { $0 < 0 || $0 >= max(vocab, tokenizer.vocabSize) }) {
                throw ServerError.badRequest("token id \(bad) is outside the vocabulary", param: "tokens")
            }
            return ids
        }
        guard let value = f.value("tokens"), let list = value.arrayValue else {
            throw f.has("tokens") ? f.fail("tokens", "a list of token ids or a list of lists")
                : ServerError.badRequest("tokens is required", param: "tokens")
        }
        if list.allSatisfy({ $0.arrayValue != nil }) && !list.isEmpty {
            let texts = try list.map { row -> JSONValue in
                guard let ids = try FieldReader(JSONObject([("tokens", row)])).ints("tokens") else { return .string("") }
                return .string(tokenizer.decode(try check(ids), skipSpecialTokens: skip))
            }
            return SGLangServer.json(.object(JSONObject([("text", .array(texts))])))
        }
        let ids = try f.ints("tokens") ?? []
        return SGLangServer.json(.object(JSONObject([("text", .string(tokenizer.decode(try check(ids), skipSpecialTokens: skip)))])))
    }
}

/// Thread-safe set of seen indices.
final class SeenSet: Sendable {
    private let set = Mutex<Set<Int>>([])
    /// Inserts; true when it was new.
    func insert(_ i: Int) -> Bool { set.withLock { $0.insert(i).inserted } }
}

/// Native `/generate` stream chunks: the cumulative object per event, `index` in batches.
struct NativeStreamFormatter: StreamFormatter {
    let requests: [GenerateRequest]
    let isBatch: Bool

    mutating func chunks(for event: RunEvent) -> [String] {
        [SSEStream.json(ResponseEncoding.native(event.output, request: requests[event.index], index: isBatch ? event.index : nil))]
    }

    mutating func finish() -> [String] { [] }

    func error(_ error: ServerError) -> String { SSEStream.json(error.nativeJSON) }
}
