import Compute

/// Qwen2-MoE (routed experts plus a shared expert gated by `sigmoid(shared_expert_gate(x))`) and
/// Qwen3-MoE (routed experts only, q/k norms in attention); top-k renormalization per `norm_topk_prob`.
enum QwenMoEArchitecture {
    static func sparseBlock(_ w: WeightLoader, config: ModelConfig, layer: Int, moe: MoEConfig) throws -> MoEBlock {
        let p = "model.layers.\(layer).mlp."
        let h = config.hiddenSize
        let act = config.hiddenActivation.gated
        let experts = try (0..<moe.numExperts).map { e in
            try GatedMLP.load(w, prefix: p + "experts.\(e).", hidden: h, inner: moe.expertIntermediateSize,
                              activation: act)
        }
        var shared: GatedMLP?
        var sharedGate: WeightMatrix?
        if let inner = moe.sharedExpertIntermediateSize {
            shared = try GatedMLP.load(w, prefix: p + "shared_expert.", hidden: h, inner: inner, activation: act)
            sharedGate = try w.matrix(p + "shared_expert_gate.weight", rows: 1, cols: h)
        }
        return MoEBlock(
            router: try w.matrix(p + "gate.weight", rows: moe.numExperts, cols: h), experts: experts,
            topK: moe.numExpertsPerToken, normalizeTopK: moe.normalizeTopKProbabilities, sharedExpert: shared,
            sharedExpertGate: sharedGate)
    }
}
