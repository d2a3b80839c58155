import Compute
import Foundation
import GGUF
import JSON
import Testing
@testable import Models

/// Tiny fixture models written as GGUF files the way llama.cpp's converter lays them out (llama.cpp tensor
/// names, Q/K rows permuted for `llama`, stacked expert tensors, the shared-expert gate as a vector,
/// `{arch}.*` metadata), then loaded through `GGUFWeightSource` + `GGUFModelConfig`: the logits must
/// match transformers' reference for the safetensors originals.
@Suite(.serialized) struct GGUFTinyModelTests {
    @Test("tiny models round-trip through GGUF", arguments: ["llama", "qwen2_moe", "qwen3"])
    func logitsMatchReference(name: String) throws {
        let folder = try Fixtures.shared("tiny/\(name)")
        let config = try ModelConfig.load(from: folder)
        let weights = try SafetensorsModel(folder: folder)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(name)-\(UUID()).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TinyGGUFWriter.write(config: config, weights: weights, to: path)

        let source = try GGUFWeightSource(path: path)
        #expect(source.config.expectedWeights() == config.expectedWeights())
        #expect(source.config.rope == config.rope)
        #expect(source.config.moe == config.moe)
        for spec in config.expectedWeights() {
            #expect(try source.tensor(named: spec.name).floats() == weights.tensor(named: spec.name).floats(),
                    Comment(rawValue: spec.name))
        }
        let model = try CausalLM(config: source.config, weights: source)
        let ref = try Fixtures.json(folder + "/reference.json")
        let sequences = (ref["sequences"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { Int32($0.intValue ?? -1) } }
        let logits = ref["logits"]?.arrayValue ?? []
        for (s, seq) in sequences.enumerated() {
            let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 128)
            let kvPool = model.makeKVPool(size: 256)
            let batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [seq], slots: try kvPool.alloc(seq.count))
            let out = try model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .all)
            var worst: Float = 0
            for (p, row) in (logits[s].arrayValue ?? []).enumerated() {
                let expected = (row.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) }
                for (a, b) in zip(out.row(p), expected) { worst = max(worst, abs(a - b)) }
            }
            #expect(worst <= 1e-3, "\(name) sequence \(s): max |Δlogit| \(worst)")
        }
    }
}

extension GGUFTinyModelTests {
    /// llama.cpp's `pooling_type`: last-token pooling makes an embedding model, other pooling is refused when
    /// embeddings are asked for, and a file without it embeds only when asked.
    @Test func poolingTypeDecidesEmbedding() throws {
        let folder = try Fixtures.shared("tiny/llama")
        let config = try ModelConfig.load(from: folder)
        let weights = try SafetensorsModel(folder: folder)
        func source(pooling: UInt32?) throws -> GGUFWeightSource {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID()).gguf").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try TinyGGUFWriter.write(config: config, weights: weights, to: path,
                                     extraMetadata: pooling.map { [("llama.pooling_type", .u32(Int($0)))] } ?? [])
            return try GGUFWeightSource(path: path)
        }
        let last = try source(pooling: 3), mean = try source(pooling: 1), none = try source(pooling: nil)
        #expect(try last.servesEmbeddings(asked: false))
        #expect(try !none.servesEmbeddings(asked: false) && none.servesEmbeddings(asked: true))
        #expect(try !mean.servesEmbeddings(asked: false))
        #expect(throws: ModelError.self) { try mean.servesEmbeddings(asked: true) }
    }
}

/// A minimal GGUF v3 writer (F32 tensors) for the round-trip test.
enum TinyGGUFWriter {
    /// `extraTensors` (GGUF name, ggml dims, F32 values) are written after the model's own tensors.
    static func write(config c: ModelConfig, weights: SafetensorsModel, to path: String,
                      extraTensors: [(String, [Int], [Float])] = [], extraMetadata: [(String, Value)] = []) throws {
        let arch: String
        switch c.family {
        case .llama: arch = "llama"
        case .qwen2Moe: arch = "qwen2moe"
        case .qwen3: arch = "qwen3"
        default: throw ModelError.unsupportedModelType(c.modelType, supported: ["llama", "qwen2_moe", "qwen3"])
        }
        var kv: [(String, Value)] = [
            ("general.architecture", .string(arch)),
            ("\(arch).block_count", .u32(c.numHiddenLayers)),
            ("\(arch).context_length", .u32(c.maxPositionEmbeddings)),
            ("\(arch).embedding_length", .u32(c.hiddenSize)),
            ("\(arch).feed_forward_length", .u32(c.intermediateSize)),
            ("\(arch).attention.head_count", .u32(c.numAttentionHeads)),
            ("\(arch).attention.head_count_kv", .u32(c.numKeyValueHeads)),
            ("\(arch).attention.layer_norm_rms_epsilon", .f32(Float(c.rmsNormEps))),
            ("\(arch).rope.freq_base", .f32(Float(c.rope.theta))),
            ("\(arch).vocab_size", .u32(c.vocabSize)),
            ("\(arch).attention.key_length", .u32(c.headDim)),
            ("\(arch).attention.value_length", .u32(c.headDim)),
        ]
        kv += extraMetadata
        if let moe = c.moe {
            kv += [("\(arch).expert_count", .u32(moe.numExperts)),
                   ("\(arch).expert_used_count", .u32(moe.numExpertsPerToken)),
                   ("\(arch).expert_feed_forward_length", .u32(moe.expertIntermediateSize))]
            if let shared = moe.sharedExpertIntermediateSize {
                kv.append(("\(arch).expert_shared_feed_forward_length", .u32(shared)))
            }
        }

        // (GGUF name, ggml dims (row length first), values)
        var tensors: [(String, [Int], [Float])] = []
        func add(_ gguf: String, _ hf: String, permuteHeads: Int? = nil) throws {
            let t = try weights.tensor(named: hf)
            var values = try t.floats()
            if let heads = permuteHeads {
                let rows = t.shape[0], cols = t.shape.count > 1 ? t.shape[1] : 1, d = rows / heads / 2
                var out = values
                for h in 0..<heads { for j in 0..<d { for k in 0..<2 {
                    let dst = (h * 2 * d + 2 * j + k) * cols, src = (h * 2 * d + k * d + j) * cols
                    for x in 0..<cols { out[dst + x] = values[src + x] }
                } } }
                values = out
            }
            tensors.append((gguf, t.shape.reversed(), values))
        }
        try add("token_embd.weight", "model.embed_tokens.weight")
        try add("output_norm.weight", "model.norm.weight")
        if !c.tieWordEmbeddings { try add("output.weight", "lm_head.weight") }
        for i in 0..<c.numHiddenLayers {
            let p = "model.layers.\(i).", b = "blk.\(i)."
            try add(b + "attn_norm.weight", p + "input_layernorm.weight")
            try add(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            let llama = c.family == .llama
            try add(b + "attn_q.weight", p + "self_attn.q_proj.weight", permuteHeads: llama ? c.numAttentionHeads : nil)
            try add(b + "attn_k.weight", p + "self_attn.k_proj.weight", permuteHeads: llama ? c.numKeyValueHeads : nil)
            try add(b + "attn_v.weight", p + "self_attn.v_proj.weight")
            try add(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            if c.attentionQKVBias {
                for x in ["q", "k", "v"] { try add(b + "attn_\(x).bias", p + "self_attn.\(x)_proj.bias") }
            }
            if c.traits.qkNorm {
                try add(b + "attn_q_norm.weight", p + "self_attn.q_norm.weight")
                try add(b + "attn_k_norm.weight", p + "self_attn.k_norm.weight")
            }
            if let moe = c.moe, moe.isSparseLayer(i) {
                try add(b + "ffn_gate_inp.weight", p + "mlp.gate.weight")
                for kind in ["gate", "up", "down"] {
                    var stacked: [Float] = []
                    var shape: [Int] = []
                    for e in 0..<moe.numExperts {
                        let t = try weights.tensor(named: p + "mlp.experts.\(e).\(kind)_proj.weight")
                        stacked += try t.floats()
                        shape = t.shape
                    }
                    tensors.append((b + "ffn_\(kind)_exps.weight", [shape[1], shape[0], moe.numExperts], stacked))
                }
                if moe.sharedExpertIntermediateSize != nil {
                    for kind in ["gate", "up", "down"] {
                        try add(b + "ffn_\(kind)_shexp.weight", p + "mlp.shared_expert.\(kind)_proj.weight")
                    }
                    let g = try weights.tensor(named: p + "mlp.shared_expert_gate.weight")
                    tensors.append((b + "ffn_gate_inp_shexp.weight", [c.hiddenSize], try g.floats()))
                }
            } else {
                for kind in ["gate", "up", "down"] { try add(b + "ffn_\(kind).weight", p + "mlp.\(kind)_proj.weight") }
            }
        }

        tensors += extraTensors

        var out = Bytes()
        out.raw(Array("GGUF".utf8))
        out.u32(3)
        out.u64(tensors.count)
        out.u64(kv.count)
        for (key, value) in kv {
            out.string(key)
            switch value {
            case .u32(let v): out.u32(4); out.u32(v)
            case .f32(let v): out.u32(6); out.u32(Int(v.bitPattern))
            case .string(let s): out.u32(8); out.string(s)
            }
        }
        var offset = 0
        for (name, dims, values) in tensors {
            out.string(name)
            out.u32(dims.count)
            for d in dims { out.u64(d) }
            out.u32(0)  // F32
            out.u64(offset)
            offset += (values.count * 4 + 31) / 32 * 32
        }
        out.pad(to: 32)
        for (_, _, values) in tensors {
            for v in values { out.u32(Int(v.bitPattern)) }
            out.pad(to: 32)
        }
        try Data(out.bytes).write(to: URL(fileURLWithPath: path))
    }

    enum Value {
        case u32(Int)
        case f32(Float)
        case string(String)
    }

    struct Bytes {
        var bytes: [UInt8] = []
        mutating func raw(_ b: [UInt8]) { bytes += b }
        mutating func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { bytes += $0 } }
        mutating func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { bytes += $0 } }
        mutating func string(_ s: String) { u64(s.utf8.count); bytes += Array(s.utf8) }
        mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }
    }
}
