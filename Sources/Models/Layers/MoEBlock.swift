import Compute
import Foundation

/// A sparse mixture-of-experts feed-forward block: softmax router, top-k experts per token (optionally
/// renormalized), and an optional always-on shared expert scaled by `sigmoid(shared_expert_gate(x))`.
struct MoEBlock {
    let router: WeightMatrix
    let experts: [GatedMLP]
    let topK: Int
    let normalizeTopK: Bool
    let sharedExpert: GatedMLP?
    let sharedExpertGate: WeightMatrix?

    /// `ws.delta = moe(ws.normed)`.
    func forward(_ backend: any ComputeBackend, ws: Workspace, tokens: Int) throws {
        let hidden = router.cols
        let e = experts.count
        try backend.linear(ws.normed, tokens: tokens, weight: router, output: ws.router)
        backend.softmax(ws.router, rows: tokens, dim: e, output: ws.router)

        // Routing table: for each expert, the tokens sent to it and their weights.
        var rowsOf = [[Int]](repeating: [], count: e)
        var weightsOf = [[Float]](repeating: [], count: e)
        var chosen = [Int](repeating: 0, count: topK)
        for t in 0..<tokens {
            let probs = ws.router.pointer + t * e
            // Top-k by probability; ties go to the lower index, as torch.topk does on CPU.
            for k in 0..<topK {
                var best = -1
                for j in 0..<e where !chosen[0..<k].contains(j) {
                    if best < 0 || probs[j] > probs[best] { best = j }
                }
                chosen[k] = best
            }
            var sum: Float = 0
            for k in 0..<topK { sum += probs[chosen[k]] }
            for k in 0..<topK {
                rowsOf[chosen[k]].append(t)
                weightsOf[chosen[k]].append(normalizeTopK ? probs[chosen[k]] / sum : probs[chosen[k]])
            }
        }

        ws.delta.pointer.update(repeating: 0, count: tokens * hidden)
        for (j, expert) in experts.enumerated() where !rowsOf[j].isEmpty {
            let rows = rowsOf[j]
            backend.gatherRows(ws.normed, indices: rows, dim: hidden, output: ws.expertInput)
            try expert.forward(backend, input: ws.expertInput, tokens: rows.count, ws: ws, output: ws.expertOutput)
            backend.scatterAddRows(ws.expertOutput, indices: rows, weights: weightsOf[j], dim: hidden, output: ws.delta)
        }

        if let sharedExpert, let sharedExpertGate {
            try sharedExpert.forward(backend, input: ws.normed, tokens: tokens, ws: ws, output: ws.expertOutput)
            try backend.linear(ws.normed, tokens: tokens, weight: sharedExpertGate, output: ws.router)
            let gates = (0..<tokens).map { 1 / (1 + expf(-ws.router.pointer[$0])) }
            backend.scatterAddRows(ws.expertOutput, indices: Array(0..<tokens), weights: gates, dim: hidden,
                                   output: ws.delta)
        }
    }
}

extension MoEBlock {
    /// The sparse block of layer `layer`: router, every expert's gate/up and down, and the shared expert with
    /// its gate when the config has one (top-k renormalization per `norm_topk_prob`; always for Mixtral).
    static func load(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> MoEBlock {
        guard let moe = config.moe, let names = config.moeWeightNames(layer) else {
            throw ModelError.invalidField("layer \(layer)", reason: "\(config.family) has no experts in this layer")
        }
        let h = config.hiddenSize, inner = moe.expertIntermediateSize, act = config.hiddenActivation.gated
        let gateUp = names.expertGateUp, down = names.expertDown
        let experts = try (0..<moe.numExperts).map { e in
            GatedMLP(gateUp: try w.matrix(Array(gateUp.parts[(2 * e)...(2 * e + 1)]), rows: [inner, inner], cols: h),
                     down: try w.matrix(down.parts[e], rows: h, cols: inner), inner: inner, activation: act)
        }
        var shared: GatedMLP?
        var sharedGate: WeightMatrix?
        if let gu = names.sharedGateUp, let d = names.sharedDown, names.router.parts.count > 1 {
            shared = GatedMLP(gateUp: try w.matrix(gu), down: try w.matrix(d), inner: d.cols, activation: act)
            sharedGate = try w.matrix(names.router.parts[1], rows: 1, cols: h)
        }
        return MoEBlock(
            router: try w.matrix(names.router.parts[0], rows: moe.numExperts, cols: h), experts: experts,
            topK: moe.numExpertsPerToken, normalizeTopK: moe.normalizeTopKProbabilities, sharedExpert: shared,
            sharedExpertGate: sharedGate)
    }
}
