extension Engine {
    /// Whether the engine serves an embedding model (spec §9.3): `encode` instead of `generate`.
    public var isEmbedding: Bool { model.isEmbedding }

    /// Validates an embedding request on the caller's thread (tokenizing text), so a server can answer 400 first.
    /// - Throws: `RuntimeError.invalidInput` naming the problem: a generation model, an empty or too long prompt,
    ///   ids outside the vocabulary, `dimensions` the model was not trained for.
    public func prepare(_ request: EmbeddingRequest) throws -> PreparedRequest {
        guard isEmbedding else {
            throw RuntimeError.invalidInput(
                "this is a generation model; serve it with --is-embedding to compute embeddings")
        }
        if let dims = request.dimensions { try checkDimensions(dims) }
        var generate = GenerateRequest(rid: request.rid, prompt: request.prompt,
                                       sampling: SamplingParams(maxNewTokens: 0), timeout: request.timeout)
        generate.embeddingDimensions = request.dimensions
        let ids = try promptIds(for: generate)
        return PreparedRequest(request: generate, promptIds: ids, matcher: nil, multimodal: nil)
    }

    /// Embeds a prepared request: one prefill, then the last token's final hidden state, L2-normalized. The
    /// output's `embedding` holds it; `finishReason` is an abort when the request was aborted.
    public func encode(_ prepared: PreparedRequest) async throws -> GenerateOutput {
        var last: GenerateOutput?
        for try await out in generate(prepared) { last = out }
        guard let last else { throw RuntimeError.invalidInput("the request \(prepared.request.rid) produced no output") }
        return last
    }

    /// Embeds several prepared requests at once (the scheduler batches their prefills); outputs in request order.
    public func encode(_ prepared: [PreparedRequest]) async throws -> [GenerateOutput] {
        try await withThrowingTaskGroup(of: (Int, GenerateOutput).self) { group in
            for (i, p) in prepared.enumerated() { group.addTask { (i, try await self.encode(p)) } }
            var outputs = [GenerateOutput?](repeating: nil, count: prepared.count)
            for try await (i, out) in group { outputs[i] = out }
            return outputs.compactMap { $0 }
        }
    }

    /// `prepare` + `encode`.
    public func encode(_ request: EmbeddingRequest) async throws -> GenerateOutput {
        try await encode(try prepare(request))
    }

    /// SGLang's rule for `dimensions`: only a Matryoshka model may be cut, and only to a width it lists.
    func checkDimensions(_ dims: Int) throws {
        let config = model.config
        guard dims >= 1 else { throw RuntimeError.invalidInput("dimensions must be ≥ 1, found \(dims)") }
        guard config.isMatryoshka else {
            throw RuntimeError.invalidInput(
                "the model does not support Matryoshka representations (its config.json has neither "
                    + "matryoshka_dimensions nor is_matryoshka): cutting its embeddings to \(dims) dimensions would "
                    + "give poor results")
        }
        if let listed = config.matryoshkaDimensions, !listed.contains(dims) {
            throw RuntimeError.invalidInput("the model supports only the Matryoshka dimensions \(listed), not \(dims)")
        }
        guard dims <= config.hiddenSize else {
            throw RuntimeError.invalidInput("dimensions \(dims) exceeds the model's hidden size \(config.hiddenSize)")
        }
    }

    /// The pooled embedding of a final hidden state: its first `dimensions` values (all when nil), divided by
    /// their L2 norm (at least 1e-12, as torch's `normalize`).
    static func pool(_ hidden: ArraySlice<Float>, dimensions: Int?) -> [Float] {
        let kept = hidden.prefix(dimensions ?? hidden.count)
        var sum = 0.0
        for v in kept { sum += Double(v) * Double(v) }
        let scale = 1 / max(sum.squareRoot(), 1e-12)
        return kept.map { Float(Double($0) * scale) }
    }
}
