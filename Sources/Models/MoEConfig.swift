/// Mixture-of-experts settings of Mixtral, Qwen2-MoE and Qwen3-MoE.
public struct MoEConfig: Sendable, Hashable {
    /// Routed experts per MoE layer (`num_local_experts` or `num_experts`).
    public var numExperts: Int
    /// Experts each token is sent to (`num_experts_per_tok`).
    public var numExpertsPerToken: Int
    /// Hidden size of one routed expert (`moe_intermediate_size`; Mixtral uses `intermediate_size`).
    public var expertIntermediateSize: Int
    /// Hidden size of the always-on shared expert (Qwen2-MoE), nil when there is none.
    public var sharedExpertIntermediateSize: Int?
    /// Renormalize the top-k routing weights to sum to 1 (`norm_topk_prob`; always on for Mixtral).
    public var normalizeTopKProbabilities: Bool
    /// Every `decoderSparseStep`-th layer is sparse (`decoder_sparse_step`).
    public var decoderSparseStep: Int
    /// Layers that use a dense MLP instead (`mlp_only_layers`).
    public var mlpOnlyLayers: Set<Int>

    /// Whether layer `index` (0-based) has a mixture-of-experts block rather than a dense MLP;
    /// transformers' rule: not in `mlp_only_layers`, and `(index + 1) % decoder_sparse_step == 0`.
    public func isSparseLayer(_ index: Int) -> Bool {
        !mlpOnlyLayers.contains(index) && numExperts > 0 && (index + 1) % decoderSparseStep == 0
    }

    static func decode(_ c: ConfigReader, family: ModelFamily, intermediateSize: Int, numLayers: Int) throws -> MoEConfig? {
        guard family.isMoE else { return nil }
        let expertsKey = c.has("num_local_experts") ? "num_local_experts" : "num_experts"
        let numExperts = try c.requiredPositiveInt(expertsKey)
        let perToken = try c.requiredPositiveInt("num_experts_per_tok")
        guard perToken <= numExperts else {
            throw ModelError.invalidField(
                "num_experts_per_tok", reason: "\(perToken) exceeds the number of experts (\(numExperts))")
        }
        switch family {
        case .mixtral:
            return MoEConfig(
                numExperts: numExperts, numExpertsPerToken: perToken, expertIntermediateSize: intermediateSize,
                sharedExpertIntermediateSize: nil, normalizeTopKProbabilities: true, decoderSparseStep: 1,
                mlpOnlyLayers: [])
        default:
            let shared: Int? = family == .qwen2Moe ? try c.requiredPositiveInt("shared_expert_intermediate_size") : nil
            let step = try c.positiveInt("decoder_sparse_step") ?? 1
            let dense = try c.intList("mlp_only_layers") ?? []
            if let bad = dense.first(where: { $0 < 0 || $0 >= numLayers }) {
                throw ModelError.invalidField("mlp_only_layers", reason: "layer \(bad) is outside 0..<\(numLayers)")
            }
            return MoEConfig(
                numExperts: numExperts, numExpertsPerToken: perToken,
                expertIntermediateSize: try c.requiredPositiveInt("moe_intermediate_size"),
                sharedExpertIntermediateSize: shared,
                normalizeTopKProbabilities: try c.bool("norm_topk_prob") ?? false, decoderSparseStep: step,
                mlpOnlyLayers: Set(dense))
        }
    }
}
