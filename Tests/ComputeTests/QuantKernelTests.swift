import Foundation
import GGUF
import Testing

@testable import Compute

/// The C integer kernels (`CQuantKernels`) at every level this CPU supports, against independent references:
/// the activation quantizer against its definition, and every weight format's dot kernel against the
/// bit-exact dequantized row times the dequantized activations, in Double.
@Suite("Quantization: C kernels at every SIMD level")
struct QuantKernelTests {
    static let levels = QuantKernelLevel.supported
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// Activation rows with edge cases in their own blocks: zeros, equal magnitudes (every quant ±127),
    /// a lone outlier, subnormals, values exactly halfway between quants, and ordinary noise.
    static func activations(cols: Int, rng: inout SplitMix) -> [Float] {
        var x = (0..<cols).map { _ in Float.random(in: -3...3, using: &rng) }
        let block = 32
        for b in 0..<(cols / block) {
            let r = b * block..<(b + 1) * block
            switch b % 8 {
            case 0: for i in r { x[i] = 0 }
            case 1: for i in r { x[i] = i % 2 == 0 ? 5 : -5 }
            case 2: x[r.lowerBound + 7] = 900
            case 3: for i in r { x[i] = Float.leastNonzeroMagnitude * Float(i % 5) }
            case 4:
                // max|x| = 32512 gives scale 1: every other value is an exact tie (k + 0.5).
                for i in r { x[i] = Float(i % 40) * 700 - 14000 + (i % 2 == 0 ? 0.5 : 0) }
                x[r.lowerBound] = 32512
            default: break
            }
        }
        return x
    }

    @Test("activation quantization: q = 256·hi + lo within ±32512, d = max|x|/32512, |q·d − x| ≤ d/2, sums; levels agree",
          arguments: [32, 256])
    func quantizer(block: Int) throws {
        var rng = SplitMix(state: 11 &+ UInt64(block))
        let cols = 1024
        let x = Self.activations(cols: cols, rng: &rng)
        let scalar = try #require(QuantizedActivationRow(x, block: block, level: .scalar))
        for b in 0..<(cols / block) {
            let values = x[(b * block)..<((b + 1) * block)]
            let amax = values.map { abs($0) }.max() ?? 0
            #expect(scalar.d[b] == amax / 32512)
            let d = Double(scalar.d[b])
            for i in values.indices {
                #expect(abs(Int(scalar.hi[i])) <= 127)
                let q = scalar.q(i)
                #expect(abs(q) <= 32512)
                // One float rounding of x·(1/d) before the round-to-nearest: allow a relative 2⁻²² of slack.
                // Blocks whose max|x|/32512 underflows to 0 (|x| < 2⁻¹⁴⁹·32512) become zeros.
                let bound = d > 0 ? d / 2 * (1 + 0x1p-22) : Double(amax)
                #expect(abs(Double(q) * d - Double(x[i])) <= bound, "x[\(i)] = \(x[i]) → \(q)·\(d)")
            }
        }
        for g in 0..<(cols / 32) {
            #expect(Int(scalar.sums32[g]) == (32 * g..<32 * g + 32).reduce(0) { $0 + scalar.q($1) })
        }
        if block == 256 {
            for g in 0..<(cols / 16) {
                #expect(Int(scalar.sums16[g]) == (16 * g..<16 * g + 16).reduce(0) { $0 + scalar.q($1) })
            }
        }
        for level in Self.levels where level != .scalar {
            let other = try #require(QuantizedActivationRow(x, block: block, level: level))
            #expect(other.hi == scalar.hi && other.lo == scalar.lo, "\(level) quants differ from scalar")
            #expect(other.d == scalar.d, "\(level) scales differ from scalar")
            #expect(other.sums32 == scalar.sums32 && (block == 32 || other.sums16 == scalar.sums16))
        }
    }

    /// Random blocks with edge rows: rows 0-2 hold all-zero payloads, all-ones payloads (every quant at its
    /// maximum, Q8_0 −1) and alternating 0x80/0x7F bytes (Q8_0 −128 and 127); later rows are random.
    static func matrix(_ type: GGMLType, rows: Int, cols: Int, rng: inout SplitMix) throws -> QuantizedMatrix {
        let random = try QuantizedMatmulTests.randomMatrix(type, rows: rows, cols: cols, rng: &rng)
        var bytes = [UInt8](random.bytes)
        let rowBytes = random.rowBytes
        let scaleFields = Set(Self.halfFields(type))
        for row in 0..<min(3, rows) {
            for i in 0..<rowBytes where !scaleFields.contains(i % type.typeSize) {
                bytes[row * rowBytes + i] = row == 0 ? 0 : row == 1 ? 0xFF : (i % 2 == 0 ? 0x80 : 0x7F)
            }
        }
        if type == .q6_K, rows > 3 {
            // Extreme signed scales: −128 and 127.
            for b in 0..<(rowBytes / 210) {
                for k in 0..<16 { bytes[3 * rowBytes + 210 * b + 192 + k] = k % 2 == 0 ? 0x80 : 0x7F }
            }
        }
        return try QuantizedMatrix(type: type, rows: rows, cols: cols, copying: bytes)
    }

    /// Byte offsets of the f16 scale fields inside one block.
    static func halfFields(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0: return [0, 1]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 1, 2, 3]
        case .q6_K: return [208, 209]
        default: return []
        }
    }

    /// |offset or min term| of each weight, which the kernels add separately (Q4_1/Q5_1 `m`, Q4_K/Q5_K
    /// `dmin·min_g`) or through the activation sums (Q4_0 `8d`, Q5_0 `16d`, Q8_0 `128d` with VNNI, Q6_K
    /// `32·d·scale_g`), so their rounding scales with it rather than with |w|.
    static func offsetMagnitudes(_ m: QuantizedMatrix, row: Int) -> [Double] {
        let base = m.bytes.baseAddress! + row * m.rowBytes
        return (0..<m.cols).map { c in
            let blk = base + c / m.type.blockSize * m.type.typeSize
            switch m.type {
            case .q4_0: return 8 * abs(Double(HalfPrecision.loadHalf(blk, 0)))
            case .q5_0: return 16 * abs(Double(HalfPrecision.loadHalf(blk, 0)))
            case .q8_0: return 128 * abs(Double(HalfPrecision.loadHalf(blk, 0)))
            case .q4_1, .q5_1: return abs(Double(HalfPrecision.loadHalf(blk, 2)))
            case .q4_K, .q5_K:
                let g = (c % 256) / 32
                return abs(Double(HalfPrecision.loadHalf(blk, 2)) * Double(Dequantization.scaleMinK4(g, blk + 4).min))
            case .q6_K:
                let scale = Double(blk.load(fromByteOffset: 192 + (c % 256) / 16, as: Int8.self))
                return 32 * abs(Double(HalfPrecision.loadHalf(blk, 208)) * scale)
            default: return 0
            }
        }
    }

    @Test("dot kernels equal the dequantized row times the dequantized activations (1 and 3 tokens, every level)",
          arguments: types)
    func dots(type: GGMLType) throws {
        var rng = SplitMix(state: 0xC0DE &+ UInt64(type.rawValue))
        // 11 rows: two groups of four and a remainder of three; 768 columns: 24 or 3 blocks per row.
        let rows = 11, cols = 768, tokens = 3
        let m = try Self.matrix(type, rows: rows, cols: cols, rng: &rng)
        let w = m.dequantized()
        let x = (0..<tokens).flatMap { _ in Self.activations(cols: cols, rng: &rng) }
        let block = type.blockSize == 256 ? 256 : 32
        let offsets = (0..<rows).map { Self.offsetMagnitudes(m, row: $0) }
        for level in Self.levels {
            for n in [1, tokens] {
                var y = [Float](repeating: .nan, count: n * rows)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        m.matmul(input: xp.baseAddress!, tokens: n, output: yp.baseAddress!, outputStride: rows,
                                 rowRange: 0..<rows, level: level)
                    }
                }
                for t in 0..<n {
                    let act = try #require(
                        QuantizedActivationRow(Array(x[(t * cols)..<((t + 1) * cols)]), block: block, level: level))
                    for r in 0..<rows {
                        var exact = 0.0, magnitude = 0.0
                        for c in 0..<cols {
                            let a = Double(act.q(c)) * Double(act.d[c / block])
                            exact += Double(w[r * cols + c]) * a
                            magnitude += (abs(Double(w[r * cols + c])) + offsets[r][c]) * abs(a)
                        }
                        // Integer block sums are exact; each block's sum, its scale product and the weights'
                        // dequantization round once (2⁻²⁴ each), and fp32 accumulation over the blocks adds
                        // at most one rounding per block, all relative to Σ(|w| + |offset|)·|a|.
                        let tolerance = (Double(cols / 32) + 8) * 0x1p-24 * magnitude + 1e-30
                        let got = Double(y[t * rows + r])
                        #expect(abs(got - exact) <= tolerance,
                                "\(type.name) \(level) t=\(t) r=\(r): \(got) vs \(exact) (±\(tolerance))")
                    }
                }
            }
        }
    }
}
