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
