import Compute
import Foundation
import Testing

/// RoPE + KV store and paged attention against a naive dense implementation over the full sequence.
@Suite("RoPE and paged attention vs naive")
struct AttentionTests {
    let backend = CPUBackend()

    struct Case: Sendable, CustomStringConvertible {
        var qHeads: Int, kvHeads: Int, headDim: Int
        var window: Int?
        var softcap: Float?
        var description: String { "q\(qHeads) kv\(kvHeads) d\(headDim) window \(window.map(String.init) ?? "-") cap \(softcap.map { "\($0)" } ?? "-")" }
    }

    /// Rotate-half RoPE of one head vector in double.
    func rope(_ v: [Float], position: Int, inv: [Float]) -> [Float] {
        var o = v
        let half = inv.count
        for i in 0..<half {
            let a = Double(Float(position) * inv[i])
            o[i] = Float(Double(v[i]) * cos(a) - Double(v[i + half]) * sin(a))
            o[i + half] = Float(Double(v[i + half]) * cos(a) + Double(v[i]) * sin(a))
        }
        return o
    }

    @Test("two requests: one extends a cached prefix, one prefills; GQA, window, soft-cap", arguments: [
        Case(qHeads: 4, kvHeads: 2, headDim: 8, window: nil, softcap: nil),
        Case(qHeads: 4, kvHeads: 1, headDim: 8, window: 3, softcap: nil),
        Case(qHeads: 2, kvHeads: 2, headDim: 16, window: nil, softcap: 2),
    ])
    func pagedAttention(c: Case) throws {
        // Short extends take the per-token path, long ones (≥ 8 new tokens; 140 crosses a 128-query
        // block) the blocked GEMM path.
        for (lengths, prefix) in [([9, 5], [6, 0]), ([20, 11], [6, 0]), ([150, 3], [10, 0])] {
            try pagedAttention(c: c, lengths: lengths, prefix: prefix)
        }
    }

    func pagedAttention(c: Case, lengths: [Int], prefix: [Int]) throws {
        var rng = TestRNG(seed: 42)
        let layout = QKVLayout(qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim)
        let half = c.headDim / 2
        let inv = (0..<half).map { 1 / Float(pow(10_000.0, Double(2 * $0) / Double(c.headDim))) }
        let rotary = RotaryEmbedding(inverseFrequencies: inv)
        // Full per-request q/k/v rows for every position.
        let full = lengths.map { n in (0..<n).map { _ in rng.floats(layout.width) } }

        let reqPool = ReqToTokenPool(maxRequests: 4, maxContext: 256)
        let kvPool = TokenToKVPool(size: 512, layerCount: 1, kvHeads: c.kvHeads, headDim: c.headDim)
        let params = AttentionParameters(scale: 1 / Float(c.headDim).squareRoot(), softcap: c.softcap,
                                         slidingWindow: c.window)
        // Step 1: cache request 0's prefix with its own forward.
        let rows: [Int32] = [2, 0]
        func run(_ batch: ForwardBatch, rows qkvRows: [[Float]]) throws -> [Float] {
            try reqPool.record(batch)
            let qkv = FloatBuffer(qkvRows.flatMap { $0 })
            backend.ropeAndStoreKV(qkv, layout: layout, batch: batch, rotary: rotary, kvPool: kvPool, layer: 0)
            let out = FloatBuffer(count: batch.tokenCount * c.qHeads * c.headDim)
            backend.attention(qkv, layout: layout, batch: batch, reqToToken: reqPool, kvPool: kvPool, layer: 0,
                              parameters: params, output: out)
            return out.toArray()
        }
        let p0 = ForwardBatch(requests: [rows[0]], prefixLens: [0], newTokens: [[Int32](repeating: 1, count: prefix[0])],
                              slots: try kvPool.alloc(prefix[0]))
        _ = try run(p0, rows: Array(full[0][0..<prefix[0]]))
        // Step 2: one batch extending request 0 and prefilling request 1.
        let newCounts = zip(lengths, prefix).map { $0 - $1 }
        let batch = ForwardBatch(requests: rows, prefixLens: prefix,
                                 newTokens: newCounts.map { [Int32](repeating: 1, count: $0) },
                                 slots: try kvPool.alloc(newCounts.reduce(0, +)))
        #expect(batch.mode == .extend)
        let got = try run(batch, rows: Array(full[0][prefix[0]...]) + full[1])

        // Naive: rotate everything, attend causally within the window.
        var expected: [Float] = []
        let group = c.qHeads / c.kvHeads
        for r in 0..<2 {
            let seq = full[r]
            func head(_ pos: Int, _ offset: Int) -> [Float] { Array(seq[pos][offset..<(offset + c.headDim)]) }
            for pos in prefix[r]..<lengths[r] {
                for h in 0..<c.qHeads {
                    let q = rope(head(pos, h * c.headDim), position: pos, inv: inv)
                    let kvh = h / group
                    let lo = c.window.map { max(0, pos - $0 + 1) } ?? 0
                    var scores: [Double] = []
                    for j in lo...pos {
                        let k = rope(head(j, layout.kOffset + kvh * c.headDim), position: j, inv: inv)
                        var s = zip(q, k).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } * Double(params.scale)
                        if let cap = c.softcap { s = Double(cap) * tanh(s / Double(cap)) }
                        scores.append(s)
                    }
                    let m = scores.max() ?? 0
                    let e = scores.map { exp($0 - m) }
                    let z = e.reduce(0, +)
                    var o = [Double](repeating: 0, count: c.headDim)
                    for (i, j) in (lo...pos).enumerated() {
                        let v = head(j, layout.vOffset + kvh * c.headDim)
                        for d in 0..<c.headDim { o[d] += e[i] / z * Double(v[d]) }
                    }
                    expected += o.map { Float($0) }
                }
            }
        }
        #expect(maxAbsDiff(got, expected) < 1e-5, "\(c) lengths \(lengths) prefix \(prefix)")
        // Stored keys are the rotated keys: check the last new token of request 1.
        let slot = Int(batch.outCacheLoc.last ?? 0)
        let stored = kvPool.keys[0].toArray(offset: slot * kvPool.slotStride, count: c.headDim)
        let lastPos = lengths[1] - 1
        let k0 = rope(Array(full[1][lastPos][layout.kOffset..<(layout.kOffset + c.headDim)]), position: lastPos, inv: inv)
        #expect(maxAbsDiff(stored, k0) < 1e-5)
    }

    @Test("per-head q/k RMSNorm in a fused QKV buffer")
    func qkNorm() {
        var rng = TestRNG(seed: 9)
        let layout = QKVLayout(qHeads: 2, kvHeads: 1, headDim: 4)
        let x = rng.floats(2 * layout.width), qw = rng.floats(4), kw = rng.floats(4)
        let buf = FloatBuffer(x)
        backend.qkNorm(buf, tokens: 2, layout: layout, qWeight: FloatBuffer(qw), kWeight: FloatBuffer(kw), eps: 1e-6)
        var expected = x
        for t in 0..<2 {
            for h in 0..<3 {
                let base = t * layout.width + h * 4
                let v = x[base..<(base + 4)].map { Double($0) }
                let inv = 1 / (v.map { $0 * $0 }.reduce(0, +) / 4 + 1e-6).squareRoot()
                let w = h < 2 ? qw : kw
                for i in 0..<4 { expected[base + i] = Float(v[i] * inv * Double(w[i])) }
            }
        }
        #expect(maxAbsDiff(buf.toArray(), expected) < 1e-5)
    }
}
