import Compute

/// One pre-norm ViT encoder layer (CLIP / SigLIP): `h += out(attn(LN1(h)))`, then `h += fc2(act(fc1(LN2(h))))`.
struct VisionEncoderLayer: Sendable {
    let norm1Weight: FloatBuffer
    let norm1Bias: FloatBuffer
    /// q, k and v projections stacked by rows (with their biases).
    let qkv: WeightMatrix
    let outProj: WeightMatrix
    let norm2Weight: FloatBuffer
    let norm2Bias: FloatBuffer
    let fc1: WeightMatrix
    let fc2: WeightMatrix

    /// Loads layer `index` under `prefix` (e.g. `vision_tower.vision_model.encoder.layers.3.`).
    static func load(_ w: WeightLoader, prefix: String, config: VisionTowerConfig) throws -> VisionEncoderLayer {
        let h = config.hiddenSize, inner = config.intermediateSize
        let attn = prefix + "self_attn."
        return VisionEncoderLayer(
            norm1Weight: try w.vector(prefix + "layer_norm1.weight", count: h),
            norm1Bias: try w.vector(prefix + "layer_norm1.bias", count: h),
            qkv: try w.matrix([attn + "q_proj.weight", attn + "k_proj.weight", attn + "v_proj.weight"],
                              rows: [h, h, h], cols: h,
                              biasNames: [attn + "q_proj.bias", attn + "k_proj.bias", attn + "v_proj.bias"]),
            outProj: try w.matrix(attn + "out_proj.weight", rows: h, cols: h, biasName: attn + "out_proj.bias"),
            norm2Weight: try w.vector(prefix + "layer_norm2.weight", count: h),
            norm2Bias: try w.vector(prefix + "layer_norm2.bias", count: h),
            fc1: try w.matrix(prefix + "mlp.fc1.weight", rows: inner, cols: h, biasName: prefix + "mlp.fc1.bias"),
            fc2: try w.matrix(prefix + "mlp.fc2.weight", rows: h, cols: inner, biasName: prefix + "mlp.fc2.bias"))
    }

    /// Runs the layer over `hidden` (`tokens × hiddenSize`) in place.
    func forward(_ backend: any ComputeBackend, hidden: FloatBuffer, tokens: Int, config: VisionTowerConfig) throws {
        let h = config.hiddenSize, inner = config.intermediateSize
        let eps = Float(config.layerNormEps)
        let normed = FloatBuffer(count: tokens * h)
        VisionKernels.layerNorm(hidden, rows: tokens, dim: h, weight: norm1Weight, bias: norm1Bias, eps: eps,
                                output: normed)
        let fused = FloatBuffer(count: tokens * 3 * h)
        try backend.linear(normed, tokens: tokens, weight: qkv, output: fused)
        let q = FloatBuffer(count: tokens * h), k = FloatBuffer(count: tokens * h), v = FloatBuffer(count: tokens * h)
        for t in 0..<tokens {
            let row = fused.pointer + t * 3 * h
            (q.pointer + t * h).update(from: row, count: h)
            (k.pointer + t * h).update(from: row + h, count: h)
            (v.pointer + t * h).update(from: row + 2 * h, count: h)
        }
        let attended = FloatBuffer(count: tokens * h)
        try VisionKernels.attention(backend, q: q, k: k, v: v, tokens: tokens, heads: config.numAttentionHeads,
                                    headDim: config.headDim, output: attended)
        let delta = FloatBuffer(count: tokens * h)
        try backend.linear(attended, tokens: tokens, weight: outProj, output: delta)
        backend.add(residual: hidden, delta: delta, count: tokens * h)

        VisionKernels.layerNorm(hidden, rows: tokens, dim: h, weight: norm2Weight, bias: norm2Bias, eps: eps,
                                output: normed)
        let up = FloatBuffer(count: tokens * inner)
        try backend.linear(normed, tokens: tokens, weight: fc1, output: up)
        config.activation.apply(up.pointer, count: tokens * inner)
        try backend.linear(up, tokens: tokens, weight: fc2, output: delta)
        backend.add(residual: hidden, delta: delta, count: tokens * h)
    }
}
