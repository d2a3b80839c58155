import JSON

/// Which ViT a LLaVA `vision_config` describes.
public enum VisionTowerKind: String, Sendable, Hashable {
    /// `clip_vision_model`: class token, `pre_layrnorm`, bias-free patch convolution.
    case clip = "clip_vision_model"
    /// `siglip_vision_model`: no class token, no pre-norm, patch convolution with bias.
    case siglip = "siglip_vision_model"
}

/// A decoded `vision_config` (CLIP or SigLIP vision transformer); absent keys take transformers' defaults.
public struct VisionTowerConfig: Sendable, Hashable {
    /// The tower type.
    public var kind: VisionTowerKind
    /// Width of the residual stream (`hidden_size`).
    public var hiddenSize: Int
    /// Width of the MLP (`intermediate_size`).
    public var intermediateSize: Int
    /// Encoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Attention heads (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Input channels (`num_channels`).
    public var numChannels: Int
    /// Square input side in pixels (`image_size`).
    public var imageSize: Int
    /// Square patch side in pixels (`patch_size`).
    public var patchSize: Int
    /// LayerNorm epsilon (`layer_norm_eps`).
    public var layerNormEps: Double
    /// MLP activation (`hidden_act`).
    public var activation: VisionActivation

    /// Patches per image side.
    public var patchesPerSide: Int { imageSize / patchSize }
    /// Patches per image.
    public var numPatches: Int { patchesPerSide * patchesPerSide }
    /// Tokens the encoder runs over: the patches, plus the class token for CLIP.
    public var numPositions: Int { numPatches + (kind == .clip ? 1 : 0) }
    /// Per-head width.
    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Decodes a `vision_config` object.
    /// - Throws: `ModelError` naming the key (unknown `model_type`, bad sizes, unknown activation).
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else {
            throw ModelError.invalidField("vision_config", reason: "must be an object, found \(json.typeName)")
        }
        let c = ConfigReader(json, keyPrefix: "vision_config.")
        let type = try c.string("model_type") ?? VisionTowerKind.clip.rawValue
        guard let kind = VisionTowerKind(rawValue: type) else {
            throw ModelError.unsupportedModelType(
                "vision_config.model_type \(type)", supported: [VisionTowerKind.clip.rawValue, VisionTowerKind.siglip.rawValue])
        }
        self.kind = kind
        let clip = kind == .clip
        hiddenSize = try c.positiveInt("hidden_size") ?? 768
        intermediateSize = try c.positiveInt("intermediate_size") ?? 3072
        numHiddenLayers = try c.positiveInt("num_hidden_layers") ?? 12
        numAttentionHeads = try c.positiveInt("num_attention_heads") ?? 12
        numChannels = try c.positiveInt("num_channels") ?? 3
        imageSize = try c.positiveInt("image_size") ?? 224
        patchSize = try c.positiveInt("patch_size") ?? (clip ? 32 : 16)
        layerNormEps = try c.double("layer_norm_eps") ?? (clip ? 1e-5 : 1e-6)
        let act = try c.string("hidden_act") ?? (clip ? "quick_gelu" : "gelu_pytorch_tanh")
        guard let activation = VisionActivation(hfName: act) else {
            throw ModelError.invalidField(
                "vision_config.hidden_act", reason: "unknown activation '\(act)'; supported: \(VisionActivation.supportedNames)")
        }
        self.activation = activation
        guard hiddenSize % numAttentionHeads == 0 else {
            throw ModelError.invalidField(
                "vision_config.hidden_size",
                reason: "\(hiddenSize) is not divisible by num_attention_heads (\(numAttentionHeads))")
        }
        guard imageSize % patchSize == 0 else {
            throw ModelError.invalidField(
                "vision_config.image_size", reason: "\(imageSize) is not a multiple of patch_size (\(patchSize))")
        }
        guard layerNormEps > 0 else {
            throw ModelError.invalidField("vision_config.layer_norm_eps", reason: "must be positive, found \(layerNormEps)")
        }
    }
}
