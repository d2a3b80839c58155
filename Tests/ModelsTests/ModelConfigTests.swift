import Foundation
import JSON
import Testing
@testable import Models

/// Config decoding against what transformers' own config classes resolve (config_expectations.json,
/// made by scripts/make_models_fixtures.py) and against the raw JSON numbers.
@Suite struct ModelConfigTests {
    static func expectations() throws -> [JSONValue] {
        try Fixtures.json(try Fixtures.resource("config_expectations.json")).arrayValue ?? []
    }

    @Test func everyTinyAndRealConfigMatchesTransformers() throws {
        let entries = try Self.expectations()
        #expect(entries.count == Fixtures.tinyNames.count + Fixtures.realConfigNames.count)
        for e in entries {
            let name = e["name"]?.stringValue ?? "?"
            let path = try Fixtures.shared(e["path"]?.stringValue ?? "")
            let c = try ModelConfig.load(from: path)
            let ctx = Comment(rawValue: name)
            #expect(c.modelType == e["model_type"]?.stringValue, ctx)
            #expect(c.vocabSize == e["vocab_size"]?.intValue, ctx)
            #expect(c.hiddenSize == e["hidden_size"]?.intValue, ctx)
            #expect(c.intermediateSize == e["intermediate_size"]?.intValue, ctx)
            #expect(c.numHiddenLayers == e["num_hidden_layers"]?.intValue, ctx)
            #expect(c.numAttentionHeads == e["num_attention_heads"]?.intValue, ctx)
            #expect(c.numKeyValueHeads == e["num_key_value_heads"]?.intValue, ctx)
            #expect(c.headDim == e["head_dim"]?.intValue, ctx)
            #expect(c.rmsNormEps == e["rms_norm_eps"]?.doubleValue, ctx)
            #expect(c.maxPositionEmbeddings == e["max_position_embeddings"]?.intValue, ctx)
            #expect(c.tieWordEmbeddings == e["tie_word_embeddings"]?.boolValue, ctx)
            #expect(c.rope.ropeType == e["rope_type"]?.stringValue, ctx)
            #expect(c.rope.theta == e["rope_theta"]?.doubleValue, ctx)
            #expect(c.hiddenActivation.rawValue == e["hidden_act"]?.stringValue, ctx)
            #expect(c.bosTokenId == e["bos_token_id"]?.intValue, ctx)
            let eos = e["eos_token_id"].flatMap { $0.intValue.map { [$0] } ?? $0.arrayValue?.compactMap(\.intValue) } ?? []
            #expect(c.eosTokenIds == eos, ctx)

            // A window of 0 or null disables sliding attention in transformers.
            let window = e["sliding_window"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
            let hfTypes = e["layer_types"]?.arrayValue?.compactMap(\.stringValue)
            if let hfTypes, window != nil {
                #expect(c.layerTypes.map(\.rawValue) == hfTypes, ctx)
            } else {
                #expect(c.layerTypes.allSatisfy { $0 == (window == nil ? .full : .sliding) }, ctx)
            }
            #expect(c.slidingWindow == window, ctx)

            if let experts = e["num_experts"]?.intValue {
                let moe = try #require(c.moe, ctx)
                #expect(moe.numExperts == experts, ctx)
                #expect(moe.numExpertsPerToken == e["num_experts_per_tok"]?.intValue, ctx)
                if let size = e["moe_intermediate_size"]?.intValue {
                    #expect(moe.expertIntermediateSize == size, ctx)
                } else {
                    #expect(moe.expertIntermediateSize == c.intermediateSize, ctx)
                }
                #expect(moe.sharedExpertIntermediateSize == e["shared_expert_intermediate_size"]?.intValue, ctx)
                if let norm = e["norm_topk_prob"]?.boolValue { #expect(moe.normalizeTopKProbabilities == norm, ctx) }
            } else {
                #expect(c.moe == nil, ctx)
            }
            for (key, value) in [("query_pre_attn_scalar", c.queryPreAttentionScalar),
                                 ("attn_logit_softcapping", c.attentionLogitSoftcap),
                                 ("final_logit_softcapping", c.finalLogitSoftcap)] {
                #expect(value == e[key]?.doubleValue, Comment(rawValue: "\(name) \(key)"))
            }
        }
    }

    @Test func tinyConfigsAgreeWithRawJSONAndFamilyTraits() throws {
        for name in Fixtures.tinyNames {
            let path = try Fixtures.shared("tiny/\(name)/config.json")
            let raw = try Fixtures.json(path)
            let c = try ModelConfig.load(from: path)
            let ctx = Comment(rawValue: name)
            #expect(c.hiddenSize == raw["hidden_size"]?.intValue, ctx)
            #expect(c.numHiddenLayers == raw["num_hidden_layers"]?.intValue, ctx)
            #expect(c.architectures == raw["architectures"]?.arrayValue?.compactMap(\.stringValue), ctx)
            #expect(c.dtype == "float32", ctx)
            #expect(c.family.rawValue == raw["model_type"]?.stringValue, ctx)
            // The style of RoPE keys each fixture uses (README: both must load).
            let usesParameters = raw["rope_parameters"] != nil
            #expect(usesParameters == ["llama-tied-mha", "qwen3", "qwen2_moe", "qwen3_moe"].contains(name), ctx)
        }
        let qwen2 = try ModelConfig.load(from: try Fixtures.shared("tiny/qwen2"))
        #expect(qwen2.attentionQKVBias && !qwen2.attentionOutputBias && qwen2.tieWordEmbeddings)
        let qwen3 = try ModelConfig.load(from: try Fixtures.shared("tiny/qwen3"))
        #expect(qwen3.traits.qkNorm && qwen3.headDim == 32 && qwen3.headDim != qwen3.hiddenSize / qwen3.numAttentionHeads)
        #expect(!qwen3.attentionQKVBias)
        let gemma2 = try ModelConfig.load(from: try Fixtures.shared("tiny/gemma2"))
        #expect(gemma2.slidingWindow(forLayer: 0) == 4 && gemma2.slidingWindow(forLayer: 1) == nil)
        #expect(gemma2.attentionScale == 1.0 / 4.0)  // query_pre_attn_scalar 16
        #expect(gemma2.embeddingScale == 8.0)  // sqrt(64)
        #expect(gemma2.traits.normAddsOne && gemma2.traits.sandwichNorms && gemma2.hiddenActivation == .geluTanh)
        #expect(gemma2.padTokenId == 0)
        let llama = try ModelConfig.load(from: try Fixtures.shared("tiny/llama"))
        #expect(llama.attentionScale == 0.25 && llama.embeddingScale == nil && llama.padTokenId == nil)
        let qwen2Moe = try ModelConfig.load(from: try Fixtures.shared("tiny/qwen2_moe"))
        #expect(qwen2Moe.attentionQKVBias)
        #expect(qwen2Moe.moe?.isSparseLayer(0) == true && qwen2Moe.moe?.isSparseLayer(1) == true)
        let mixtral = try ModelConfig.load(from: try Fixtures.shared("tiny/mixtral"))
        #expect(mixtral.moe?.normalizeTopKProbabilities == true && mixtral.headDim == 16)
    }

    @Test func llama31UsesLlama3ScalingFromRopeScaling() throws {
        let c = try ModelConfig.load(from: try Fixtures.shared("configs/llama-3.1-8b/config.json"))
        guard case .llama3(let p) = c.rope.scaling else {
            Issue.record("expected llama3 scaling, got \(c.rope.scaling)")
            return
        }
        #expect(p.factor == 8 && p.lowFreqFactor == 1 && p.highFreqFactor == 4 && p.originalMaxPositionEmbeddings == 8192)
        #expect(c.rope.theta == 500_000)
    }

    @Test func bothRopeStylesDecodeToTheSameConfig() throws {
        let legacy = try JSONValue.parse("""
            {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 1, "num_attention_heads": 4, "rope_theta": 500000.0,
             "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024,
                              "beta_fast": 16}}
            """)
        let modern = try JSONValue.parse("""
            {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 1, "num_attention_heads": 4,
             "rope_parameters": {"rope_type": "yarn", "rope_theta": 500000.0, "factor": 4.0,
                                 "original_max_position_embeddings": 1024, "beta_fast": 16}}
            """)
        let a = try ModelConfig(json: legacy)
        let b = try ModelConfig(json: modern)
        #expect(a.rope == b.rope)
        #expect(a.rope.ropeType == "yarn" && a.rope.theta == 500_000 && a.numKeyValueHeads == 4)
        // Without any RoPE keys the family default θ applies.
        let plain = try ModelConfig(json: try JSONValue.parse("""
            {"model_type": "mixtral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 1, "num_attention_heads": 4, "num_local_experts": 2, "num_experts_per_tok": 1}
            """))
        #expect(plain.rope.theta == 1_000_000 && plain.rope.scaling == .none && plain.rmsNormEps == 1e-5)
    }

    @Test func unknownModelTypeAndMissingKeysAreNamed() throws {
        let base = """
            "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
            "num_attention_heads": 4
            """
        #expect(throws: ModelError.unsupportedModelType("gpt2", supported: ModelFamily.supportedModelTypes)) {
            try ModelConfig(json: try JSONValue.parse("{\"model_type\": \"gpt2\", \(base)}"))
        }
        #expect(throws: ModelError.missingField("model_type")) {
            try ModelConfig(json: try JSONValue.parse("{\(base)}"))
        }
        #expect(throws: ModelError.missingField("hidden_size")) {
            try ModelConfig(json: try JSONValue.parse("""
                {"model_type": "llama", "vocab_size": 100, "intermediate_size": 128, "num_hidden_layers": 1,
                 "num_attention_heads": 4}
                """))
        }
        #expect(throws: ModelError.missingField("num_experts_per_tok")) {
            try ModelConfig(json: try JSONValue.parse("{\"model_type\": \"qwen3_moe\", \(base), \"num_experts\": 8, \"moe_intermediate_size\": 32}"))
        }
        #expect(throws: ModelError.missingField("rope_scaling.low_freq_factor")) {
            try ModelConfig(json: try JSONValue.parse("""
                {"model_type": "llama", \(base), "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
                 "high_freq_factor": 4.0}}
                """))
        }
        #expect(throws: ModelError.self) {
            try ModelConfig(json: try JSONValue.parse("{\"model_type\": \"llama\", \(base), \"rope_scaling\": {\"type\": \"ntk-magic\", \"factor\": 2}}"))
        }
        #expect(throws: ModelError.invalidField("hidden_size", reason: "expected an integer, found the string \"64\"")) {
            try ModelConfig(json: try JSONValue.parse("""
                {"model_type": "llama", "vocab_size": 100, "hidden_size": "64", "intermediate_size": 128,
                 "num_hidden_layers": 1, "num_attention_heads": 4}
                """))
        }
        #expect(throws: ModelError.self) {
            try ModelConfig(json: try JSONValue.parse("{\"model_type\": \"llama\", \(base), \"num_key_value_heads\": 3}"))
        }
        do {
            _ = try ModelConfig(bytes: Array("{\"model_type\": ".utf8), path: "x/config.json")
            Issue.record("truncated JSON must throw")
        } catch let error as ModelError {
            guard case .invalidJSON(let path, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == "x/config.json")
        }
        #expect(throws: ModelError.fileUnreadable(path: "/nonexistent/config.json", reason: "no such file")) {
            try ModelConfig.load(from: "/nonexistent/config.json")
        }
    }

    @Test func familyDefaultsApplyToAbsentKeys() throws {
        let gemma = try ModelConfig(json: try JSONValue.parse("""
            {"model_type": "gemma", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "hidden_act": "gelu"}
            """))
        #expect(gemma.headDim == 256 && gemma.tieWordEmbeddings && gemma.hiddenActivation == .geluTanh)
        #expect(gemma.embeddingScale == 8 && gemma.traits.normAddsOne && !gemma.traits.sandwichNorms)
        let phi3 = try ModelConfig(json: try JSONValue.parse("""
            {"model_type": "phi3", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "sliding_window": 2047}
            """))
        #expect(phi3.traits.fusedProjections && phi3.slidingWindow(forLayer: 1) == 2047)
        let mistral = try ModelConfig(json: try JSONValue.parse("""
            {"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4}
            """))
        #expect(mistral.slidingWindow == 4096 && mistral.layerTypes == [.sliding, .sliding])
        let qwen = try ModelConfig(json: try JSONValue.parse("""
            {"model_type": "qwen2", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 4, "num_attention_heads": 4, "use_sliding_window": true,
             "sliding_window": 32, "max_window_layers": 2}
            """))
        #expect(qwen.layerTypes == [.full, .full, .sliding, .sliding] && qwen.slidingWindow == 32)
    }

    @Test func generationConfigReadsEosListsAndSamplingDefaults() throws {
        let folder = try Fixtures.resource("sharded")
        let g = try #require(try GenerationConfig.load(fromFolder: folder))
        #expect(g.eosTokenIds == [2, 3] && g.bosTokenId == 1)
        #expect(g.doSample == true && g.temperature == 0.6 && g.topP == 0.9 && g.topK == 20)
        #expect(g.repetitionPenalty == 1.05 && g.maxNewTokens == 128 && g.minP == nil)
        for name in Fixtures.tinyNames {
            let t = try #require(try GenerationConfig.load(fromFolder: try Fixtures.shared("tiny/\(name)")))
            #expect(t.eosTokenIds == [2] && t.bosTokenId == 1 && t.temperature == nil)
            #expect(t.padTokenId == (name == "gemma2" ? 0 : nil))
        }
        #expect(try GenerationConfig.load(fromFolder: "/nonexistent") == nil)
        #expect(throws: ModelError.invalidField("top_p", reason: "must be in (0, 1], found 1.5")) {
            try GenerationConfig(json: try JSONValue.parse("{\"top_p\": 1.5}"))
        }
        let single = try GenerationConfig(json: try JSONValue.parse("{\"eos_token_id\": 7, \"top_k\": 0}"))
        #expect(single.eosTokenIds == [7] && single.topK == 0)
    }
}
