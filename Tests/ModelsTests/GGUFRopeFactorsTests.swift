import Compute
import Foundation
@testable import GGUF
import Testing
@testable import Models

/// `rope_freqs.weight`: llama.cpp's converter turns Llama 3.1's `rope_type: llama3` into one divisor per
/// rotated pair (the metadata keeps no scaling parameters). A synthetic GGUF of the tiny Llama fixture
/// carrying such a table must load with the frequencies and logits of the same model under transformers'
/// llama3 scaling.
@Suite(.serialized) struct GGUFRopeFactorsTests {
    /// Short original context, so the tiny model's eight frequencies cover all three llama3 bands
    /// (wavelengths 6.3 and 20–63 kept or blended, ≥ 199 divided by 8).
    static let llama3 = Llama3RopeParameters(factor: 8, lowFreqFactor: 1, highFreqFactor: 4,
                                             originalMaxPositionEmbeddings: 64)

    /// The divisors as llama.cpp's `convert_hf_to_gguf.py` computes them (Python floats, stored as F32).
    static func converterFactors(theta: Double, dim: Int, _ p: Llama3RopeParameters) -> [Float] {
        let lowWavelen = Double(p.originalMaxPositionEmbeddings) / p.lowFreqFactor
        let highWavelen = Double(p.originalMaxPositionEmbeddings) / p.highFreqFactor
        return stride(from: 0, to: dim, by: 2).map { i in
            let wavelen = 2 * Double.pi / (1 / pow(theta, Double(i) / Double(dim)))
            if wavelen < highWavelen { return 1 }
            if wavelen > lowWavelen { return Float(p.factor) }
            let smooth = (Double(p.originalMaxPositionEmbeddings) / wavelen - p.lowFreqFactor)
                / (p.highFreqFactor - p.lowFreqFactor)
            return Float(1 / ((1 - smooth) / p.factor + smooth))
        }
    }

    static func writeTinyLlama(extra: [(String, [Int], [Float])]) throws -> (path: String, config: ModelConfig,
                                                                              weights: SafetensorsModel) {
        let folder = try Fixtures.shared("tiny/llama")
        let config = try ModelConfig.load(from: folder)
        let weights = try SafetensorsModel(folder: folder)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rope-\(UUID()).gguf").path
        try TinyGGUFWriter.write(config: config, weights: weights, to: path, extraTensors: extra)
        return (path, config, weights)
    }

    static func logits(_ model: CausalLM, _ seq: [Int32]) throws -> [Float] {
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 256)
        let kvPool = model.makeKVPool(size: 256)
        let batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [seq], slots: try kvPool.alloc(seq.count))
        return Array(try model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .all).values)
    }

    @Test("rope_freqs.weight gives transformers' llama3 frequencies and logits")
    func llama3Factors() throws {
        let folder = try Fixtures.shared("tiny/llama")
        let base = try ModelConfig.load(from: folder)
        let factors = Self.converterFactors(theta: base.rope.theta, dim: base.rope.rotaryDim, Self.llama3)
        #expect(Set(factors).count >= 3, "the table must exercise kept, blended and scaled bands")
        let (path, config, weights) = try Self.writeTinyLlama(extra: [("rope_freqs.weight", [factors.count], factors)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = try GGUFWeightSource(path: path)
        #expect(!source.names.contains { $0.contains("rope_freqs") })

        var hf = config
        hf.rope.scaling = .llama3(Self.llama3)
        let expected = hf.rope.frequencies().inverseFrequencies
        let got = source.config.rope.frequencies().inverseFrequencies
        #expect(got.count == expected.count)
        for (g, e) in zip(got, expected) {
            #expect(abs(g - e) <= 4e-7 * e, "inv_freq \(g) vs transformers llama3 \(e)")
        }
        #expect(source.config.rope.frequencies(sequenceLength: 10_000).inverseFrequencies == got)
        #expect(source.config.rope.frequencies().attentionFactor == 1)

        // Positions up to 40 rotate the scaled pairs far enough to move the logits.
        let seq: [Int32] = (0..<40).map { Int32(($0 * 37 + 11) % config.vocabSize) }
        let fromGGUF = try Self.logits(try CausalLM(config: source.config, weights: source), seq)
        let reference = try Self.logits(try CausalLM(config: hf, weights: weights), seq)
        let unscaled = try Self.logits(try CausalLM(config: config, weights: weights), seq)
        let worst = zip(fromGGUF, reference).map { abs($0 - $1) }.max() ?? .infinity
        let effect = zip(reference, unscaled).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4, "GGUF with rope_freqs vs llama3 config: max |Δlogit| \(worst)")
        #expect(effect > 1e-2, "the scaling must matter for this test to mean anything (max |Δ| \(effect))")
    }

    @Test("a linear scaling factor multiplies into the divisors")
    func linearTimesFactors() throws {
        let rope = RopeConfig(theta: 10_000, scaling: .linear(factor: 2), headDim: 8, maxPositionEmbeddings: 64)
        let factors: [Float] = [1, 1.5, 4, 8]
        let bytes = factors.withUnsafeBytes { [UInt8]($0) }
        let info = GGUFTensorInfo(name: "rope_freqs.weight", dimensions: [4], type: .f32, offset: 0, fileOffset: 0,
                                  byteCount: 16)
        let out = try bytes.withUnsafeBytes { try GGUFWeightSource.applyingFrequencyFactors($0, tensor: info, to: rope) }
        let plain = RopeConfig(theta: 10_000, headDim: 8, maxPositionEmbeddings: 64).frequencies().inverseFrequencies
        for (i, inv) in out.frequencies().inverseFrequencies.enumerated() {
            #expect(abs(inv - plain[i] / (2 * factors[i])) <= 2e-7 * inv)
        }
    }

    @Test("bad tables are errors naming the tensor")
    func badTables() throws {
        let folder = try Fixtures.shared("tiny/llama")
        let base = try ModelConfig.load(from: folder)
        let pairs = base.rope.rotaryDim / 2
        for (values, why) in [([Float](repeating: 1, count: pairs - 1), "length"),
                              ([Float](repeating: 1, count: pairs - 1) + [-1], "sign"),
                              ([Float](repeating: 1, count: pairs - 1) + [.nan], "NaN")] {
            let (path, _, _) = try Self.writeTinyLlama(extra: [("rope_freqs.weight", [values.count], values)])
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: ModelError.self, "\(why)") { try GGUFWeightSource(path: path) }
            do {
                _ = try GGUFWeightSource(path: path)
            } catch let error as ModelError {
                #expect("\(error)".contains("rope_freqs.weight"), "\(error)")
            }
        }
        let rope = RopeConfig(theta: 10_000, scaling: .dynamic(factor: 2), headDim: 8, maxPositionEmbeddings: 64)
        let info = GGUFTensorInfo(name: "rope_freqs.weight", dimensions: [4], type: .f32, offset: 0, fileOffset: 0,
                                  byteCount: 16)
        let ones = [Float](repeating: 1, count: 4).withUnsafeBytes { [UInt8]($0) }
        #expect(throws: ModelError.self) {
            try ones.withUnsafeBytes { try GGUFWeightSource.applyingFrequencyFactors($0, tensor: info, to: rope) }
        }
    }
}
