import GGUF
import JSON

/// Builds a `ModelConfig` from a GGUF file's `{arch}.*` metadata, the way transformers' GGUF loader
/// derives a config.json: the same keys are synthesized and decoded by `ModelConfig(json:)`, so defaults
/// and validation are shared with Hugging Face folders.
public enum GGUFModelConfig {
    /// GGUF `general.architecture` → config.json `model_type`.
    static let modelTypes: [String: String] = [
        "llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen3": "qwen3", "gemma": "gemma",
        "gemma2": "gemma2", "qwen2moe": "qwen2_moe", "qwen3moe": "qwen3_moe", "phi3": "phi3",
    ]

    /// The config of the model in `file`.
    /// - Throws: `ModelError.unsupportedModelType` for an unknown architecture, `.missingField`/`.invalidField`
    ///   (naming the GGUF key) for absent or malformed metadata.
    public static func config(from file: GGUFFile) throws -> ModelConfig {
        try ModelConfig(json: configJSON(from: file))
    }

    /// The config.json object synthesized from `file`'s metadata.
    public static func configJSON(from file: GGUFFile) throws -> JSONValue {
        guard let arch = file.architecture else { throw ModelError.missingField("general.architecture") }
        guard var modelType = modelTypes[arch] else {
            throw ModelError.unsupportedModelType(
                "GGUF architecture '\(arch)'", supported: modelTypes.keys.sorted())
        }
        let reader = MetadataReader(file: file, arch: arch)
        let experts = try reader.int("expert_count") ?? 0
        // llama.cpp stores Mixtral under the llama architecture; experts tell them apart.
        if arch == "llama", experts > 0 { modelType = "mixtral" }

        var object = JSONObject()
        object["model_type"] = .string(modelType)
        let hidden = try reader.requiredInt("embedding_length")
        let heads = try reader.requiredInt("attention.head_count")
        object["hidden_size"] = .int(hidden)
        object["num_hidden_layers"] = .int(try reader.requiredInt("block_count"))
        object["num_attention_heads"] = .int(heads)
        object["num_key_value_heads"] = .int(try reader.headCountKV() ?? heads)
        if let ff = try reader.int("feed_forward_length") {
            object["intermediate_size"] = .int(ff)
        } else if let ff = try reader.int("expert_feed_forward_length") {
            object["intermediate_size"] = .int(ff)
        } else {
            throw ModelError.missingField("\(arch).feed_forward_length")
        }
        if let context = try reader.int("context_length") { object["max_position_embeddings"] = .int(context) }
        if let eps = try reader.double("attention.layer_norm_rms_epsilon") { object["rms_norm_eps"] = .double(eps) }
        if let theta = try reader.double("rope.freq_base") { object["rope_theta"] = .double(theta) }
        if let keyLength = try reader.int("attention.key_length") {
            object["head_dim"] = .int(keyLength)
        } else if let ropeDims = try reader.int("rope.dimension_count"), ropeDims != hidden / heads,
                  arch != "phi3" {
            object["head_dim"] = .int(ropeDims)
        } else if arch == "llama" || arch == "mistral" {
            object["head_dim"] = .int(hidden / heads)
        }
        if let window = try reader.int("attention.sliding_window") { object["sliding_window"] = .int(window) }
        if let cap = try reader.double("attn_logit_softcapping") { object["attn_logit_softcapping"] = .double(cap) }
        if let cap = try reader.double("final_logit_softcapping") { object["final_logit_softcapping"] = .double(cap) }
        if let rope = try ropeScaling(reader) { object["rope_scaling"] = rope }

        object["vocab_size"] = .int(try vocabularySize(file, reader: reader))
        object["tie_word_embeddings"] = .bool(file.tensor(named: "output.weight") == nil)
        if file.tensor(named: "blk.0.attn_q.bias") != nil, modelType != "qwen2", modelType != "qwen2_moe" {
            object["attention_bias"] = .bool(true)
        }

        if experts > 0 {
            object[modelType == "mixtral" ? "num_local_experts" : "num_experts"] = .int(experts)
            object["num_experts_per_tok"] = .int(try reader.requiredInt("expert_used_count"))
            if let ff = try reader.int("expert_feed_forward_length") { object["moe_intermediate_size"] = .int(ff) }
            if let ff = try reader.int("expert_shared_feed_forward_length") {
                object["shared_expert_intermediate_size"] = .int(ff)
            }
            if modelType == "qwen3_moe" {
                // llama.cpp always renormalizes Qwen3-MoE's top-k weights.
                object["norm_topk_prob"] = .bool(true)
            }
        }

        for (key, jsonKey) in [("tokenizer.ggml.bos_token_id", "bos_token_id"),
                               ("tokenizer.ggml.eos_token_id", "eos_token_id"),
                               ("tokenizer.ggml.padding_token_id", "pad_token_id")] {
            if let v = file[key] {
                guard let id = v.intValue else {
                    throw ModelError.invalidField(key, reason: "expected an integer, found \(v.type)")
                }
                object[jsonKey] = .int(id)
            }
        }
        return .object(object)
    }

    /// `{arch}.vocab_size`, else the length of `tokenizer.ggml.tokens`, else the embedding's row count.
    private static func vocabularySize(_ file: GGUFFile, reader: MetadataReader) throws -> Int {
        if let v = try reader.int("vocab_size") { return v }
        if let tokens = file["tokenizer.ggml.tokens"]?.arrayValue?.count { return tokens }
        if let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 {
            return embedding.dimensions[1]
        }
        throw ModelError.missingField("\(reader.arch).vocab_size")
    }

    /// `{arch}.rope.scaling.*` → a transformers `rope_scaling` object (nil for none).
    private static func ropeScaling(_ reader: MetadataReader) throws -> JSONValue? {
        guard let type = try reader.string("rope.scaling.type"), type != "none" else { return nil }
        var scaling = JSONObject()
        scaling["rope_type"] = .string(type)
        if let factor = try reader.double("rope.scaling.factor") { scaling["factor"] = .double(factor) }
        if let original = try reader.int("rope.scaling.original_context_length") {
            scaling["original_max_position_embeddings"] = .int(original)
        }
        if type == "yarn", let m = try reader.double("rope.scaling.yarn_log_multiplier"), m > 0 {
            scaling["mscale_all_dim"] = .double(m / 0.1)
        }
        return .object(scaling)
    }
}

/// Typed reads of `{arch}.<suffix>` keys with errors that name the key.
struct MetadataReader {
    let file: GGUFFile
    let arch: String

    func key(_ suffix: String) -> String { "\(arch).\(suffix)" }

    func int(_ suffix: String) throws -> Int? {
        guard let v = file[key(suffix)] else { return nil }
        guard let i = v.intValue else {
            throw ModelError.invalidField(key(suffix), reason: "expected an integer, found \(v.type)")
        }
        return i
    }

    func requiredInt(_ suffix: String) throws -> Int {
        guard let v = try int(suffix) else { throw ModelError.missingField(key(suffix)) }
        guard v > 0 else { throw ModelError.invalidField(key(suffix), reason: "must be positive, found \(v)") }
        return v
    }

    func double(_ suffix: String) throws -> Double? {
        guard let v = file[key(suffix)] else { return nil }
        guard let d = v.doubleValue ?? v.intValue.map(Double.init) else {
            throw ModelError.invalidField(key(suffix), reason: "expected a number, found \(v.type)")
        }
        return d
    }

    func string(_ suffix: String) throws -> String? {
        guard let v = file[key(suffix)] else { return nil }
        guard let s = v.stringValue else {
            throw ModelError.invalidField(key(suffix), reason: "expected a string, found \(v.type)")
        }
        return s
    }

    /// `attention.head_count_kv`, which may be a per-layer array; every layer must agree.
    func headCountKV() throws -> Int? {
        let k = key("attention.head_count_kv")
        guard let v = file[k] else { return nil }
        if let i = v.intValue { return i }
        if let list = v.intArray, let first = list.first {
            guard list.allSatisfy({ $0 == first }) else {
                throw ModelError.invalidField(k, reason: "per-layer KV head counts \(list) are not supported")
            }
            return first
        }
        throw ModelError.invalidField(k, reason: "expected an integer, found \(v.type)")
    }
}
