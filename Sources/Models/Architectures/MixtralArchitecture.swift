import Compute

/// Mixtral: Mistral attention with a `block_sparse_moe` of SwiGLU experts (`w1` gate, `w3` up, `w2` down),
/// top-k routing renormalized to sum to one.
enum MixtralArchitecture {
    static func sparseBlock(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> MoEBlock {
        guard let moe = config.moe else { throw ModelError.missingField("num_local_experts") }
        let p = "model.layers.\(layer).block_sparse_moe."
        let experts = try (0..<moe.numExperts).map { e in
            try GatedMLP.load(w, prefix: p + "experts.\(e).", hidden: config.hiddenSize,
                              inner: moe.expertIntermediateSize, activation: config.hiddenActivation.gated,
                              names: ("w1", "w3", "w2"))
        }
        return MoEBlock(
            router: try w.matrix(p + "gate.weight", rows: moe.numExperts, cols: config.hiddenSize),
            experts: experts, topK: moe.numExpertsPerToken, normalizeTopK: true, sharedExpert: nil,
            sharedExpertGate: nil)
    }
}
