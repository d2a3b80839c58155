import Compute
import Models

/// One generated token with its log-probabilities.
public struct GeneratedToken: Sendable, Hashable {
    /// The chosen id.
    public let id: Int
    /// The `topLogprobs` most likely ids of this step with their log-probabilities (model distribution).
    public let topLogprobs: [TokenLogprob]
}

/// A (token id, log-probability) pair.
public struct TokenLogprob: Sendable, Hashable {
    /// Token id.
    public let id: Int
    /// Natural-log probability.
    public let logprob: Double
}

/// The result of one generation.
public struct GenerationResult: Sendable, Hashable {
    /// Every generated id, the final EOS included when generation stopped on it.
    public let outputIds: [Int]
    /// Per-step top log-probabilities (empty lists when none were requested).
    public let topLogprobs: [[TokenLogprob]]
    /// Why it stopped.
    public let finishReason: FinishReason
}

/// Single-request generation over a `CausalModel`: a prefill of the prompt, then one decode forward per token
/// on the paged KV pool, sampling each step with a `RequestSampler`.
public struct Generator: Sendable {
    /// The network.
    public let model: any CausalModel

    /// A generator for `model`.
    public init(model: any CausalModel) { self.model = model }

    /// Generates up to `maxNewTokens` ids after `promptIds`.
    ///
    /// - Parameters:
    ///   - stopIds: ids that end generation (kept as the last output id) unless `ignoreEOS`.
    ///   - topLogprobs: how many top log-probabilities to report per step (0: none).
    ///   - onToken: called with every generated token as soon as it is chosen (streaming).
    /// - Throws: `RuntimeError.invalidInput` for an empty prompt, ids outside the vocabulary or a prompt
    ///   longer than the context; `invalidSamplingParams`; compute errors.
    public func generate(promptIds: [Int], params: SamplingParams = SamplingParams(), maxNewTokens: Int = 128,
                         stopIds: Set<Int> = [], ignoreEOS: Bool = false, topLogprobs: Int = 0,
                         onToken: (GeneratedToken) throws -> Void = { _ in }) throws -> GenerationResult {
        try params.validate()
        let vocab = model.config.vocabSize
        guard !promptIds.isEmpty else { throw RuntimeError.invalidInput("the prompt has no tokens") }
        if let bad = promptIds.first(where: { $0 < 0 || $0 >= vocab }) {
            throw RuntimeError.invalidInput("token id \(bad) is outside the vocabulary 0..<\(vocab)")
        }
        guard maxNewTokens >= 0 else {
            throw RuntimeError.invalidInput("max_new_tokens must be ≥ 0, found \(maxNewTokens)")
        }
        let contextLimit = model.config.rope.maxPositionEmbeddings
        let total = promptIds.count + maxNewTokens
        if contextLimit > 0, promptIds.count > contextLimit {
            throw RuntimeError.invalidInput(
                "the prompt has \(promptIds.count) tokens; the model's context is \(contextLimit)")
        }
        let capacity = contextLimit > 0 ? min(total, contextLimit) : total
        let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: capacity)
        let kvPool = try model.makeKVPool(size: capacity + 1)
        let row = Int32(try reqPool.alloc())
        var sampler = RequestSampler(params: params, promptIds: promptIds, vocabSize: vocab, stopIds: stopIds,
                                     seed: params.seed ?? 42, sampleIndex: 0)
        var scratch = [Float](repeating: 0, count: vocab)

        var output: [Int] = []
        var logprobs: [[TokenLogprob]] = []
        guard maxNewTokens > 0 else { return GenerationResult(outputIds: [], topLogprobs: [], finishReason: .length(maxNewTokens)) }
        var logits = try model.forward(
            ForwardBatch(requests: [row], prefixLens: [0], newTokens: [promptIds.map(Int32.init)],
                         slots: try kvPool.alloc(promptIds.count)),
            reqToToken: reqPool, kvPool: kvPool)
        var length = promptIds.count
        while true {
            let row0 = logits.row(0)
            let top = Sampler.topLogprobs(row0, k: topLogprobs).map { TokenLogprob(id: $0.id, logprob: $0.logprob) }
            // The sampler rewrites its row, so it gets a copy (the raw row gave the logprobs above).
            scratch.replaceSubrange(0..<scratch.count, with: row0)
            let id = scratch.withUnsafeMutableBufferPointer { sampler.sample($0, allowedMask: nil) }
            sampler.accept(id)
            output.append(id)
            logprobs.append(top)
            try onToken(GeneratedToken(id: id, topLogprobs: top))
            if !ignoreEOS && stopIds.contains(id) {
                return GenerationResult(outputIds: output, topLogprobs: logprobs, finishReason: .matchedToken(id))
            }
            if output.count >= maxNewTokens || length >= capacity {
                return GenerationResult(outputIds: output, topLogprobs: logprobs, finishReason: .length(output.count))
            }
            logits = try model.forward(
                ForwardBatch(requests: [row], prefixLens: [length], newTokens: [[Int32(id)]], slots: try kvPool.alloc(1)),
                reqToToken: reqPool, kvPool: kvPool)
            length += 1
        }
    }
}
