import Compute
import Foundation
import Testing

/// A small deterministic generator (SplitMix64) so op tests are reproducible.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// A "quantized" kernel that is really dense, to exercise the quantized dispatch path.
struct DenseAsQuantized: QuantizedMatrixKernel {
    let rows: Int
    let cols: Int
    let values: [Float]
    func matmul(input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>, outputStride: Int,
                rowRange: Range<Int>) {
        for t in 0..<tokens {
            for r in rowRange {
                var s: Float = 0
                for c in 0..<cols { s += input[t * cols + c] * values[r * cols + c] }
                output[t * outputStride + r] = s
            }
        }
    }
    func dequantizeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        for c in 0..<cols { destination[c] = values[row * cols + c] }
    }
}

@Suite("CPU backend ops vs naive loops")
struct CPUBackendTests {
    let backend = CPUBackend()

    func naiveLinear(_ x: [Float], tokens: Int, w: [Float], rows: Int, cols: Int, bias: [Float]?) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * rows)
        for t in 0..<tokens {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols { s += Double(x[t * cols + c]) * Double(w[r * cols + c]) }
                y[t * rows + r] = Float(s) + (bias?[r] ?? 0)
            }
        }
        return y
    }

    @Test("linear: BLAS GEMV/GEMM, bias, and the quantized-kernel path (stacked) agree with a naive matmul",
          arguments: [1, 5])
    func linear(tokens: Int) throws {
        var rng = TestRNG(seed: 7)
        let rows = 37, cols = 24
        let w = rng.floats(rows * cols), x = rng.floats(tokens * cols), bias = rng.floats(rows)
        let expected = naiveLinear(x, tokens: tokens, w: w, rows: rows, cols: cols, bias: bias)
        let input = FloatBuffer(x), out = FloatBuffer(count: tokens * rows)
        try backend.linear(input, tokens: tokens, weight: WeightMatrix(rows: rows, cols: cols, values: w, bias: bias),
                           output: out)
        #expect(maxAbsDiff(out.toArray(), expected) < 1e-5)

        // Two stacked parts (rows 0..<20 and 20..<37) through the quantized dispatch.
        let top = DenseAsQuantized(rows: 20, cols: cols, values: Array(w[0..<(20 * cols)]))
        let bottom = DenseAsQuantized(rows: 17, cols: cols, values: Array(w[(20 * cols)...]))
        let stacked = try StackedQuantizedMatrix([top, bottom])
        let q = try WeightMatrix(quantized: stacked, bias: FloatBuffer(bias))
        let out2 = FloatBuffer(count: tokens * rows)
        try backend.linear(input, tokens: tokens, weight: q, output: out2)
        #expect(maxAbsDiff(out2.toArray(), expected) < 1e-5)
        // Row lookup through the stack.
        let row = FloatBuffer(count: cols)
        q.copyRow(25, into: row.pointer)
        #expect(row.toArray() == Array(w[(25 * cols)..<(26 * cols)]))
    }

    @Test("linear rejects a too-small output buffer")
    func linearShapeError() throws {
        let w = try WeightMatrix(rows: 4, cols: 3, values: [Float](repeating: 1, count: 12))
        #expect(throws: ComputeError.self) {
            try backend.linear(FloatBuffer(count: 6), tokens: 2, weight: w, output: FloatBuffer(count: 7))
        }
    }

    @Test("embedding gathers rows, scales, and rejects out-of-vocabulary ids")
    func embedding() throws {
        var rng = TestRNG(seed: 3)
        let table = rng.floats(10 * 4)
        let w = try WeightMatrix(rows: 10, cols: 4, values: table)
        let out = FloatBuffer(count: 8)
        try backend.embedding(ids: [7, 2], table: w, scale: 2, output: out)
        #expect(out.toArray() == (Array(table[28..<32]) + Array(table[8..<12])).map { $0 * 2 })
        #expect(throws: ComputeError.self) { try backend.embedding(ids: [10], table: w, scale: nil, output: out) }
    }

    @Test("rmsNorm and fused add+rmsNorm, plain and Gemma (1 + w)", arguments: [false, true])
    func norms(addOne: Bool) {
        var rng = TestRNG(seed: 11)
        let rows = 3, dim = 16
        let x = rng.floats(rows * dim), d = rng.floats(rows * dim), w = rng.floats(dim)
        func naive(_ v: [Float]) -> [Float] {
            var o = v
            for r in 0..<rows {
                var ss = 0.0
                for i in 0..<dim { ss += Double(v[r * dim + i] * v[r * dim + i]) }
                let inv = 1 / (ss / Double(dim) + 1e-6).squareRoot()
                for i in 0..<dim { o[r * dim + i] = Float(Double(v[r * dim + i]) * inv * Double(addOne ? 1 + w[i] : w[i])) }
            }
            return o
        }
        let out = FloatBuffer(count: rows * dim)
        backend.rmsNorm(FloatBuffer(x), rows: rows, dim: dim, weight: FloatBuffer(w), eps: 1e-6, addOne: addOne, output: out)
        #expect(maxAbsDiff(out.toArray(), naive(x)) < 1e-5)

        let residual = FloatBuffer(x)
        backend.addRMSNorm(residual: residual, delta: FloatBuffer(d), rows: rows, dim: dim, weight: FloatBuffer(w),
                           eps: 1e-6, addOne: addOne, output: out)
        let sum = zip(x, d).map { $0 + $1 }
        #expect(residual.toArray() == sum)
        #expect(maxAbsDiff(out.toArray(), naive(sum)) < 1e-5)
    }

    @Test("gated activations: SiLU, GELU-tanh, GELU-erf")
    func activations() {
        var rng = TestRNG(seed: 5)
        let tokens = 2, inner = 9
        let gu = rng.floats(tokens * 2 * inner).map { $0 * 4 }
        let cases: [(GatedActivation, (Double) -> Double)] = [
            (.silu, { $0 / (1 + exp(-$0)) }),
            (.geluTanh, { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
            (.gelu, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }),
        ]
        for (act, f) in cases {
            let out = FloatBuffer(count: tokens * inner)
            backend.gatedActivation(FloatBuffer(gu), tokens: tokens, inner: inner, activation: act, output: out)
            var expected: [Float] = []
            for t in 0..<tokens {
                for i in 0..<inner {
                    expected.append(Float(f(Double(gu[t * 2 * inner + i])) * Double(gu[t * 2 * inner + inner + i])))
                }
            }
            #expect(maxAbsDiff(out.toArray(), expected) < 1e-5, "\(act)")
        }
    }

    @Test("softmax, log-softmax, soft-capping")
    func softmaxes() {
        let x: [Float] = [1, 2, 3, -1, 0, 10]
        let out = FloatBuffer(count: 6)
        backend.softmax(FloatBuffer(x), rows: 2, dim: 3, output: out)
        var expected: [Float] = []
        for r in 0..<2 {
            let row = x[(r * 3)..<(r * 3 + 3)].map { Double($0) }
            let z = row.map { exp($0) }.reduce(0, +)
            expected += row.map { Float(exp($0) / z) }
        }
        #expect(maxAbsDiff(out.toArray(), expected) < 1e-6)
        backend.logSoftmax(FloatBuffer(x), rows: 2, dim: 3, output: out)
        #expect(maxAbsDiff(out.toArray(), expected.map { Float(log(Double($0))) }) < 1e-5)
        let c = FloatBuffer(x)
        backend.softcap(c, count: 6, cap: 5)
        #expect(maxAbsDiff(c.toArray(), x.map { Float(5 * tanh(Double($0) / 5)) }) < 1e-6)
    }
}
