import COpenBLAS
import Foundation

/// The reference CPU implementation of `ComputeBackend`: OpenBLAS for dense GEMMs, quantized kernels
/// for packed weights, and Swift loops (threaded over rows or heads where it pays) for the rest.
///
/// Threading: every kernel splits its work over `DispatchQueue.concurrentPerform`, GEMMs included (over
/// output rows, each chunk a single-threaded OpenBLAS call). OpenBLAS's own pool is therefore set to
/// one thread, process-wide, when the first backend is created: its idle workers spin on `sched_yield`
/// and would otherwise steal the cores the next kernel needs.
public struct CPUBackend: ComputeBackend {
    /// Creates the backend.
    public init() {
        _ = Self.configureBLAS
    }

    private static let configureBLAS: Void = {
        openblas_set_num_threads(1)
    }()

    public func linear(_ input: FloatBuffer, tokens: Int, weight: WeightMatrix, output: FloatBuffer) throws {
        let rows = weight.rows, cols = weight.cols
        guard tokens >= 0, input.count >= tokens * cols, output.count >= tokens * rows else {
            throw ComputeError.shapeMismatch(
                "linear [\(rows)×\(cols)] on \(tokens) tokens: input holds \(input.count), output \(output.count)")
        }
        guard tokens > 0 else { return }
        let x = input.pointer, y = output.pointer
        switch weight.storage {
        case .dense(let w):
            // Each thread multiplies by a contiguous band of weight rows and writes its own output columns.
            Parallel.forEachChunk(rows, minPerChunk: max(16, 65_536 / max(cols * tokens, 1))) { range in
                let wp = w.pointer + range.lowerBound * cols
                let n = Int32(range.count)
                if tokens == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, Int32(cols), 1, wp, Int32(cols), x, 1, 0,
                                y + range.lowerBound, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), n, Int32(cols), 1,
                                x, Int32(cols), wp, Int32(cols), 0, y + range.lowerBound, Int32(rows))
                }
            }
        case .quantized(let kernel):
            // Threads split the output rows; each reads the whole (small) activation block.
            Parallel.forEachChunk(rows, minPerChunk: 16, alignment: 16) { range in
                kernel.matmul(input: UnsafePointer(x), tokens: tokens, output: y, outputStride: rows, rowRange: range)
            }
        }
        if let bias = weight.bias {
            let b = bias.pointer
            for t in 0..<tokens {
                let row = y + t * rows
                for r in 0..<rows { row[r] += b[r] }
            }
        }
    }

    public func embedding(ids: [Int32], table: WeightMatrix, scale: Float?, output: FloatBuffer) throws {
        let dim = table.cols
        guard output.count >= ids.count * dim else {
            throw ComputeError.shapeMismatch("embedding output holds \(output.count) values for \(ids.count)×\(dim)")
        }
        for (t, id) in ids.enumerated() {
            guard id >= 0, Int(id) < table.rows else {
                throw ComputeError.invalidBatch("token id \(id) is outside the vocabulary of \(table.rows)")
            }
            let dst = output.pointer + t * dim
            table.copyRow(Int(id), into: dst)
            if let scale {
                for i in 0..<dim { dst[i] *= scale }
            }
        }
    }

    public func add(residual: FloatBuffer, delta: FloatBuffer, count: Int) {
        let r = residual.pointer, d = delta.pointer
        for i in 0..<count { r[i] += d[i] }
    }

    public func gatedActivation(_ gateUp: FloatBuffer, tokens: Int, inner: Int, activation: GatedActivation,
                                output: FloatBuffer) {
        let src = gateUp.pointer, dst = output.pointer
        Parallel.forEachChunk(tokens, minPerChunk: 8) { range in
            for t in range {
                let g = src + t * 2 * inner, u = g + inner, o = dst + t * inner
                switch activation {
                case .silu:
                    for i in 0..<inner { o[i] = g[i] / (1 + expf(-g[i])) * u[i] }
                case .geluTanh:
                    for i in 0..<inner { o[i] = Self.geluTanh(g[i]) * u[i] }
                case .gelu:
                    for i in 0..<inner { o[i] = 0.5 * g[i] * (1 + erff(g[i] / Float(2).squareRoot())) * u[i] }
                }
            }
        }
    }

    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, as PyTorch's `gelu(approximate="tanh")`.
    @inline(__always)
    static func geluTanh(_ x: Float) -> Float {
        let k: Float = 0.7978845608028654
        return 0.5 * x * (1 + tanhf(k * (x + 0.044715 * x * x * x)))
    }

    public func gatherRows(_ source: FloatBuffer, indices: [Int], dim: Int, output: FloatBuffer) {
        for (i, row) in indices.enumerated() {
            (output.pointer + i * dim).update(from: source.pointer + row * dim, count: dim)
        }
    }

    public func scatterAddRows(_ source: FloatBuffer, indices: [Int], weights: [Float], dim: Int, output: FloatBuffer) {
        for (i, row) in indices.enumerated() {
            let s = source.pointer + i * dim, d = output.pointer + row * dim, w = weights[i]
            for j in 0..<dim { d[j] += w * s[j] }
        }
    }

    public func softcap(_ x: FloatBuffer, count: Int, cap: Float) {
        let p = x.pointer
        for i in 0..<count { p[i] = tanhf(p[i] / cap) * cap }
    }

    public func logSoftmax(_ x: FloatBuffer, rows: Int, dim: Int, output: FloatBuffer) {
        for r in 0..<rows {
            let s = x.pointer + r * dim, d = output.pointer + r * dim
            var m = -Float.infinity
            for i in 0..<dim { m = max(m, s[i]) }
            var sum = 0.0
            for i in 0..<dim { sum += Double(expf(s[i] - m)) }
            let lse = m + Float(log(sum))
            for i in 0..<dim { d[i] = s[i] - lse }
        }
    }

    public func softmax(_ x: FloatBuffer, rows: Int, dim: Int, output: FloatBuffer) {
        for r in 0..<rows {
            let s = x.pointer + r * dim, d = output.pointer + r * dim
            var m = -Float.infinity
            for i in 0..<dim { m = max(m, s[i]) }
            var sum: Float = 0
            for i in 0..<dim {
                d[i] = expf(s[i] - m)
                sum += d[i]
            }
            let inv = 1 / sum
            for i in 0..<dim { d[i] *= inv }
        }
    }
}
