/// The gated activation of an MLP: `act(gate) * up`.
public enum GatedActivation: Sendable, Hashable {
    /// x·σ(x) (SwiGLU).
    case silu
    /// GELU, tanh approximation (GeGLU of Gemma).
    case geluTanh
    /// GELU with erf.
    case gelu
}

/// How the fused Q/K/V projection output is laid out: per token `[q heads | k heads | v heads] × headDim`.
public struct QKVLayout: Sendable, Hashable {
    /// Query heads.
    public var qHeads: Int
    /// Key/value heads.
    public var kvHeads: Int
    /// Head size.
    public var headDim: Int

    /// Creates a layout.
    public init(qHeads: Int, kvHeads: Int, headDim: Int) {
        self.qHeads = qHeads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }

    /// Floats per token in the fused buffer.
    public var width: Int { (qHeads + 2 * kvHeads) * headDim }
    /// Offset of the keys inside a token's row.
    public var kOffset: Int { qHeads * headDim }
    /// Offset of the values inside a token's row.
    public var vOffset: Int { (qHeads + kvHeads) * headDim }
}

/// Rotary position embedding of the rotate-half (GPT-NeoX / HF Llama) style.
public struct RotaryEmbedding: Sendable, Hashable {
    /// One inverse frequency per rotated pair (`rotaryDim / 2`).
    public var inverseFrequencies: [Float]
    /// Multiplier of cos and sin (YaRN/LongRoPE; 1 otherwise).
    public var attentionFactor: Float
    /// Channels rotated at the start of each head (`2 * inverseFrequencies.count`).
    public var rotaryDim: Int { 2 * inverseFrequencies.count }

    /// Creates a rotary embedding from precomputed inverse frequencies.
    public init(inverseFrequencies: [Float], attentionFactor: Float = 1) {
        self.inverseFrequencies = inverseFrequencies
        self.attentionFactor = attentionFactor
    }
}

/// Per-layer attention settings.
public struct AttentionParameters: Sendable, Hashable {
    /// Multiplier of q·k (usually `head_dim ** -0.5`).
    public var scale: Float
    /// `cap * tanh(score / cap)` on scaled scores (Gemma 2), nil for none.
    public var softcap: Float?
    /// Each query sees only keys with `position > queryPosition - window`, nil for full causal attention.
    public var slidingWindow: Int?

    /// Creates attention settings.
    public init(scale: Float, softcap: Float? = nil, slidingWindow: Int? = nil) {
        self.scale = scale
        self.softcap = softcap
        self.slidingWindow = slidingWindow
    }
}

/// The kernels a model forward needs (DESIGN.md §6). Buffers are row-major fp32; every call names the
/// row count it operates on, so buffers may be larger than needed (workspaces are reused across steps).
///
/// The CPU backend (`CPUBackend`) is the reference implementation; a device backend provides the same
/// operations over its own memory, with the same `ForwardBatch` / KV pool metadata.
public protocol ComputeBackend: Sendable {
    /// `output[t, :] = input[t, :] · Wᵀ (+ bias)` for `tokens` rows; dense or quantized weights.
    func linear(_ input: FloatBuffer, tokens: Int, weight: WeightMatrix, output: FloatBuffer) throws

    /// `output[t, :] = table[ids[t], :] * scale` (scale nil: unscaled).
    func embedding(ids: [Int32], table: WeightMatrix, scale: Float?, output: FloatBuffer) throws

    /// `output[r, :] = x[r, :] / rms(x[r, :]) * w` for `rows` rows of `dim`; `addOne` uses Gemma's `(1 + w)`.
    /// `output` may be `x` (in place).
    func rmsNorm(_ x: FloatBuffer, rows: Int, dim: Int, weight: FloatBuffer, eps: Float, addOne: Bool,
                 output: FloatBuffer)

    /// Fused residual add and norm: `residual += delta`, then `output = rmsNorm(residual)`.
    func addRMSNorm(residual: FloatBuffer, delta: FloatBuffer, rows: Int, dim: Int, weight: FloatBuffer,
                    eps: Float, addOne: Bool, output: FloatBuffer)

    /// `residual += delta` over `count` values.
    func add(residual: FloatBuffer, delta: FloatBuffer, count: Int)

    /// Per-head RMSNorm of the queries and keys in a fused QKV buffer, in place (Qwen3's q_norm/k_norm).
    func qkNorm(_ qkv: FloatBuffer, tokens: Int, layout: QKVLayout, qWeight: FloatBuffer, kWeight: FloatBuffer,
                eps: Float)

    /// Rotates queries and keys of a fused QKV buffer in place by their positions, then stores every new
    /// token's key and value at its `outCacheLoc` slot of layer `layer`.
    func ropeAndStoreKV(_ qkv: FloatBuffer, layout: QKVLayout, batch: ForwardBatch, rotary: RotaryEmbedding,
                        kvPool: TokenToKVPool, layer: Int)

    /// Causal paged attention of every new token of `batch` over its request's cached and new keys
    /// (extend and decode alike), with GQA, optional sliding window and soft-capping.
    /// Writes `output[t, qHeads × headDim]`.
    func attention(_ qkv: FloatBuffer, layout: QKVLayout, batch: ForwardBatch, reqToToken: ReqToTokenPool,
                   kvPool: TokenToKVPool, layer: Int, parameters: AttentionParameters, output: FloatBuffer)

    /// `output[t, i] = act(gateUp[t, i]) * gateUp[t, inner + i]` for `tokens` rows of `2 * inner`.
    func gatedActivation(_ gateUp: FloatBuffer, tokens: Int, inner: Int, activation: GatedActivation,
                         output: FloatBuffer)

    /// Copies rows `indices` of `source` (`dim` wide) into consecutive rows of `output`.
    func gatherRows(_ source: FloatBuffer, indices: [Int], dim: Int, output: FloatBuffer)

    /// `output[indices[i], :] += weights[i] * source[i, :]` (MoE combine).
    func scatterAddRows(_ source: FloatBuffer, indices: [Int], weights: [Float], dim: Int, output: FloatBuffer)

    /// `x = cap * tanh(x / cap)` over `count` values (Gemma 2 final logits).
    func softcap(_ x: FloatBuffer, count: Int, cap: Float)

    /// Row-wise log-softmax (`rows` rows of `dim`), computed in double for the normalizer.
    func logSoftmax(_ x: FloatBuffer, rows: Int, dim: Int, output: FloatBuffer)

    /// Row-wise softmax.
    func softmax(_ x: FloatBuffer, rows: Int, dim: Int, output: FloatBuffer)
}
