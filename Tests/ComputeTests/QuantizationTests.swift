import Foundation
import GGUF
import Testing

@testable import Compute

/// Blocks and their dequantized values written by `scripts/make_quant_fixtures.py` with the `gguf` package.
enum QuantFixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Resources/quant")

    static func load(_ type: GGMLType) throws -> (blocks: [UInt8], values: [Float]) {
        let blocksURL = directory.appendingPathComponent("\(type.name).blocks")
        let valuesURL = directory.appendingPathComponent("\(type.name).f32")
        guard let blocks = FileManager.default.contents(atPath: blocksURL.path),
              let raw = FileManager.default.contents(atPath: valuesURL.path)
        else {
            Issue.record("missing \(blocksURL.path) (regenerate with scripts/make_quant_fixtures.py)")
            throw CocoaError(.fileNoSuchFile)
        }
        let values = raw.withUnsafeBytes { p in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        return ([UInt8](blocks), values)
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) so test inputs are reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Quantization: dequantization vs gguf")
struct QuantizationDequantTests {
    static let types: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    @Test("dequantize is bit-exact with gguf.quants.dequantize", arguments: types)
    func bitExact(type: GGMLType) throws {
        let (blocks, expected) = try QuantFixtures.load(type)
        let actual = try blocks.withUnsafeBytes { try Dequantization.dequantize(type, bytes: $0) }
        #expect(actual.count == expected.count)
        var mismatches = 0
        for i in 0..<min(actual.count, expected.count) where actual[i].bitPattern != expected[i].bitPattern {
            if mismatches < 5 { Issue.record("\(type.name) element \(i): \(actual[i]) != \(expected[i])") }
            mismatches += 1
        }
        #expect(mismatches == 0)
    }

    @Test("QuantizedMatrix.dequantizeRow matches the whole-buffer dequantization", arguments: [GGMLType.q4_1, .q6_K])
    func rows(type: GGMLType) throws {
        let (blocks, expected) = try QuantFixtures.load(type)
        let cols = type.blockSize * 2
        let rows = expected.count / cols
        let m = try QuantizedMatrix(type: type, rows: rows, cols: cols, copying: blocks)
        var row = [Float](repeating: 0, count: cols)
        for r in 0..<rows {
            row.withUnsafeMutableBufferPointer { m.dequantizeRow(r, into: $0.baseAddress!) }
            #expect(row.map(\.bitPattern) == expected[(r * cols)..<((r + 1) * cols)].map(\.bitPattern))
        }
    }

    @Test("F32 rows pass through; unsupported types and bad sizes are typed errors")
    func errors() throws {
        let values: [Float] = [1.5, -2, 0, .greatestFiniteMagnitude]
        let bytes = values.withUnsafeBytes { [UInt8]($0) }
        #expect(try bytes.withUnsafeBytes { try Dequantization.dequantize(.f32, bytes: $0) } == values)
        #expect(throws: QuantizationError.unsupportedType(.iq2_XXS)) {
            try QuantizedMatrix(type: .iq2_XXS, rows: 1, cols: 256, copying: [UInt8](repeating: 0, count: 66))
        }
        #expect(throws: QuantizationError.misalignedRow(type: .q4_0, columns: 48)) {
            try QuantizedMatrix(type: .q4_0, rows: 1, cols: 48, copying: [UInt8](repeating: 0, count: 18))
        }
        #expect(throws: QuantizationError.byteCountMismatch(type: .q4_0, rows: 2, columns: 32, expected: 36, actual: 18)) {
            try QuantizedMatrix(type: .q4_0, rows: 2, cols: 32, copying: [UInt8](repeating: 0, count: 18))
        }
    }
}

@Suite("Quantization: quantized matmul vs dequantize-then-fp32")
struct QuantizedMatmulTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .f16, .bf16]

    /// Random weight blocks with sane scales: random payload bytes, f16 scales in ±[2⁻⁸, 2⁻⁴].
    static func randomMatrix(_ type: GGMLType, rows: Int, cols: Int, rng: inout SplitMix) throws -> QuantizedMatrix {
        let rowBytes = type.byteCount(elements: cols)!
        var bytes = (0..<rows * rowBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let halfFields: [Int]
        switch type {
        case .q4_0, .q5_0, .q8_0: halfFields = [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: halfFields = [0, 2]
        case .q2_K: halfFields = [80, 82]
        case .q3_K: halfFields = [108]
        case .q6_K: halfFields = [208]
        case .f16: halfFields = [0]  // every element is its own block of 2 bytes
        case .bf16:
            for i in stride(from: 0, to: bytes.count, by: 2) {
                let v = Float.random(in: -1...1, using: &rng).bitPattern >> 16
                bytes[i] = UInt8(v & 0xFF)
                bytes[i + 1] = UInt8(v >> 8)
            }
            halfFields = []
        default: halfFields = []
        }
        let blockCount = bytes.count / type.typeSize
        for b in 0..<blockCount {
            for off in halfFields {
                let magnitude = Float.random(in: 0.004...0.06, using: &rng) * (Bool.random(using: &rng) ? 1 : -1)
                let h = Float16(type == .f16 ? magnitude * 16 : magnitude).bitPattern
                bytes[b * type.typeSize + off] = UInt8(h & 0xFF)
                bytes[b * type.typeSize + off + 1] = UInt8(h >> 8)
            }
        }
        return try QuantizedMatrix(type: type, rows: rows, cols: cols, copying: bytes)
    }

    @Test("matmul agrees with fp32 on dequantized weights within the activation rounding bound", arguments: types)
    func agrees(type: GGMLType) throws {
        var rng = SplitMix(state: UInt64(type.rawValue) &* 7919)
        let rows = 37, cols = 512
        let m = try Self.randomMatrix(type, rows: rows, cols: cols, rng: &rng)
        let w = m.dequantized()
        // 5 tokens take the integer kernels; 13 (≥ gemmMinimumTokens) the widen-and-SGEMM path.
        for tokens in [5, QuantizedMatrix.gemmMinimumTokens + 1] {
        let x = (0..<tokens * cols).map { _ in Float.random(in: -2...2, using: &rng) }
        let y = try m.matmul(x, tokens: tokens)
        // Activation quantization changes each x by at most d/2 = max|x_block| / (2·32512), so the error of
        // one output is at most Σ_c |W[r,c]| · max|x_block(c)| / 65024 (plus fp32 rounding).
        let block = type.blockSize >= 256 || type == .q2_K || type == .q3_K ? 256 : 32
        for t in 0..<tokens {
            for r in 0..<rows {
                var exact = 0.0
                var bound = 0.0
                for c in 0..<cols {
                    exact += Double(w[r * cols + c]) * Double(x[t * cols + c])
                    let start = t * cols + c / block * block
                    let amax = x[start..<(start + block)].map { abs(Double($0)) }.max() ?? 0
                    bound += abs(Double(w[r * cols + c])) * amax / 65024
                }
                let widened = type == .f16 || type == .bf16 || type == .q2_K || type == .q3_K
                    || tokens >= QuantizedMatrix.gemmMinimumTokens
                let tolerance = (widened ? 0 : bound) + 1e-4 * (1 + abs(exact))
                let got = Double(y[t * rows + r])
                #expect(abs(got - exact) <= tolerance, "\(type.name) t=\(t) r=\(r): \(got) vs \(exact) (±\(tolerance))")
            }
        }
        }
    }

    @Test("row ranges write only their rows and match the full product")
    func rowRanges() throws {
        var rng = SplitMix(state: 42)
        let m = try Self.randomMatrix(.q4_1, rows: 70, cols: 96, rng: &rng)
        let tokens = 3
        let x = (0..<tokens * 96).map { _ in Float.random(in: -1...1, using: &rng) }
        let full = try m.matmul(x, tokens: tokens)
        var out = [Float](repeating: .nan, count: tokens * 100)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for range in [0..<5, 5..<33, 33..<70] {
                    m.matmul(input: xp.baseAddress!, tokens: tokens, output: op.baseAddress!, outputStride: 100,
                             rowRange: range)
                }
            }
        }
        for t in 0..<tokens {
            #expect(Array(out[(t * 100)..<(t * 100 + 70)]) == Array(full[(t * 70)..<(t * 70 + 70)]))
            #expect(out[(t * 100 + 70)..<(t * 100 + 100)].allSatisfy { $0.isNaN })
        }
    }

    @Test("all-zero activations give zero; Q4_1 mins come through")
    func zeros() throws {
        // One Q4_1 block: d = 0, m = 1 → every weight is 1, so the product is Σx.
        var block = [UInt8](repeating: 0, count: 20)
        block[2] = 0x00
        block[3] = 0x3C  // f16 1.0
        let m = try QuantizedMatrix(type: .q4_1, rows: 1, cols: 32, copying: block)
        #expect(try m.matmul([Float](repeating: 0, count: 32), tokens: 1) == [0])
        let x = (0..<32).map { Float($0) / 8 }
        let y = try m.matmul(x, tokens: 1)[0]
        #expect(abs(y - x.reduce(0, +)) < 1e-3 * 62)
    }
}
