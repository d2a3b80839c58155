import Compute

/// A LLaVA vision-language model (llava-hf `LlavaForConditionalGeneration`): a CLIP or SigLIP vision tower and
/// a projector that turn one preprocessed image into `imageFeatureLength` embedding rows, and the causal
/// language model that reads them in place of the prompt's image tokens (`ForwardBatch.embeddingOverrides`).
public final class LlavaModel: Sendable {
    /// The decoded config.
    public let config: LlavaConfig
    /// The language model (a plain `CausalLM` over the text weights).
    public let languageModel: CausalLM
    /// The vision transformer.
    public let visionTower: VisionTower
    /// The projector into the language model's embedding space.
    public let projector: MultiModalProjector
    let backend: any ComputeBackend

    /// Builds the model from a checkpoint in either weight-name layout.
    /// - Throws: `ModelError.missingTensor` / `.shapeMismatch` naming the tensor.
    public init(config: LlavaConfig, weights source: any WeightSource, backend: any ComputeBackend = CPUBackend()) throws {
        self.config = config
        self.backend = backend
        let layout = try LlavaWeightNames.detect(in: source)
        languageModel = try CausalLM(config: config.text, weights: LlavaTextWeights(base: source, layout: layout),
                                     backend: backend)
        let w = WeightLoader(source: source)
        visionTower = try VisionTower(config: config.vision, weights: w, prefix: layout.vision,
                                      layerCount: config.resolvedFeatureLayers.max() ?? 0, backend: backend)
        projector = try MultiModalProjector(w, prefix: layout.projector, inputSize: config.projectorInputSize,
                                            outputSize: config.text.hiddenSize, activation: config.projectorActivation,
                                            bias: config.projectorBias)
    }

    /// Loads a llava-hf folder (config.json + safetensors).
    public convenience init(folder: String, backend: any ComputeBackend = CPUBackend()) throws {
        try self.init(config: LlavaConfig.load(from: folder), weights: SafetensorsModel(folder: folder), backend: backend)
    }

    /// The embedding rows of one image: `imageFeatureLength × text hiddenSize` row-major values
    /// (transformers' `get_image_features`).
    /// - Parameter pixelValues: `channels × imageSize × imageSize` preprocessed values (CLIP / SigLIP processor).
    /// - Throws: `ModelError.invalidField` when the pixel values do not match the tower's input size.
    public func imageFeatures(pixelValues: [Float]) throws -> [Float] {
        let layers = config.resolvedFeatureLayers
        let states = try visionTower.hiddenStates(pixelValues: pixelValues, indices: layers)
        let h = config.vision.hiddenSize
        let skip = config.selectStrategy == .default ? 1 : 0
        let rows = config.imageFeatureLength
        let width = config.projectorInputSize
        // Concatenate the selected layers along the feature axis, row by row.
        let selected = FloatBuffer(count: rows * width)
        for (j, state) in states.enumerated() {
            for r in 0..<rows {
                state.withUnsafeBufferPointer { src in
                    guard let base = src.baseAddress else { return }
                    (selected.pointer + r * width + j * h).update(from: base + (r + skip) * h, count: h)
                }
            }
        }
        return try projector.forward(backend, features: selected, tokens: rows).toArray()
    }
}
