import GGUF

/// llama.cpp tensor names → Hugging Face checkpoint names (the inverse of `convert_hf_to_gguf.py`'s
/// tensor map), including per-expert views of stacked expert tensors.
enum GGUFTensorNames {
    /// One Hugging Face tensor served from (part of) a GGUF tensor.
    struct Mapping {
        /// The Hugging Face name.
        let name: String
        /// The GGUF name without its `blk.N.` prefix (e.g. `attn_q.weight`).
        let gguf: String
        /// Row-major shape.
        let shape: [Int]
        /// Byte range inside the GGUF tensor.
        let byteOffset: Int
        let byteCount: Int
    }

    static let topLevel: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    static func layerName(_ suffix: String, family: ModelFamily) -> String? {
        let attn: [String: String] = [
            "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "attn_qkv": "self_attn.qkv_proj",
            "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
            "ffn_gate": "mlp.gate_proj", "ffn_down": "mlp.down_proj",
            "ffn_up": family == .phi3 ? "mlp.gate_up_proj" : "mlp.up_proj",
            "attn_norm": "input_layernorm",
            "ffn_norm": family == .gemma2 ? "pre_feedforward_layernorm" : "post_attention_layernorm",
            "post_attention_norm": "post_attention_layernorm",
            "post_ffw_norm": "post_feedforward_layernorm",
            "ffn_gate_inp": family == .mixtral ? "block_sparse_moe.gate" : "mlp.gate",
            "ffn_gate_shexp": "mlp.shared_expert.gate_proj", "ffn_up_shexp": "mlp.shared_expert.up_proj",
            "ffn_down_shexp": "mlp.shared_expert.down_proj", "ffn_gate_inp_shexp": "mlp.shared_expert_gate",
        ]
        let parts = suffix.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1] == "weight" || parts[1] == "bias", let base = attn[parts[0]] else { return nil }
        return base + "." + parts[1]
    }

    /// The Hugging Face name of expert `e`'s projection `kind` (`gate`, `up` or `down`).
    static func expertName(layer: Int, expert e: Int, kind: String, family: ModelFamily) -> String {
        if family == .mixtral {
            let w = ["gate": "w1", "down": "w2", "up": "w3"][kind] ?? kind
            return "model.layers.\(layer).block_sparse_moe.experts.\(e).\(w).weight"
        }
        return "model.layers.\(layer).mlp.experts.\(e).\(kind)_proj.weight"
    }

    /// Every Hugging Face tensor `tensor` provides.
    /// - Throws: `ModelError.invalidField` naming a tensor with no Hugging Face counterpart.
    static func huggingFaceNames(for tensor: GGUFTensorInfo, family: ModelFamily) throws -> [Mapping] {
        let shape = tensor.shape
        if let hf = topLevel[tensor.name] {
            return [Mapping(name: hf, gguf: tensor.name, shape: shape, byteOffset: 0, byteCount: tensor.byteCount)]
        }
        let unknown = ModelError.invalidField(
            tensor.name, reason: "GGUF tensor has no Hugging Face counterpart for architecture \(family.rawValue)")
        let parts = tensor.name.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0 else { throw unknown }
        let suffix = parts[2]
        let prefix = "model.layers.\(layer)."

        // Stacked experts: ffn_gate_exps.weight with dims [cols, rows, experts].
        for kind in ["gate", "up", "down"] where suffix == "ffn_\(kind)_exps.weight" {
            guard tensor.dimensions.count == 3 else { throw unknown }
            let (cols, rows, experts) = (tensor.dimensions[0], tensor.dimensions[1], tensor.dimensions[2])
            guard let rowBytes = tensor.type.byteCount(elements: cols) else { throw unknown }
            let expertBytes = rowBytes * rows
            return (0..<experts).map { e in
                Mapping(name: expertName(layer: layer, expert: e, kind: kind, family: family), gguf: suffix,
                        shape: [rows, cols], byteOffset: e * expertBytes, byteCount: expertBytes)
            }
        }
        // Older Mixtral files: one tensor per expert, blk.N.ffn_gate.E.weight.
        let pieces = suffix.split(separator: ".").map(String.init)
        if pieces.count == 3, let e = Int(pieces[1]), pieces[2] == "weight",
           let kind = ["ffn_gate": "gate", "ffn_up": "up", "ffn_down": "down"][pieces[0]] {
            return [Mapping(name: expertName(layer: layer, expert: e, kind: kind, family: family), gguf: suffix,
                            shape: shape, byteOffset: 0, byteCount: tensor.byteCount)]
        }
        guard let name = layerName(suffix, family: family) else { throw unknown }
        // The shared-expert gate is a [1, hidden] linear layer; GGUF stores it as a vector.
        let hfShape = suffix == "ffn_gate_inp_shexp.weight" && shape.count == 1 ? [1] + shape : shape
        return [Mapping(name: prefix + name, gguf: suffix, shape: hfShape, byteOffset: 0, byteCount: tensor.byteCount)]
    }
}
