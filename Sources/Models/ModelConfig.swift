import Foundation
import JSON

/// Whether a decoder layer attends to every earlier token or only to a recent window.
public enum AttentionLayerType: String, Sendable, Hashable {
    /// Causal attention over the whole prefix.
    case full = "full_attention"
    /// Causal attention over the last `slidingWindow` positions.
    case sliding = "sliding_attention"
}

/// A decoded config.json of a supported causal language model.
///
/// Decoding follows transformers' config classes: absent keys take the family's defaults, both RoPE
/// styles are accepted, and derived values (`headDim`, per-layer attention types, the attention scale)
/// are resolved here so model code never reads raw JSON.
public struct ModelConfig: Sendable, Hashable {
    /// The config.json `model_type`.
    public var modelType: String
    /// The architecture family `model_type` maps to.
    public var family: ModelFamily
    /// The config's `architectures` list (e.g. `LlamaForCausalLM`), empty when absent.
    public var architectures: [String]
    /// The checkpoint's dtype name (`dtype`, or legacy `torch_dtype`), e.g. `bfloat16`.
    public var dtype: String?

    /// Rows of the token embedding (`vocab_size`).
    public var vocabSize: Int
    /// Width of the residual stream (`hidden_size`).
    public var hiddenSize: Int
    /// Width of the dense MLP (`intermediate_size`).
    public var intermediateSize: Int
    /// Number of decoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Query heads per layer (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Key/value heads per layer (`num_key_value_heads`; equal to the query heads when absent).
    public var numKeyValueHeads: Int
    /// Per-head size: `head_dim` when given, else the family default, else hidden / heads.
    public var headDim: Int
    /// The context length the model was configured for (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Epsilon of every RMSNorm (`rms_norm_eps`).
    public var rmsNormEps: Double
    /// The MLP activation.
    public var hiddenActivation: Activation
    /// The output projection shares the token embedding matrix (no `lm_head.weight` is stored).
    public var tieWordEmbeddings: Bool
    /// Rotary position embedding settings, from either config style.
    public var rope: RopeConfig

    /// q/k/v projections have biases (always for Qwen2; `qkv_bias` for Qwen2-MoE; `attention_bias` elsewhere).
    public var attentionQKVBias: Bool
    /// The attention output projection has a bias (`attention_bias` for Llama, Qwen3, Gemma).
    public var attentionOutputBias: Bool
    /// MLP projections have biases (Llama's `mlp_bias`).
    public var mlpBias: Bool

    /// The sliding-window size where sliding layers exist; nil when every layer attends fully.
    public var slidingWindow: Int?
    /// Attention type of each layer (`numHiddenLayers` entries).
    public var layerTypes: [AttentionLayerType]

    /// Gemma 2: attention scores are scaled by `query_pre_attn_scalar ** -0.5` instead of `head_dim ** -0.5`.
    public var queryPreAttentionScalar: Double?
    /// Gemma 2: `cap * tanh(score / cap)` on attention scores.
    public var attentionLogitSoftcap: Double?
    /// Gemma 2: `cap * tanh(logit / cap)` on the final logits.
    public var finalLogitSoftcap: Double?

    /// Mixture-of-experts settings; nil for dense families.
    public var moe: MoEConfig?

    /// `bos_token_id`, nil when unset.
    public var bosTokenId: Int?
    /// `eos_token_id` as a list (a single id becomes a one-element list).
    public var eosTokenIds: [Int]
    /// `pad_token_id`, nil when unset.
    public var padTokenId: Int?

    /// The whole config.json, for keys a later architecture needs.
    public var raw: JSONValue

    /// Structural traits of the family (norm style, embedding scaling, fused projections...).
    public var traits: ModelFamilyTraits { family.traits }

    /// The softmax scale of attention scores.
    public var attentionScale: Double {
        1.0 / (queryPreAttentionScalar ?? Double(headDim)).squareRoot()
    }

    /// Multiplier of token embeddings (`sqrt(hidden_size)` for Gemma), nil when embeddings are not scaled.
    public var embeddingScale: Double? {
        traits.scalesEmbeddings ? Double(hiddenSize).squareRoot() : nil
    }

    /// The sliding window of layer `index`, nil when that layer attends to all earlier tokens.
    public func slidingWindow(forLayer index: Int) -> Int? {
        guard index >= 0, index < layerTypes.count, layerTypes[index] == .sliding else { return nil }
        return slidingWindow
    }

    /// Decodes a parsed config.json.
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else {
            throw ModelError.invalidField("config", reason: "config.json must hold a JSON object, found \(json.typeName)")
        }
        let c = ConfigReader(json)
        guard let modelType = try c.string("model_type") else { throw ModelError.missingField("model_type") }
        guard let family = ModelFamily(modelType: modelType) else {
            throw ModelError.unsupportedModelType(modelType, supported: ModelFamily.supportedModelTypes)
        }
        let traits = family.traits
        self.modelType = modelType
        self.family = family
        self.raw = json
        architectures = try c.stringList("architectures") ?? []
        dtype = try c.string("dtype") ?? c.string("torch_dtype")

        vocabSize = try c.requiredPositiveInt("vocab_size")
        hiddenSize = try c.requiredPositiveInt("hidden_size")
        intermediateSize = try c.requiredPositiveInt("intermediate_size")
        numHiddenLayers = try c.requiredPositiveInt("num_hidden_layers")
        numAttentionHeads = try c.requiredPositiveInt("num_attention_heads")
        numKeyValueHeads = try c.positiveInt("num_key_value_heads") ?? numAttentionHeads
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw ModelError.invalidField(
                "num_key_value_heads",
                reason: "\(numKeyValueHeads) does not divide num_attention_heads (\(numAttentionHeads))")
        }
        if let explicit = try c.positiveInt("head_dim") {
            headDim = explicit
        } else if let byFamily = traits.defaultHeadDim {
            headDim = byFamily
        } else {
            guard hiddenSize % numAttentionHeads == 0 else {
                throw ModelError.invalidField(
                    "hidden_size",
                    reason: "\(hiddenSize) is not divisible by num_attention_heads (\(numAttentionHeads)) and no head_dim is given")
            }
            headDim = hiddenSize / numAttentionHeads
        }
        maxPositionEmbeddings = try c.positiveInt("max_position_embeddings") ?? traits.maxPositionEmbeddings
        rmsNormEps = try c.double("rms_norm_eps") ?? traits.rmsNormEps
        guard rmsNormEps > 0 else {
            throw ModelError.invalidField("rms_norm_eps", reason: "must be positive, found \(rmsNormEps)")
        }
        hiddenActivation = try Self.decodeActivation(c, family: family)
        tieWordEmbeddings = try c.bool("tie_word_embeddings") ?? traits.tieWordEmbeddings
        rope = try RopeConfig.decode(c, family: family, headDim: headDim, maxPositionEmbeddings: maxPositionEmbeddings)

        let attentionBias = try c.bool("attention_bias") ?? false
        switch family {
        case .llama, .qwen3, .qwen3Moe, .gemma, .gemma2:
            attentionQKVBias = attentionBias
            attentionOutputBias = attentionBias
        case .qwen2:
            attentionQKVBias = true
            attentionOutputBias = false
        case .qwen2Moe:
            attentionQKVBias = try c.bool("qkv_bias") ?? true
            attentionOutputBias = false
        case .mistral, .mixtral, .phi3:
            attentionQKVBias = false
            attentionOutputBias = false
        }
        mlpBias = family == .llama ? (try c.bool("mlp_bias") ?? false) : false

        (slidingWindow, layerTypes) = try Self.decodeAttentionLayout(c, family: family, numLayers: numHiddenLayers)

        if family == .gemma2 {
            queryPreAttentionScalar = try Self.keyOrDefault(c, "query_pre_attn_scalar", 256)
            attentionLogitSoftcap = try Self.keyOrDefault(c, "attn_logit_softcapping", 50)
            finalLogitSoftcap = try Self.keyOrDefault(c, "final_logit_softcapping", 30)
        } else {
            queryPreAttentionScalar = nil
            attentionLogitSoftcap = nil
            finalLogitSoftcap = nil
        }
        for (key, value) in [("query_pre_attn_scalar", queryPreAttentionScalar),
                             ("attn_logit_softcapping", attentionLogitSoftcap),
                             ("final_logit_softcapping", finalLogitSoftcap)] {
            if let value, value <= 0 {
                throw ModelError.invalidField(key, reason: "must be positive, found \(value)")
            }
        }

        moe = try MoEConfig.decode(c, family: family, intermediateSize: intermediateSize, numLayers: numHiddenLayers)

        bosTokenId = try c.int("bos_token_id")
        eosTokenIds = try c.intList("eos_token_id") ?? []
        padTokenId = try c.int("pad_token_id")
    }

    /// Decodes config.json bytes.
    public init(bytes: [UInt8], path: String = "config.json") throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            throw ModelError.invalidJSON(path: path, reason: "\(error)")
        }
        try self.init(json: json)
    }

    /// Loads `config.json` from a model folder, or the file itself when `path` is a file.
    public static func load(from path: String) throws -> ModelConfig {
        let file = ModelFiles.isDirectory(path) ? ModelFiles.join(path, "config.json") : path
        return try ModelConfig(bytes: try ModelFiles.readBytes(file), path: file)
    }

    /// Present → that value (null → nil, i.e. disabled); absent → the default.
    private static func keyOrDefault(_ c: ConfigReader, _ key: String, _ fallback: Double) throws -> Double? {
        guard c.object[key] != nil else { return fallback }
        return try c.double(key)
    }

    private static func decodeActivation(_ c: ConfigReader, family: ModelFamily) throws -> Activation {
        // Gemma 2 reads `hidden_activation`; Gemma 1 reads `hidden_act`, where the legacy "gelu" of the
        // official releases means the tanh approximation (transformers rewrites it the same way).
        let key = family == .gemma2 ? "hidden_activation" : "hidden_act"
        guard let name = try c.string(key) else { return family.traits.activation }
        if family == .gemma, name == "gelu" { return .geluTanh }
        guard let act = Activation(hfName: name) else {
            throw ModelError.invalidField(key, reason: "unknown activation '\(name)'; supported: silu, gelu, gelu_pytorch_tanh")
        }
        return act
    }

    private static func decodeAttentionLayout(
        _ c: ConfigReader, family: ModelFamily, numLayers: Int
    ) throws -> (Int?, [AttentionLayerType]) {
        // Present-but-null means "no sliding window"; absent means the family default.
        func window(_ fallback: Int?) throws -> Int? {
            guard c.object["sliding_window"] != nil else { return fallback }
            guard let w = try c.int("sliding_window"), w > 0 else { return nil }
            return w
        }
        var computed: (Int?, [AttentionLayerType])
        switch family.traits.slidingWindowRule {
        case .none:
            computed = (nil, Array(repeating: .full, count: numLayers))
        case .allLayers(let fallback):
            let w = try window(fallback)
            computed = (w, Array(repeating: w == nil ? .full : .sliding, count: numLayers))
        case .qwenUpperLayers(let fallback):
            let enabled = try c.bool("use_sliding_window") ?? false
            let w = enabled ? try window(fallback) : nil
            let firstSliding = try c.int("max_window_layers") ?? 28
            computed = (w, (0..<numLayers).map { w != nil && $0 >= firstSliding ? .sliding : .full })
        case .alternating(let fallback):
            let w = try window(fallback)
            computed = (w, (0..<numLayers).map { $0 % 2 == 0 && w != nil ? .sliding : .full })
        }
        guard let names = try c.stringList("layer_types") else { return computed }
        guard names.count == numLayers else {
            throw ModelError.invalidField(
                "layer_types", reason: "has \(names.count) entries for \(numLayers) layers (num_hidden_layers)")
        }
        let types = try names.map { name in
            guard let t = AttentionLayerType(rawValue: name) else {
                throw ModelError.invalidField(
                    "layer_types", reason: "unknown layer type '\(name)'; expected full_attention or sliding_attention")
            }
            return t
        }
        if computed.0 == nil, types.contains(.sliding) {
            // Sliding layers without a window attend fully (transformers passes sliding_window=None).
            return (nil, Array(repeating: .full, count: numLayers))
        }
        return (computed.0, types)
    }
}
