import Foundation
import Grammar
import Models
import Synchronization
import Tokenizers

/// The in-process serving engine (SGLang's `Engine`): many requests share one model through the scheduler,
/// which runs on one dedicated thread and owns the KV pools, the radix cache and the running batch.
///
/// Every method is thread-safe. Requests are validated (and tokenized, and their grammar compiled) on the
/// caller's thread; `generate` then returns a stream of cumulative `GenerateOutput`s.
public final class Engine: Sendable {
    /// The model being served.
    public let model: LoadedModel
    /// The settings the engine was started with.
    public let options: EngineOptions
    /// The context length requests are checked against.
    public let contextLength: Int
    /// KV cache slots (tokens).
    public let maxTotalTokens: Int
    /// Most requests in the running batch.
    public let maxRunningRequests: Int
    /// Longest accepted prompt: `min(contextLength, maxTotalTokens) - 1`.
    public let maxRequestInputLength: Int
    let scheduler: Scheduler
    private let grammarCompiler: Mutex<GrammarCompiler?> = Mutex(nil)
    private let seedCounter = Mutex<UInt64>(0)

    /// Starts an engine over `model` (its scheduler thread starts at once).
    /// - Throws: `RuntimeError.invalidInput` when the options leave no room for the KV cache.
    public init(model: LoadedModel, options: EngineOptions = EngineOptions()) throws {
        self.model = model
        self.options = options
        let config = model.config
        let modelContext = config.rope.maxPositionEmbeddings > 0 ? config.rope.maxPositionEmbeddings : 4096
        contextLength = options.contextLength ?? modelContext
        guard contextLength > 1 else { throw RuntimeError.invalidInput("context length must be > 1, found \(contextLength)") }
        let perToken = 2 * config.numHiddenLayers * config.numKeyValueHeads * config.headDim * MemoryLayout<Float>.size
        let tokens: Int
        if let fixed = options.maxTotalTokens {
            tokens = fixed
        } else if let device = try model.model.kvCapacity(memFractionStatic: options.memFractionStatic ?? 0.88) {
            // A device model: SGLang's rule, a fraction of the device memory left after the weights.
            tokens = device
        } else {
            // On the CPU the KV cache lives in RAM next to everything else: a fraction of physical memory,
            // at most four full contexts (the default keeps a laptop usable).
            let fraction = options.memFractionStatic ?? 0.1
            let budget = Double(ProcessInfo.processInfo.physicalMemory) * fraction
            tokens = min(Int(budget) / max(1, perToken), 4 * contextLength)
        }
        guard tokens > 16 else {
            throw RuntimeError.invalidInput(
                "the KV cache would hold only \(tokens) tokens; raise --mem-fraction-static or --max-total-tokens")
        }
        maxTotalTokens = tokens
        // SGLang's default: the request pool has clamp(max_total_tokens / context_len · 512, 2048, 5120) rows, and
        // min(max_total_tokens / 2, rows − 1) requests may run.
        let poolRows = min(max(Int(Double(tokens) / Double(contextLength) * 512), 2048), 5120)
        maxRunningRequests = max(1, options.maxRunningRequests ?? min(tokens / 2, poolRows - 1))
        maxRequestInputLength = min(contextLength, tokens) - 1
        guard options.streamInterval >= 1 else {
            throw RuntimeError.invalidInput("stream interval must be ≥ 1, found \(options.streamInterval)")
        }
        guard options.maxPrefillTokens >= 1 else {
            throw RuntimeError.invalidInput("max prefill tokens must be ≥ 1, found \(options.maxPrefillTokens)")
        }
        if let pattern = options.constrainedJSONWhitespacePattern {
            do { try RegexCompiler.validate(pattern) } catch {
                throw RuntimeError.invalidInput("the constrained JSON whitespace pattern \(pattern.debugDescription) is invalid: \(error)")
            }
        }
        let scheduler = try Scheduler(model: model, options: options, maxTotalTokens: tokens,
                                  maxRunningRequests: maxRunningRequests, contextLength: contextLength)
        self.scheduler = scheduler
        let thread = Thread { scheduler.run() }
        thread.name = "sglang-scheduler"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit { scheduler.send(.shutdown) }

    /// The tokenizer, when the model has one.
    public var tokenizer: Tokenizer? { model.tokenizer }

    /// Validates a request and returns its prompt ids (tokenizing text).
    /// - Throws: `RuntimeError.invalidInput` / `.invalidSamplingParams` naming the problem (empty prompt, ids
    ///   outside the vocabulary, a prompt longer than the context, bad sampling values, an invalid grammar).
    public func promptIds(for request: GenerateRequest) throws -> [Int] {
        let vocab = model.config.vocabSize
        let ids: [Int]
        switch request.prompt {
        case .ids(let given):
            ids = given
        case .text(let text):
            guard let tokenizer = model.tokenizer else {
                throw RuntimeError.invalidInput("the model has no tokenizer; send input_ids instead of text")
            }
            ids = tokenizer.encode(text)
        }
        guard !ids.isEmpty else { throw RuntimeError.invalidInput("the prompt is empty") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw RuntimeError.invalidInput("token id \(bad) is outside the vocabulary 0..<\(vocab)")
        }
        guard ids.count <= maxRequestInputLength else {
            throw RuntimeError.invalidInput(
                "the input (\(ids.count) tokens) is longer than the model's context length (\(contextLength) tokens)")
        }
        try request.sampling.validate(vocabSize: vocab)
        guard request.sampling.n == 1 else {
            throw RuntimeError.invalidSamplingParams("n > 1 is expanded by generateParallel; a single request has n = 1")
        }
        if let bad = request.tokenIdsLogprob?.first(where: { $0 < 0 || $0 >= vocab }) {
            throw RuntimeError.invalidInput("token_ids_logprob contains \(bad), outside the vocabulary 0..<\(vocab)")
        }
        guard request.topLogprobsNum >= 0 else {
            throw RuntimeError.invalidInput("top_logprobs_num must be ≥ 0, found \(request.topLogprobsNum)")
        }
        if let timeout = request.timeout, !(timeout > 0) {
            throw RuntimeError.invalidInput("timeout must be > 0 seconds, found \(timeout)")
        }
        return ids
    }

    /// Compiles the request's grammar (regex or JSON schema), or nil when it has none.
    /// - Throws: `RuntimeError.invalidInput` with the grammar error.
    func grammarMatcher(for params: SamplingParams) throws -> GrammarMatcher? {
        let spec: GrammarSpec
        if let regex = params.regex {
            spec = .regex(regex)
        } else if let schema = params.jsonSchema {
            spec = schema == "$$ANY$$" ? .jsonObject : .jsonSchema(schema)
        } else {
            return nil
        }
        guard let tokenizer = model.tokenizer else {
            throw RuntimeError.invalidInput("constrained decoding needs the model's tokenizer")
        }
        let compiler = try grammarCompiler.withLock { cached -> GrammarCompiler in
            if let c = cached { return c }
            let index = try TokenIndex(tokenizer: tokenizer, extraEOSTokenIds: Array(model.eosTokenIds))
            let c = GrammarCompiler(
                index: index, schemaOptions: JSONSchemaOptions(whitespacePattern: options.constrainedJSONWhitespacePattern))
            cached = c
            return c
        }
        do {
            return try compiler.matcher(for: spec)
        } catch {
            throw RuntimeError.invalidInput("invalid grammar: \(error)")
        }
    }

    /// Validates a request completely on the caller's thread: prompt (tokenized), sampling values and grammar.
    /// The server calls this first so it can answer 400 before it starts a response.
    /// - Throws: `RuntimeError.invalidInput` / `.invalidSamplingParams` naming the problem.
    public func prepare(_ request: GenerateRequest) throws -> PreparedRequest {
        guard !isEmbedding else {
            throw RuntimeError.invalidInput("this is an embedding model: it computes embeddings (/encode, /v1/embeddings) "
                                            + "and does not generate")
        }
        let ids = try promptIds(for: request)
        let multimodal = try multimodalPrompt(for: request, promptIds: ids)
        let matcher = try grammarMatcher(for: request.sampling)
        var stopRegex: StopRegexMatcher?
        if !request.sampling.stopRegex.isEmpty {
            do { stopRegex = try StopRegexMatcher(request.sampling.stopRegex) } catch {
                throw RuntimeError.invalidSamplingParams("stop_regex is invalid: \(error)")
            }
        }
        return PreparedRequest(request: request, promptIds: multimodal?.paddedIds ?? ids, matcher: matcher,
                               multimodal: multimodal, stopRegex: stopRegex)
    }

    /// Submits a prepared request; the stream yields cumulative outputs (every `stream_interval` tokens when
    /// `request.stream`, else only the final one) and finishes after the output whose `finishReason` is set.
    /// Cancelling the stream's consumer (a disconnected client) aborts the request.
    public func generate(_ prepared: PreparedRequest) -> AsyncThrowingStream<GenerateOutput, any Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerateOutput, any Error>.makeStream()
        submit(prepared.request, promptIds: prepared.promptIds, matcher: prepared.matcher,
               multimodal: prepared.multimodal, stopRegex: prepared.stopRegex, continuation: continuation)
        return stream
    }

    /// `prepare` + `generate`: invalid requests finish the stream at once with the validation error.
    public func generate(_ request: GenerateRequest) -> AsyncThrowingStream<GenerateOutput, any Error> {
        do {
            return generate(try prepare(request))
        } catch {
            let (stream, continuation) = AsyncThrowingStream<GenerateOutput, any Error>.makeStream()
            continuation.finish(throwing: error)
            return stream
        }
    }

    /// Hands a validated request to the scheduler.
    private func submit(_ request: GenerateRequest, promptIds ids: [Int], matcher: GrammarMatcher?,
                        multimodal: MultimodalPrompt? = nil, stopRegex: StopRegexMatcher? = nil,
                continuation: AsyncThrowingStream<GenerateOutput, any Error>.Continuation) {
        var params = request.sampling
        var stopIds = params.stopTokenIds
        if !params.ignoreEOS { stopIds.formUnion(model.eosTokenIds) } else { stopIds = [] }
        if params.seed == nil {
            params.seed = seedCounter.withLock { counter in
                counter &+= 1
                return Self.mix(options.randomSeed, counter)
            }
        }
        // Penalties and detokenization read the prompt as written (image pad ids are not text).
        let textIds = multimodal?.originIds ?? ids
        let sampler = RequestSampler(params: params, promptIds: textIds, vocabSize: model.config.vocabSize,
                                     stopIds: stopIds, seed: params.seed ?? 0, sampleIndex: request.sampleIndex)
        let text = model.tokenizer.map {
            RequestOutputText(tokenizer: $0, promptIds: textIds, params: params, stopRegex: stopRegex)
        }
        let rid = request.rid
        let scheduler = self.scheduler
        continuation.onTermination = { reason in
            if case .cancelled = reason { scheduler.send(.abort(rid: rid, message: "the client disconnected")) }
        }
        let req = ScheduledRequest(request: request, promptIds: ids, params: params, sampler: sampler, stopIds: stopIds,
                                   outputText: text, matcher: matcher, continuation: continuation,
                                   now: Scheduler.now())
        req.images = multimodal?.images ?? []
        scheduler.send(.add(req))
    }

    /// Expands a request with `n` samples (spec §2.2) and validates every part: the samples (rids `rid`, or
    /// `rid-i` for i > 0; sample index i) and, for n > 1, the prefill-only request (`rid-prefill`: no new
    /// tokens, no grammar, no stream, no logprobs) that caches the prompt before the samples start.
    /// - Throws: the validation error, as `prepare`.
    public func prepareParallel(_ request: GenerateRequest) throws -> PreparedParallelRequest {
        let n = request.sampling.n
        var single = request
        single.sampling.n = 1
        let ids = try promptIds(for: single)
        single.prompt = .ids(ids)
        var samples: [PreparedRequest] = []
        for i in 0..<max(n, 1) {
            var item = single
            item.rid = i == 0 ? request.rid : "\(request.rid)-\(i)"
            item.sampleIndex = i
            samples.append(try prepare(item))
        }
        var warm: PreparedRequest?
        if n > 1 {
            var w = single
            w.rid = request.rid + "-prefill"
            w.sampling.maxNewTokens = 0
            w.sampling.minNewTokens = 0
            w.sampling.regex = nil
            w.sampling.jsonSchema = nil
            w.stream = false
            w.returnLogprob = false
            warm = try prepare(w)
        }
        return PreparedParallelRequest(promptIds: ids, samples: samples, warm: warm)
    }

    /// SGLang's parallel sampling: a prefill-only request warms the cache with the prompt (awaited), then `n`
    /// samples (rids `rid`, or `rid-i` for i > 0; sample index i) run over the shared prefix.
    /// - Throws: the validation error (`prepareParallel`) or the warm-up's error.
    public func generateParallel(_ request: GenerateRequest) async throws -> [AsyncThrowingStream<GenerateOutput, any Error>] {
        let prepared = try prepareParallel(request)
        if let warm = prepared.warm {
            for try await _ in generate(warm) {}
        }
        return prepared.samples.map { generate($0) }
    }

    /// Aborts a waiting or running request (its stream ends with an abort finish reason).
    public func abort(rid: String) { scheduler.send(.abort(rid: rid, message: "aborted by request")) }

    /// Aborts every request.
    public func abortAll() { scheduler.send(.abortAll) }

    /// Empties the radix cache; refused (false) while any request is waiting or running.
    public func flushCache() async -> Bool {
        await withCheckedContinuation { c in scheduler.send(.flushCache(c)) }
    }

    /// The scheduler's counters.
    public func stats() async -> EngineStats {
        await withCheckedContinuation { c in scheduler.send(.stats(c)) }
    }

    /// Checks that no KV slot leaked: when idle, every slot is free or held by the radix cache. Returns a
    /// description of the violation, or nil (also nil while requests are running: the check needs idleness).
    public func checkMemory() async -> String? {
        await withCheckedContinuation { c in scheduler.send(.checkMemory(c)) }
    }

    /// Stops the scheduler: running and waiting requests end with an abort.
    public func shutdown() { scheduler.send(.shutdown) }

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ b &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
