import JSON

/// How LLaVA picks image tokens from the vision tower's hidden states (`vision_feature_select_strategy`).
public enum VisionFeatureSelectStrategy: String, Sendable, Hashable {
    /// Drops the first token of each selected hidden state (CLIP's class token).
    case `default`
    /// Keeps every token.
    case full
}

/// A decoded llava-hf config.json (`model_type: "llava"`, `LlavaForConditionalGeneration`): the text model's
/// config through the `ModelConfig` registry, the vision tower's config, and how image features reach the
/// language model.
public struct LlavaConfig: Sendable, Hashable {
    /// The language model (`text_config`; llama when it names no `model_type`).
    public var text: ModelConfig
    /// The vision tower (`vision_config`).
    public var vision: VisionTowerConfig
    /// The token id that stands for an image in prompts (`image_token_index` / `image_token_id`).
    public var imageTokenIndex: Int
    /// Indices into the tower's hidden states (negative: from the end), concatenated when several.
    public var visionFeatureLayers: [Int]
    /// Whether the first token of each selected state is dropped.
    public var selectStrategy: VisionFeatureSelectStrategy
    /// The projector's activation (`projector_hidden_act`).
    public var projectorActivation: VisionActivation
    /// The projector's linears have biases (`multimodal_projector_bias`).
    public var projectorBias: Bool

    /// The hidden-state indices of `visionFeatureLayers`, resolved to `0...numHiddenLayers`.
    public var resolvedFeatureLayers: [Int] {
        visionFeatureLayers.map { $0 < 0 ? vision.numHiddenLayers + 1 + $0 : $0 }
    }

    /// Embedding rows one image takes in the prompt: the tower's tokens, less the first under `default`.
    public var imageFeatureLength: Int {
        vision.numPositions - (selectStrategy == .default ? 1 : 0)
    }

    /// Width of the projector's input: the tower width times the number of selected layers.
    public var projectorInputSize: Int { vision.hiddenSize * visionFeatureLayers.count }

    /// Whether a config.json object describes a LLaVA model.
    public static func isLlava(_ json: JSONValue) -> Bool {
        json["model_type"]?.stringValue == "llava"
    }

    /// Decodes a llava config.json object.
    /// - Throws: `ModelError` naming the key that is missing, of the wrong kind, or unsupported.
    public init(json: JSONValue) throws {
        guard Self.isLlava(json) else {
            throw ModelError.invalidField("model_type", reason: "expected \"llava\", found \(json["model_type"].map { "\($0)" } ?? "none")")
        }
        let c = ConfigReader(json)
        guard let visionJSON = c.value("vision_config") else { throw ModelError.missingField("vision_config") }
        vision = try VisionTowerConfig(json: visionJSON)
        guard let textJSON = c.value("text_config"), var textObject = textJSON.objectValue else {
            throw ModelError.missingField("text_config")
        }
        if textObject["model_type"] == nil { textObject["model_type"] = .string("llama") }
        Self.fillTextDefaults(&textObject)
        do {
            text = try ModelConfig(json: .object(textObject))
        } catch let error as ModelError {
            throw ModelError.invalidField("text_config", reason: "\(error)")
        }
        guard let image = try c.int("image_token_index") ?? c.int("image_token_id") else {
            throw ModelError.missingField("image_token_index")
        }
        guard image >= 0, image < text.vocabSize else {
            throw ModelError.invalidField(
                "image_token_index", reason: "\(image) is outside the text vocabulary 0..<\(text.vocabSize)")
        }
        imageTokenIndex = image
        visionFeatureLayers = try c.intList("vision_feature_layer") ?? [-2]
        guard !visionFeatureLayers.isEmpty else {
            throw ModelError.invalidField("vision_feature_layer", reason: "the list is empty")
        }
        let strategy = try c.string("vision_feature_select_strategy") ?? "default"
        guard let s = VisionFeatureSelectStrategy(rawValue: strategy) else {
            throw ModelError.invalidField(
                "vision_feature_select_strategy", reason: "unknown strategy '\(strategy)'; expected default or full")
        }
        selectStrategy = s
        let act = try c.string("projector_hidden_act") ?? "gelu"
        guard let projectorActivation = VisionActivation(hfName: act) else {
            throw ModelError.invalidField(
                "projector_hidden_act", reason: "unknown activation '\(act)'; supported: \(VisionActivation.supportedNames)")
        }
        self.projectorActivation = projectorActivation
        projectorBias = try c.bool("multimodal_projector_bias") ?? true
        let layers = vision.numHiddenLayers
        if let bad = visionFeatureLayers.first(where: { $0 < -(layers + 1) || $0 > layers }) {
            throw ModelError.invalidField(
                "vision_feature_layer", reason: "\(bad) is outside the tower's \(layers + 1) hidden states")
        }
        if imageFeatureLength <= 0 {
            throw ModelError.invalidField("vision_feature_select_strategy", reason: "leaves no image tokens")
        }
    }

    /// Loads `config.json` from a model folder.
    public static func load(from folder: String) throws -> LlavaConfig {
        let path = ModelFiles.join(folder, "config.json")
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: try ModelFiles.readBytes(path))
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.invalidJSON(path: path, reason: "\(error)")
        }
        return try LlavaConfig(json: json)
    }

    /// llava-hf configs store only the text keys that differ from transformers' config-class defaults
    /// (llava-1.5-7b-hf's `text_config` has no `hidden_size`): fill those defaults for the text families LLaVA
    /// checkpoints use.
    static func fillTextDefaults(_ object: inout JSONObject) {
        let defaults: [(String, Int)]
        switch object["model_type"]?.stringValue {
        case "llama":
            defaults = [("vocab_size", 32000), ("hidden_size", 4096), ("intermediate_size", 11008),
                        ("num_hidden_layers", 32), ("num_attention_heads", 32), ("max_position_embeddings", 2048)]
        case "mistral":
            defaults = [("vocab_size", 32000), ("hidden_size", 4096), ("intermediate_size", 14336),
                        ("num_hidden_layers", 32), ("num_attention_heads", 32), ("num_key_value_heads", 8),
                        ("max_position_embeddings", 131_072)]
        case "qwen2":
            defaults = [("vocab_size", 151_936), ("hidden_size", 4096), ("intermediate_size", 22016),
                        ("num_hidden_layers", 32), ("num_attention_heads", 32), ("num_key_value_heads", 32),
                        ("max_position_embeddings", 32768)]
        default:
            defaults = []
        }
        for (key, value) in defaults where object[key] == nil || object[key]?.isNull == true {
            object[key] = .int(value)
        }
    }
}
