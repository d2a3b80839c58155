import Compute
import Foundation
import GGUF
import Models
import Testing

/// How `PackedWeightSource` serves 2-D weights.
fileprivate enum Packing {
    /// Exact fp32 values behind the quantized-kernel protocol (tests the plumbing only).
    case exact
    /// Q8_0 blocks run by the GGUF dot kernels.
    case q8_0
    /// The Q8_0-rounded values served back as plain fp32 tensors (dense path, same weights).
    case q8_0Dequantized
}

/// A kernel that is dense fp32 behind the quantized interface.
private struct ExactKernel: QuantizedMatrixKernel {
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

/// Keeps generated tensor bytes alive.
private final class Bytes: @unchecked Sendable {
    let values: [Float]
    let pointer: UnsafeMutablePointer<Float>
    init(_ values: [Float]) {
        self.values = values
        pointer = .allocate(capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
    }
    deinit { pointer.deallocate() }
}

/// Serves a checkpoint's 2-D weights packed per `Packing`, so the model runs through the quantized path.
private final class PackedWeightSource: QuantizedWeightSource, @unchecked Sendable {
    let base: SafetensorsModel
    let packing: Packing
    init(_ base: SafetensorsModel, _ packing: Packing) {
        self.base = base
        self.packing = packing
    }
    var names: [String] { base.names }
    func info(named name: String) throws -> TensorInfo { try base.info(named: name) }

    func tensor(named name: String) throws -> TensorData {
        let t = try base.tensor(named: name)
        guard packing == .q8_0Dequantized, let q = try q8(t) else { return t }
        let storage = Bytes(q.dequantized())
        return TensorData(info: TensorInfo(name: name, dtype: .f32, shape: t.shape),
                          bytes: UnsafeRawBufferPointer(start: storage.pointer, count: t.elementCount * 4), owner: storage)
    }

    func quantizedMatrix(named name: String) throws -> (any QuantizedMatrixKernel)? {
        let t = try base.tensor(named: name)
        switch packing {
        case .exact:
            guard t.shape.count == 2 else { return nil }
            return ExactKernel(rows: t.shape[0], cols: t.shape[1], values: try t.floats())
        case .q8_0: return try q8(t)
        case .q8_0Dequantized: return nil
        }
    }

    private func q8(_ t: TensorData) throws -> QuantizedMatrix? {
        guard t.shape.count == 2, t.shape[1] % 32 == 0 else { return nil }
        return try QuantizedMatrix(type: .q8_0, rows: t.shape[0], cols: t.shape[1], copying: Self.q8_0(try t.floats()))
    }

    /// ggml's reference Q8_0: per 32 values an f16 scale `d = max|x| / 127`, then `round(x / d)` as int8.
    static func q8_0(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count / 32 * 34)
        for b in stride(from: 0, to: values.count, by: 32) {
            let block = values[b..<(b + 32)]
            let d = (block.map { abs($0) }.max() ?? 0) / 127
            let inv: Float = d == 0 ? 0 : 1 / d
            let bits = Float16(d).bitPattern
            out.append(UInt8(bits & 0xFF))
            out.append(UInt8(bits >> 8))
            for x in block { out.append(UInt8(bitPattern: Int8((x * inv).rounded()))) }
        }
        return out
    }
}

@Suite("Quantized weights through the model")
struct QuantizedForwardTests {
    static let models = ["llama", "qwen3", "gemma2", "qwen2_moe"]

    fileprivate func logits(_ folder: String, _ packing: Packing?,
                            _ seq: [Int32] = [1, 17, 300, 42, 5, 99, 250, 7, 8, 9, 10, 11]) throws -> Logits {
        let config = try ModelConfig.load(from: folder)
        let safetensors = try SafetensorsModel(folder: folder)
        let source: any WeightSource = packing.map { PackedWeightSource(safetensors, $0) } ?? safetensors
        let m = try CausalLM(config: config, weights: source)
        let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: 64)
        let kvPool = m.makeKVPool(size: 64)
        return try m.forward(
            ForwardBatch(requests: [0], prefixLens: [0], newTokens: [seq], slots: try kvPool.alloc(seq.count)),
            reqToToken: reqPool, kvPool: kvPool, logits: .all)
    }

    func maxDiff(_ a: Logits, _ b: Logits) -> Float {
        guard a.values.count == b.values.count else { return .infinity }
        return zip(a.values, b.values).reduce(0) { max($0, abs($1.0 - $1.1).isNaN ? .infinity : abs($1.0 - $1.1)) }
    }

    @Test("weights behind the quantized-kernel interface (stacked QKV/gate-up, embedding rows) == dense",
          arguments: models)
    func exactPlumbing(name: String) throws {
        let folder = try Fixtures.shared("tiny/\(name)")
        let d = maxDiff(try logits(folder, nil), try logits(folder, .exact))
        #expect(d <= 1e-4, "\(name): max |Δ| \(d)")
    }

    @Test("Q8_0 kernels match the dense model on the same Q8_0-rounded weights", arguments: models)
    func q8Kernels(name: String) throws {
        let folder = try Fixtures.shared("tiny/\(name)")
        // Many tokens (the kernels' GEMM path) and one token (the dot-product path, which also rounds
        // activations to 8 bits, as llama.cpp does).
        for seq: [Int32] in [[1, 17, 300, 42, 5, 99, 250, 7, 8, 9, 10, 11], [300]] {
            let dense = try logits(folder, .q8_0Dequantized, seq), quant = try logits(folder, .q8_0, seq)
            let scale = dense.values.map { abs($0) }.max() ?? 1
            let d = maxDiff(dense, quant)
            #expect(d <= 0.02 * max(scale, 1), "\(name), \(seq.count) tokens: max |Δ| \(d) of max |logit| \(scale)")
        }
    }
}
