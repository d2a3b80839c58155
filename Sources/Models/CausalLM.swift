import Compute
import Foundation

/// Which positions of a forward produce logits.
public enum LogitsSelection: Sendable, Hashable {
    /// The last new token of every request (generation).
    case lastPerRequest
    /// Every new token (prompt logprobs, tests).
    case all
    /// These flat token indices, in this order (a batch where only some requests want prompt logprobs).
    case rows([Int])
}

/// Logits of a forward: `rows × vocabSize` fp32 values, row-major.
public struct Logits: Sendable, Hashable {
    /// Number of rows (requests or tokens, per the selection).
    public let rows: Int
    /// Values per row.
    public let vocabSize: Int
    /// Row-major values.
    public let values: [Float]

    /// Logits of `rows` rows of `vocabSize` values.
    public init(rows: Int, vocabSize: Int, values: [Float]) {
        self.rows = rows
        self.vocabSize = vocabSize
        self.values = values
    }

    /// Row `i`.
    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * vocabSize)..<((i + 1) * vocabSize)] }

    /// The index of the largest value of row `i` (the first one on ties, as torch.argmax).
    public func argmax(_ i: Int) -> Int {
        let r = row(i)
        var best = r.startIndex
        for j in r.indices where r[j] > r[best] { best = j }
        return best - r.startIndex
    }
}

/// A decoder-only causal language model of any supported family, running on a `ComputeBackend` over
/// SGLang's paged KV layout (`ReqToTokenPool` + `TokenToKVPool`) and `ForwardBatch` metadata.
///
/// `forward` is not reentrant (it reuses one workspace); the scheduler thread that owns the KV pools calls it.
public final class CausalLM: CausalModel, @unchecked Sendable {
    // @unchecked: weights are immutable; the workspace is guarded by `lock`.
    /// The decoded config.
    public let config: ModelConfig
    /// The backend kernels run on.
    public let backend: any ComputeBackend
    let embedding: WeightMatrix
    let layers: [DecoderLayer]
    let finalNorm: FloatBuffer
    let lmHead: WeightMatrix
    let rotary: RotaryEmbedding
    let norm: NormSettings
    private let workspace: Workspace
    private let lock = NSLock()

    /// Builds the model of `config` from `source` (safetensors, or a GGUF source that maps to HF names).
    /// - Throws: `ModelError.missingTensor` / `.shapeMismatch` naming the tensor.
    public init(config: ModelConfig, weights source: any WeightSource, backend: any ComputeBackend = CPUBackend()) throws {
        self.config = config
        self.backend = backend
        let w = WeightLoader(source: source)
        let h = config.hiddenSize
        embedding = try w.matrix("model.embed_tokens.weight", rows: config.vocabSize, cols: h)
        var layers: [DecoderLayer] = []
        for i in 0..<config.numHiddenLayers {
            let ff = try Self.loadFeedForward(w, config: config, layer: i)
            layers.append(try DecoderLayer.load(w, config: config, layer: i, feedForward: ff))
        }
        self.layers = layers
        finalNorm = try w.vector("model.norm.weight", count: h)
        if config.tieWordEmbeddings {
            lmHead = embedding
        } else {
            lmHead = try w.matrix("lm_head.weight", rows: config.vocabSize, cols: h)
        }
        let freqs = config.rope.frequencies()
        rotary = RotaryEmbedding(inverseFrequencies: freqs.inverseFrequencies,
                                 attentionFactor: Float(freqs.attentionFactor))
        norm = NormSettings(eps: Float(config.rmsNormEps), addOne: config.traits.normAddsOne)
        var maxInner = config.intermediateSize
        if let moe = config.moe {
            maxInner = max(maxInner, moe.expertIntermediateSize, moe.sharedExpertIntermediateSize ?? 0)
        }
        workspace = Workspace(sizes: WorkspaceSizes(
            hidden: h, qkvWidth: (config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim,
            attentionWidth: config.numAttentionHeads * config.headDim, maxInner: maxInner,
            experts: config.moe?.numExperts ?? 0))
    }

    /// Loads a Hugging Face model folder (config.json + safetensors).
    public convenience init(folder: String, backend: any ComputeBackend = CPUBackend()) throws {
        try self.init(config: ModelConfig.load(from: folder), weights: SafetensorsModel(folder: folder),
                      backend: backend)
    }

    /// `cpu`: every kernel runs on the host backend.
    public var deviceName: String { "cpu" }

    /// nil: the KV cache lives in host memory; the engine sizes it from RAM.
    public func kvCapacity(memFractionStatic fraction: Double) -> Int? { nil }

    /// A KV pool shaped for this model.
    public func makeKVPool(size: Int) -> TokenToKVPool {
        TokenToKVPool(size: size, layerCount: config.numHiddenLayers, kvHeads: config.numKeyValueHeads,
                      headDim: config.headDim)
    }

    /// Runs the batch: records its new KV slots in `reqToToken`, writes every layer's K/V for the new
    /// tokens into `kvPool`, and returns the logits of the selected positions.
    public func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                        logits selection: LogitsSelection = .lastPerRequest) throws -> Logits {
        lock.lock()
        defer { lock.unlock() }
        let rows = try runLayers(batch, reqToToken: reqToToken, kvPool: kvPool, selection: selection)
        let vocab = config.vocabSize
        let out = FloatBuffer(count: rows * vocab)
        try backend.linear(workspace.normed, tokens: rows, weight: lmHead, output: out)
        if let cap = config.finalLogitSoftcap {
            backend.softcap(out, count: rows * vocab, cap: Float(cap))
        }
        return Logits(rows: rows, vocabSize: vocab, values: out.toArray())
    }

    /// Runs the batch as `forward` does and returns the final hidden state of each request's last new token
    /// (after the last norm; the vocabulary projection is skipped).
    public func forwardHidden(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> HiddenStates {
        lock.lock()
        defer { lock.unlock() }
        let rows = try runLayers(batch, reqToToken: reqToToken, kvPool: kvPool, selection: .lastPerRequest)
        let h = config.hiddenSize
        return HiddenStates(rows: rows, hiddenSize: h, values: workspace.normed.toArray(offset: 0, count: rows * h))
    }

    /// Every layer over the batch, then the final norm of the selected rows into `workspace.normed`; returns
    /// how many rows. The caller holds `lock`.
    private func runLayers(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                           selection: LogitsSelection) throws -> Int {
        try batch.validate()
        guard kvPool.deviceStorage == nil else {
            throw ComputeError.shapeMismatch("this KV pool's storage belongs to a device model, not the CPU backend")
        }
        guard kvPool.layerCount == layers.count, kvPool.kvHeads == config.numKeyValueHeads,
              kvPool.headDim == config.headDim else {
            throw ComputeError.shapeMismatch(
                "KV pool of \(kvPool.layerCount) layers × \(kvPool.kvHeads) heads × \(kvPool.headDim) for this model")
        }
        for (i, len) in batch.seqLens.enumerated() where len > reqToToken.maxContext {
            throw ComputeError.invalidBatch("request \(i) reaches \(len) tokens; the context limit is \(reqToToken.maxContext)")
        }
        if let bad = batch.outCacheLoc.first(where: { $0 <= 0 || Int($0) >= kvPool.size }) {
            throw ComputeError.invalidBatch("KV slot \(bad) is outside 1..<\(kvPool.size)")
        }
        try reqToToken.record(batch)

        let ws = workspace
        let tokens = batch.tokenCount
        let h = config.hiddenSize
        ws.reserve(tokens: tokens)
        let context = ForwardContext(reqToToken: reqToToken, kvPool: kvPool, rotary: rotary(for: batch))

        try backend.embedding(ids: batch.inputIds, table: embedding,
                              scale: config.embeddingScale.map { Float($0) }, output: ws.hidden)
        if let overrides = batch.embeddingOverrides {
            try overrides.validate(tokenCount: tokens, hiddenSize: h)
            overrides.apply(to: ws.hidden)
        }
        for (i, layer) in layers.enumerated() {
            // Fold the previous sublayer's residual add into this norm.
            if i == 0 {
                backend.rmsNorm(ws.hidden, rows: tokens, dim: h, weight: layer.inputNorm, eps: norm.eps,
                                addOne: norm.addOne, output: ws.normed)
            } else {
                backend.addRMSNorm(residual: ws.hidden, delta: ws.delta, rows: tokens, dim: h, weight: layer.inputNorm,
                                   eps: norm.eps, addOne: norm.addOne, output: ws.normed)
            }
            try layer.attention.forward(backend, ws: ws, batch: batch, context: context, layer: i)
            if let preFF = layer.preFeedForwardNorm {
                backend.rmsNorm(ws.delta, rows: tokens, dim: h, weight: layer.postAttentionNorm, eps: norm.eps,
                                addOne: norm.addOne, output: ws.delta)
                backend.addRMSNorm(residual: ws.hidden, delta: ws.delta, rows: tokens, dim: h, weight: preFF,
                                   eps: norm.eps, addOne: norm.addOne, output: ws.normed)
            } else {
                backend.addRMSNorm(residual: ws.hidden, delta: ws.delta, rows: tokens, dim: h,
                                   weight: layer.postAttentionNorm, eps: norm.eps, addOne: norm.addOne, output: ws.normed)
            }
            switch layer.feedForward {
            case .dense(let mlp):
                try mlp.forward(backend, input: ws.normed, tokens: tokens, ws: ws, output: ws.delta)
            case .moe(let moe):
                try moe.forward(backend, ws: ws, tokens: tokens)
            }
            if let postFF = layer.postFeedForwardNorm {
                backend.rmsNorm(ws.delta, rows: tokens, dim: h, weight: postFF, eps: norm.eps, addOne: norm.addOne,
                                output: ws.delta)
            }
        }
        backend.add(residual: ws.hidden, delta: ws.delta, count: tokens * h)

        // Only the selected rows go through the final norm (and the vocabulary projection).
        let rows: [Int]
        switch selection {
        case .all: rows = Array(0..<tokens)
        case .lastPerRequest: rows = zip(batch.extendStartLoc, batch.extendLens).map { $0 + $1 - 1 }
        case .rows(let picked):
            if let bad = picked.first(where: { $0 < 0 || $0 >= tokens }) {
                throw ComputeError.invalidBatch("logits row \(bad) is outside the batch's \(tokens) tokens")
            }
            rows = picked
        }
        backend.gatherRows(ws.hidden, indices: rows, dim: h, output: ws.delta)
        backend.rmsNorm(ws.delta, rows: rows.count, dim: h, weight: finalNorm, eps: norm.eps, addOne: norm.addOne,
                        output: ws.normed)
        return rows.count
    }

    /// The rotary table for this batch. Dynamic NTK and LongRoPE depend on the sequence length the way
    /// transformers applies them: the longest sequence of the forward picks the frequencies.
    func rotary(for batch: ForwardBatch) -> RotaryEmbedding {
        guard let f = config.rope.lengthDependentFrequencies(longest: batch.seqLens.max() ?? 0) else { return rotary }
        return RotaryEmbedding(inverseFrequencies: f.inverseFrequencies, attentionFactor: Float(f.attentionFactor))
    }

    /// The feed-forward block of layer `layer`: a dense gated MLP (the Llama family and Gemma differ only in
    /// config traits read by the shared layers), or the sparse block of a mixture-of-experts layer (Mixtral,
    /// Qwen2-MoE, Qwen3-MoE — the same tensors the device model stacks, `ModelConfig.moeWeightNames`).
    static func loadFeedForward(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> FeedForward {
        if config.isDenseFeedForward(layer) { return .dense(try GatedMLP.dense(w, config: config, layer: layer)) }
        return .moe(try MoEBlock.load(w, config: config, layer: layer))
    }
}
