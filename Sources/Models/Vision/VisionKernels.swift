import Compute
import Foundation

/// The few operations of a ViT encoder that `ComputeBackend` does not offer (LayerNorm with bias, full
/// bidirectional attention over one image's tokens); matrix products still go through the backend.
enum VisionKernels {
    /// `output[r] = (x[r] - mean) / sqrt(var + eps) * weight + bias` for `rows` rows of `dim` (biased variance,
    /// as torch's LayerNorm; accumulated in double). `output` may be `x`.
    static func layerNorm(_ x: FloatBuffer, rows: Int, dim: Int, weight: FloatBuffer, bias: FloatBuffer, eps: Float,
                          output: FloatBuffer) {
        let w = weight.pointer, b = bias.pointer
        for r in 0..<rows {
            let src = x.pointer + r * dim, dst = output.pointer + r * dim
            var sum = 0.0
            for i in 0..<dim { sum += Double(src[i]) }
            let mean = sum / Double(dim)
            var sq = 0.0
            for i in 0..<dim { let d = Double(src[i]) - mean; sq += d * d }
            let inv = 1 / (sq / Double(dim) + Double(eps)).squareRoot()
            for i in 0..<dim { dst[i] = Float((Double(src[i]) - mean) * inv) * w[i] + b[i] }
        }
    }

    /// Multi-head attention of `tokens` tokens over each other (no mask): `q`, `k`, `v` are `tokens × heads·headDim`;
    /// writes `output` (`tokens × heads·headDim`). Each head runs as two backend matrix products.
    static func attention(_ backend: any ComputeBackend, q: FloatBuffer, k: FloatBuffer, v: FloatBuffer, tokens: Int,
                          heads: Int, headDim: Int, output: FloatBuffer) throws {
        let width = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let qh = FloatBuffer(count: tokens * headDim)
        let kh = FloatBuffer(count: tokens * headDim)
        let vt = FloatBuffer(count: headDim * tokens)
        let scores = FloatBuffer(count: tokens * tokens)
        let out = FloatBuffer(count: tokens * headDim)
        for h in 0..<heads {
            for t in 0..<tokens {
                let row = t * width + h * headDim
                for d in 0..<headDim {
                    qh.pointer[t * headDim + d] = q.pointer[row + d] * scale
                    kh.pointer[t * headDim + d] = k.pointer[row + d]
                    vt.pointer[d * tokens + t] = v.pointer[row + d]
                }
            }
            // scores = (q·scale) · kᵀ, then row softmax, then scores · v (v transposed as the weight rows).
            try backend.linear(qh, tokens: tokens, weight: try WeightMatrix(rows: tokens, cols: headDim, buffer: kh),
                               output: scores)
            backend.softmax(scores, rows: tokens, dim: tokens, output: scores)
            try backend.linear(scores, tokens: tokens, weight: try WeightMatrix(rows: headDim, cols: tokens, buffer: vt),
                               output: out)
            for t in 0..<tokens {
                (output.pointer + t * width + h * headDim).update(from: out.pointer + t * headDim, count: headDim)
            }
        }
    }
}
