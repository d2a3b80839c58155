import Compute

/// A LLaVA vision-language model (llava-hf `LlavaForConditionalGeneration`) on one `ComputeBackend`: the vision
/// encoder (CLIP or SigLIP tower + projector) and the causal language model that reads its rows in place of the
/// prompt's image tokens (`ForwardBatch.embeddingOverrides`).
public final class LlavaModel: Sendable {
    /// The decoded config.
    public let config: LlavaConfig
    /// The language model (a plain `CausalLM` over the text weights).
    public let languageModel: CausalLM
    /// The vision tower and projector.
    public let encoder: LlavaVisionEncoder

    /// Builds the model from a checkpoint in either weight-name layout.
    /// - Throws: `ModelError.missingTensor` / `.shapeMismatch` naming the tensor.
    public init(config: LlavaConfig, weights source: any WeightSource, backend: any ComputeBackend = CPUBackend()) throws {
        self.config = config
        languageModel = try CausalLM(config: config.text, weights: try Self.textWeights(source), backend: backend)
        encoder = try LlavaVisionEncoder(config: config, weights: source, backend: backend)
    }

    /// Loads a llava-hf folder (config.json + safetensors).
    public convenience init(folder: String, backend: any ComputeBackend = CPUBackend()) throws {
        try self.init(config: LlavaConfig.load(from: folder), weights: SafetensorsModel(folder: folder), backend: backend)
    }

    /// The text model's tensors of a LLaVA checkpoint under plain causal-LM names (`model.*`, `lm_head.weight`),
    /// for any model class that loads those.
    /// - Throws: `ModelError.missingTensor` when the checkpoint has neither layout.
    public static func textWeights(_ source: any WeightSource) throws -> any WeightSource {
        LlavaTextWeights(base: source, layout: try LlavaWeightNames.detect(in: source))
    }

    /// The vision transformer.
    public var visionTower: VisionTower { encoder.visionTower }
    /// The projector.
    public var projector: MultiModalProjector { encoder.projector }

    /// The embedding rows of one image (see `LlavaVisionEncoder.imageFeatures`).
    public func imageFeatures(pixelValues: [Float]) throws -> [Float] {
        try encoder.imageFeatures(pixelValues: pixelValues)
    }
}
