import Compute
import Foundation
import GGUF
import JSON
import Testing
@testable import Models

/// The GGUF weight source and config against the real SmolLM2 Q4_1 file, with expectations computed by
/// `scripts/make_quant_fixtures.py` (gguf's numpy dequantization, transformers' `reverse_permute`
/// reimplemented in numpy).
@Suite(.serialized) struct GGUFWeightSourceTests {
    static func smolLM2() throws -> GGUFWeightSource {
        let path = Fixtures.repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("missing \(path): run `bash scripts/fetch-smollm2.sh` (or `make fetch-model`)")
            throw Fixtures.FixtureMissing(path: path)
        }
        return try GGUFWeightSource(path: path)
    }

    @Test func configFromMetadataMatchesTheFixtureREADME() throws {
        let c = try Self.smolLM2().config
        #expect(c.family == .llama)
        #expect(c.vocabSize == 49152)
        #expect(c.hiddenSize == 576)
        #expect(c.intermediateSize == 1536)
        #expect(c.numHiddenLayers == 30)
        #expect(c.numAttentionHeads == 9)
        #expect(c.numKeyValueHeads == 3)
        #expect(c.headDim == 64)
        // GGUF stores the epsilon as float32; transformers keeps that value (9.99999974e-06) too.
        #expect(c.rmsNormEps == Double(Float(1e-5)))
        #expect(c.rope.theta == 100_000)
        #expect(c.rope.scaling == .none)
        #expect(c.maxPositionEmbeddings == 8192)
        #expect(c.tieWordEmbeddings)
        #expect(!c.attentionQKVBias && !c.mlpBias)
        #expect(c.bosTokenId == 1)
        #expect(c.eosTokenIds == [2])
    }

    @Test func configAgreesWithTheGeneratedExpectationsAndTheHFConfig() throws {
        let expected = try Fixtures.json(try Fixtures.resource("gguf_smollm2.json"))["config"]
        let fromGGUF = try Self.smolLM2().config
        let fromJSON = try ModelConfig(json: try #require(expected))
        for (a, b) in [(fromGGUF.vocabSize, fromJSON.vocabSize), (fromGGUF.hiddenSize, fromJSON.hiddenSize),
                       (fromGGUF.headDim, fromJSON.headDim), (fromGGUF.numKeyValueHeads, fromJSON.numKeyValueHeads),
                       (fromGGUF.maxPositionEmbeddings, fromJSON.maxPositionEmbeddings)] {
            #expect(a == b)
        }
        #expect(fromGGUF.rope == fromJSON.rope)
        // The Hugging Face checkpoint's own config.json describes the same shapes.
        let hf = try ModelConfig.load(from: try Fixtures.shared("configs/smollm2-135m"))
        #expect(fromGGUF.expectedWeights() == hf.expectedWeights())
    }

    @Test func everyTensorHasItsHuggingFaceNameAndShape() throws {
        let source = try Self.smolLM2()
        let expected = try Fixtures.json(try Fixtures.resource("gguf_smollm2.json"))
        let names = try #require(expected["names"]?.arrayValue)
        #expect(names.count == 272)
        #expect(source.names.count == names.count)
        for n in names {
            let hf = try #require(n["hf"]?.stringValue)
            let info = try source.info(named: hf)
            #expect(info.shape == n["shape"]?.arrayValue?.compactMap(\.intValue), Comment(rawValue: hf))
            #expect(info.dtype.description == n["type"]?.stringValue, Comment(rawValue: hf))
        }
        // Exactly the weights the Llama architecture reads (tied: no lm_head).
        #expect(Set(source.config.expectedWeights().map(\.name)) == Set(source.names))
        #expect(!source.contains("lm_head.weight"))
        #expect(throws: ModelError.missingTensor("lm_head.weight")) { try source.tensor(named: "lm_head.weight") }
    }

    @Test func sampledTensorsMatchGGUFNumpyIncludingUnpermutedQK() throws {
        let source = try Self.smolLM2()
        let expected = try Fixtures.json(try Fixtures.resource("gguf_smollm2.json"))
        let tensors = try #require(expected["tensors"]?.arrayValue)
        #expect(tensors.count == 12)
        for t in tensors {
            let hf = try #require(t["hf"]?.stringValue)
            let ctx = Comment(rawValue: hf)
            let values = try source.dequantizedFloats(named: hf)
            #expect(values.count == (t["shape"]?.arrayValue?.compactMap(\.intValue) ?? []).reduce(1, *), ctx)
            let indices = (t["indices"]?.arrayValue ?? []).compactMap(\.intValue)
            let samples = (t["values"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) }
            #expect(indices.count == samples.count && !indices.isEmpty, ctx)
            for (i, v) in zip(indices, samples) {
                #expect(values[i].bitPattern == v.bitPattern, Comment(rawValue: "\(hf)[\(i)]: \(values[i]) vs \(v)"))
            }
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let absSum = values.reduce(0.0) { $0 + abs(Double($1)) }
            let expectedSum = try #require(t["sum"]?.doubleValue)
            let expectedAbs = try #require(t["abs_sum"]?.doubleValue)
            #expect(abs(sum - expectedSum) <= 1e-9 * expectedAbs + 1e-9, ctx)
            #expect(abs(absSum - expectedAbs) <= 1e-9 * expectedAbs, ctx)
            // Packed matrices hold the same rows (permuted as whole blocks for q/k).
            if let m = try source.matrix(named: hf) {
                let packed = m.dequantized()
                #expect(packed.elementsEqual(values) { $0.bitPattern == $1.bitPattern }, ctx)
            }
        }
    }

    @Test func everyTensorDequantizesToFiniteValues() throws {
        let source = try Self.smolLM2()
        var total = 0
        for name in source.names {
            let values = try source.dequantizedFloats(named: name)
            #expect(values.count == (try source.info(named: name)).elementCount, Comment(rawValue: name))
            #expect(values.allSatisfy { $0.isFinite }, Comment(rawValue: name))
            total += values.count
        }
        #expect(total == 134_515_008)
    }

    @Test func quantizedProjectionsMultiplyLikeTheirFP32Expansion() throws {
        let source = try Self.smolLM2()
        var rng = SystemRandomNumberGenerator()
        for name in ["model.layers.3.mlp.down_proj.weight", "model.layers.0.self_attn.q_proj.weight",
                     "model.embed_tokens.weight"] {
            let m = try #require(try source.matrix(named: name))
            let w = m.dequantized()
            let x = (0..<2 * m.cols).map { _ in Float.random(in: -1...1, using: &rng) }
            let y = try m.matmul(x, tokens: 2)
            let rows = name.contains("embed") ? 64 : m.rows  // the vocabulary is large: check a slice
            for t in 0..<2 {
                for r in 0..<rows {
                    var exact = 0.0, bound = 0.0
                    for c in 0..<m.cols {
                        let wv = Double(w[r * m.cols + c])
                        exact += wv * Double(x[t * m.cols + c])
                        let b0 = t * m.cols + c / 32 * 32
                        bound += abs(wv) * Double(x[b0..<(b0 + 32)].map { abs($0) }.max() ?? 0) / 65024
                    }
                    #expect(abs(Double(y[t * m.rows + r]) - exact) <= bound + 1e-5 * (1 + abs(exact)), Comment(rawValue: "\(name) r=\(r)"))
                }
            }
        }
    }

    @Test func matrixAPIRejectsPlainFloatTensorsAndWrongNames() throws {
        let source = try Self.smolLM2()
        #expect(try source.matrix(named: "model.norm.weight") == nil)
        #expect(try source.quantizedMatrix(named: "model.layers.0.input_layernorm.weight") == nil)
        #expect(throws: ModelError.missingTensor("model.layers.30.mlp.up_proj.weight")) {
            try source.matrix(named: "model.layers.30.mlp.up_proj.weight")
        }
        let norm = try source.tensor(named: "model.norm.weight")
        #expect(try norm.floats() == norm.dequantizedFloats())
    }

    @Test func unpermutationIsTransformersReversePermute() throws {
        // 2 heads, 4 rows each (d = 2), rows of one byte: GGUF row order (h, j, k) → HF (h, k, j).
        let bytes: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7]
        let out = try bytes.withUnsafeBytes {
            try GGUFWeightSource.unpermutedRows($0, shape: [8, 1], heads: 2, name: "t")
        }
        #expect(Array(out.buffer) == [0, 2, 1, 3, 4, 6, 5, 7])
        #expect(throws: ModelError.self) {
            try bytes.withUnsafeBytes { try GGUFWeightSource.unpermutedRows($0, shape: [8, 1], heads: 3, name: "t") }
        }
    }
}
