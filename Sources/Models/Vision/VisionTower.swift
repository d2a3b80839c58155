import Compute

/// A CLIP or SigLIP vision transformer as LLaVA uses it: patch embedding, (class token,) position
/// embeddings, (CLIP's `pre_layrnorm`,) encoder layers. LLaVA reads intermediate hidden states, never the
/// pooled output, so `post_layernorm` and SigLIP's attention-pooling head are not loaded.
public struct VisionTower: Sendable {
    /// The decoded `vision_config`.
    public let config: VisionTowerConfig
    let backend: any ComputeBackend
    /// `hidden × (channels·patch·patch)`: the stride-`patch` convolution as a matrix over flattened patches.
    let patchEmbedding: WeightMatrix
    let classEmbedding: FloatBuffer?
    let positionEmbedding: FloatBuffer
    let preNormWeight: FloatBuffer?
    let preNormBias: FloatBuffer?
    let layers: [VisionEncoderLayer]

    /// Loads the tower's tensors under `prefix` (e.g. `vision_tower.vision_model.`), only the first `layerCount`
    /// encoder layers (the deepest hidden state LLaVA reads).
    init(config: VisionTowerConfig, weights w: WeightLoader, prefix: String, layerCount: Int,
         backend: any ComputeBackend) throws {
        self.config = config
        self.backend = backend
        let h = config.hiddenSize, p = config.patchSize, c = config.numChannels
        let emb = prefix + "embeddings."
        let patchName = emb + "patch_embedding.weight"
        let patch = try w.source.tensor(named: patchName)
        guard patch.shape == [h, c, p, p] else {
            throw ModelError.shapeMismatch(tensor: patchName, expected: [h, c, p, p], actual: patch.shape)
        }
        let patchValues = FloatBuffer(count: h * c * p * p)
        try patch.copyFloats(into: patchValues.buffer)
        let patchBias = config.kind == .siglip ? try w.vector(emb + "patch_embedding.bias", count: h) : nil
        patchEmbedding = try WeightMatrix(rows: h, cols: c * p * p, buffer: patchValues, bias: patchBias)
        if config.kind == .clip {
            classEmbedding = try w.vector(emb + "class_embedding", count: h)
            preNormWeight = try w.vector(prefix + "pre_layrnorm.weight", count: h)
            preNormBias = try w.vector(prefix + "pre_layrnorm.bias", count: h)
        } else {
            classEmbedding = nil
            preNormWeight = nil
            preNormBias = nil
        }
        let posName = emb + "position_embedding.weight"
        let pos = try w.source.tensor(named: posName)
        guard pos.shape == [config.numPositions, h] else {
            throw ModelError.shapeMismatch(tensor: posName, expected: [config.numPositions, h], actual: pos.shape)
        }
        positionEmbedding = FloatBuffer(count: config.numPositions * h)
        try pos.copyFloats(into: positionEmbedding.buffer)
        layers = try (0..<layerCount).map {
            try VisionEncoderLayer.load(w, prefix: prefix + "encoder.layers.\($0).", config: config)
        }
    }

    /// The hidden states of one image (`pixelValues`: `channels × imageSize × imageSize`, preprocessed): entry `i`
    /// of the result is `hidden_states[i]` of transformers (0: the embeddings, `i`: after layer `i`), for each
    /// `i` in `indices` (each in `0...layers loaded`), as `numPositions × hiddenSize` row-major values.
    /// - Throws: `ModelError.invalidField` for pixel values of the wrong size or an index out of range.
    public func hiddenStates(pixelValues: [Float], indices: [Int]) throws -> [[Float]] {
        let c = config.numChannels, side = config.imageSize, p = config.patchSize, h = config.hiddenSize
        guard pixelValues.count == c * side * side else {
            throw ModelError.invalidField(
                "pixel_values", reason: "expected \(c)×\(side)×\(side) = \(c * side * side) values, found \(pixelValues.count)")
        }
        if let bad = indices.first(where: { $0 < 0 || $0 > layers.count }) {
            throw ModelError.invalidField("vision_feature_layer", reason: "hidden state \(bad) is outside 0...\(layers.count)")
        }
        let perSide = config.patchesPerSide, patches = config.numPatches
        let patchWidth = c * p * p
        let flat = FloatBuffer(count: patches * patchWidth)
        for py in 0..<perSide {
            for px in 0..<perSide {
                let dst = flat.pointer + (py * perSide + px) * patchWidth
                for ch in 0..<c {
                    for ky in 0..<p {
                        let src = ch * side * side + (py * p + ky) * side + px * p
                        for kx in 0..<p { dst[ch * p * p + ky * p + kx] = pixelValues[src + kx] }
                    }
                }
            }
        }
        let tokens = config.numPositions
        let hidden = FloatBuffer(count: tokens * h)
        if let cls = classEmbedding {
            // The class token takes row 0; the patches follow.
            hidden.pointer.update(from: cls.pointer, count: h)
            let embedded = FloatBuffer(count: patches * h)
            try backend.linear(flat, tokens: patches, weight: patchEmbedding, output: embedded)
            (hidden.pointer + h).update(from: embedded.pointer, count: patches * h)
        } else {
            try backend.linear(flat, tokens: patches, weight: patchEmbedding, output: hidden)
        }
        backend.add(residual: hidden, delta: positionEmbedding, count: tokens * h)
        if let w = preNormWeight, let b = preNormBias {
            VisionKernels.layerNorm(hidden, rows: tokens, dim: h, weight: w, bias: b, eps: Float(config.layerNormEps),
                                    output: hidden)
        }
        var states: [Int: [Float]] = [:]
        if indices.contains(0) { states[0] = hidden.toArray() }
        let deepest = indices.max() ?? 0
        for i in 0..<deepest {
            try layers[i].forward(backend, hidden: hidden, tokens: tokens, config: config)
            if indices.contains(i + 1) { states[i + 1] = hidden.toArray() }
        }
        return indices.map { states[$0] ?? [] }
    }
}
