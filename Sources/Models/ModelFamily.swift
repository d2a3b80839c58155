/// The architecture families this project implements, keyed by config.json `model_type`.
///
/// The raw value is the `model_type` string. Each family carries the defaults transformers'
/// config class uses when a key is absent, and the structural traits the model builder needs.
public enum ModelFamily: String, Sendable, CaseIterable, Hashable {
    /// Llama 1/2/3/3.1, SmolLM2 and other Llama-shaped models.
    case llama
    /// Mistral 7B (sliding-window attention when `sliding_window` is set).
    case mistral
    /// Qwen2 and Qwen2.5 (q/k/v biases).
    case qwen2
    /// Qwen3 (per-head q/k RMSNorm, explicit `head_dim`).
    case qwen3
    /// Gemma 1 (GeGLU, `1 + weight` norms, scaled embeddings).
    case gemma
    /// Gemma 2 (Gemma 1 plus soft-capping, sandwich norms, alternating sliding windows).
    case gemma2
    /// Mixtral (top-k routed experts, renormalized).
    case mixtral
    /// Qwen2-MoE / Qwen1.5-MoE (routed experts plus a sigmoid-gated shared expert).
    case qwen2Moe = "qwen2_moe"
    /// Qwen3-MoE (routed experts, optional top-k renormalization, q/k norms).
    case qwen3Moe = "qwen3_moe"
    /// Phi-3 (fused qkv and gate/up projections, LongRoPE).
    case phi3

    /// The family for a `model_type` string, or nil when it is not supported.
    public init?(modelType: String) {
        self.init(rawValue: modelType)
    }

    /// Every supported `model_type`, sorted, for error messages and `--help` text.
    public static var supportedModelTypes: [String] { allCases.map(\.rawValue).sorted() }

    /// The family's defaults and structural traits.
    public var traits: ModelFamilyTraits {
        switch self {
        case .llama:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 2048,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .none)
        case .mistral:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 131_072,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .allLayers(default: 4096))
        case .qwen2:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 32_768,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .qwenUpperLayers(default: 4096))
        case .qwen3:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 32_768,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .qwenUpperLayers(default: 4096),
                defaultHeadDim: 128, qkNorm: true)
        case .gemma:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 8192,
                tieWordEmbeddings: true, activation: .geluTanh, slidingWindowRule: .none,
                defaultHeadDim: 256, normAddsOne: true, scalesEmbeddings: true)
        case .gemma2:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 8192,
                tieWordEmbeddings: true, activation: .geluTanh, slidingWindowRule: .alternating(default: 4096),
                defaultHeadDim: 256, normAddsOne: true, scalesEmbeddings: true, sandwichNorms: true)
        case .mixtral:
            return ModelFamilyTraits(
                ropeTheta: 1_000_000, rmsNormEps: 1e-5, maxPositionEmbeddings: 131_072,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .allLayers(default: nil))
        case .qwen2Moe:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 32_768,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .qwenUpperLayers(default: 4096))
        case .qwen3Moe:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-6, maxPositionEmbeddings: 32_768,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .qwenUpperLayers(default: 4096),
                qkNorm: true)
        case .phi3:
            return ModelFamilyTraits(
                ropeTheta: 10_000, rmsNormEps: 1e-5, maxPositionEmbeddings: 4096,
                tieWordEmbeddings: false, activation: .silu, slidingWindowRule: .allLayers(default: nil),
                fusedProjections: true)
        }
    }

    /// Whether the feed-forward blocks are mixtures of experts.
    public var isMoE: Bool {
        switch self {
        case .mixtral, .qwen2Moe, .qwen3Moe: return true
        default: return false
        }
    }
}

/// How a family places sliding-window attention layers.
public enum SlidingWindowRule: Sendable, Hashable {
    /// No sliding-window attention.
    case none
    /// Every layer uses `sliding_window` when it is set (Mistral, Mixtral, Phi-3).
    case allLayers(default: Int?)
    /// Layers `i >= max_window_layers` slide, only when `use_sliding_window` is true (Qwen2/3 families).
    case qwenUpperLayers(default: Int?)
    /// Even layers slide, odd layers attend fully (Gemma 2), unless `layer_types` says otherwise.
    case alternating(default: Int?)
}

/// The activation of the gated MLP.
public enum Activation: String, Sendable, Hashable {
    /// `silu` (a.k.a. swish): x·σ(x).
    case silu
    /// The tanh approximation of GELU (`gelu_pytorch_tanh`, `gelu_new`, Gemma's legacy `gelu`).
    case geluTanh = "gelu_pytorch_tanh"
    /// Exact (erf) GELU.
    case gelu

    /// Parses a transformers `ACT2FN` name.
    init?(hfName: String) {
        switch hfName {
        case "silu", "swish": self = .silu
        case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh": self = .geluTanh
        case "gelu": self = .gelu
        default: return nil
        }
    }
}

/// Defaults (transformers' config-class values for absent keys) and structural traits of a family.
public struct ModelFamilyTraits: Sendable, Hashable {
    /// `rope_theta` when the config gives none.
    public var ropeTheta: Double
    /// `rms_norm_eps` when absent.
    public var rmsNormEps: Double
    /// `max_position_embeddings` when absent.
    public var maxPositionEmbeddings: Int
    /// `tie_word_embeddings` when absent.
    public var tieWordEmbeddings: Bool
    /// The MLP activation when the config names none.
    public var activation: Activation
    /// Where sliding-window attention applies.
    public var slidingWindowRule: SlidingWindowRule
    /// `head_dim` when absent; nil means `hidden_size / num_attention_heads`.
    public var defaultHeadDim: Int? = nil
    /// RMSNorm on per-head queries and keys before RoPE (Qwen3).
    public var qkNorm: Bool = false
    /// RMSNorm multiplies by `1 + weight` instead of `weight` (Gemma).
    public var normAddsOne: Bool = false
    /// Token embeddings are multiplied by `sqrt(hidden_size)` (Gemma).
    public var scalesEmbeddings: Bool = false
    /// Extra norms after attention and around the MLP (Gemma 2).
    public var sandwichNorms: Bool = false
    /// Q/K/V and gate/up projections are stored fused (`qkv_proj`, `gate_up_proj`; Phi-3).
    public var fusedProjections: Bool = false
}
