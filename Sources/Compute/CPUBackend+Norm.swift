extension CPUBackend {
    public func rmsNorm(_ x: FloatBuffer, rows: Int, dim: Int, weight: FloatBuffer, eps: Float, addOne: Bool,
                        output: FloatBuffer) {
        let src = x.pointer, dst = output.pointer, w = weight.pointer
        Parallel.forEachChunk(rows, minPerChunk: 16) { range in
            for r in range {
                Self.normalizeRow(src + r * dim, dim: dim, weight: w, eps: eps, addOne: addOne, output: dst + r * dim)
            }
        }
    }

    public func addRMSNorm(residual: FloatBuffer, delta: FloatBuffer, rows: Int, dim: Int, weight: FloatBuffer,
                           eps: Float, addOne: Bool, output: FloatBuffer) {
        let res = residual.pointer, d = delta.pointer, dst = output.pointer, w = weight.pointer
        Parallel.forEachChunk(rows, minPerChunk: 16) { range in
            for r in range {
                let row = res + r * dim, dr = d + r * dim
                for i in 0..<dim { row[i] += dr[i] }
                Self.normalizeRow(row, dim: dim, weight: w, eps: eps, addOne: addOne, output: dst + r * dim)
            }
        }
    }

    public func qkNorm(_ qkv: FloatBuffer, tokens: Int, layout: QKVLayout, qWeight: FloatBuffer,
                       kWeight: FloatBuffer, eps: Float) {
        let hd = layout.headDim
        for t in 0..<tokens {
            let row = qkv.pointer + t * layout.width
            for h in 0..<layout.qHeads {
                let p = row + h * hd
                Self.normalizeRow(p, dim: hd, weight: qWeight.pointer, eps: eps, addOne: false, output: p)
            }
            for h in 0..<layout.kvHeads {
                let p = row + layout.kOffset + h * hd
                Self.normalizeRow(p, dim: hd, weight: kWeight.pointer, eps: eps, addOne: false, output: p)
            }
        }
    }

    /// HF's `LlamaRMSNorm` in float32: `x * rsqrt(mean(x²) + eps) * w` (Gemma: `* (1 + w)`).
    /// `output` may alias `x`.
    @inline(__always)
    static func normalizeRow(_ x: UnsafeMutablePointer<Float>, dim: Int, weight w: UnsafeMutablePointer<Float>,
                             eps: Float, addOne: Bool, output o: UnsafeMutablePointer<Float>) {
        let ss = VectorMath.sumOfSquares(x, dim)
        let inv = 1 / (ss / Float(dim) + eps).squareRoot()
        if addOne {
            for i in 0..<dim { o[i] = x[i] * inv * (1 + w[i]) }
        } else {
            for i in 0..<dim { o[i] = x[i] * inv * w[i] }
        }
    }
}
