import Compute

/// The image side of a LLaVA model: the vision tower and the projector, turning one preprocessed image into
/// `imageFeatureLength` rows of the language model's embedding space (transformers' `get_image_features`).
/// Separate from the language model so that one can run elsewhere (a device model) while this runs on a
/// `ComputeBackend`.
public final class LlavaVisionEncoder: Sendable {
    /// The decoded config.
    public let config: LlavaConfig
    /// The vision transformer.
    public let visionTower: VisionTower
    /// The projector into the language model's embedding space.
    public let projector: MultiModalProjector
    let backend: any ComputeBackend

    /// Loads the tower and projector from a checkpoint in either weight-name layout.
    /// - Throws: `ModelError.missingTensor` / `.shapeMismatch` naming the tensor.
    public init(config: LlavaConfig, weights source: any WeightSource, backend: any ComputeBackend = CPUBackend()) throws {
        self.config = config
        self.backend = backend
        let layout = try LlavaWeightNames.detect(in: source)
        let w = WeightLoader(source: source)
        visionTower = try VisionTower(config: config.vision, weights: w, prefix: layout.vision,
                                      layerCount: config.resolvedFeatureLayers.max() ?? 0, backend: backend)
        projector = try MultiModalProjector(w, prefix: layout.projector, inputSize: config.projectorInputSize,
                                            outputSize: config.text.hiddenSize, activation: config.projectorActivation,
                                            bias: config.projectorBias)
    }

    /// The embedding rows of one image: `imageFeatureLength × text hiddenSize` row-major values.
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
            state.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress else { return }
                for r in 0..<rows {
                    (selected.pointer + r * width + j * h).update(from: base + (r + skip) * h, count: h)
                }
            }
        }
        return try projector.forward(backend, features: selected, tokens: rows).toArray()
    }
}
