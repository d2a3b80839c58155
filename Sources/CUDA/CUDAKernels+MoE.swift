import CCUDA
import CKernelParams

/// Launchers of the mixture-of-experts kernels (`moe.cu`).
extension CUDAKernels {
    /// Most experts the routing and grouping kernels handle (their shared-memory tables).
    public static let moeMaxExperts = 1024

    /// Softmax over `experts` fp32 router logits per token (row stride `stride`), top `topK` experts (ties: lower
    /// index) into `topkIds` / `topkWeights` (`[tokens, topK]`), renormalized to sum to 1 when `normalize`.
    public func moeRoute(logits: CUdeviceptr, stride: Int, topkIds: CUdeviceptr, topkWeights: CUdeviceptr, tokens: Int,
                         experts: Int, topK: Int, normalize: Bool, stream: CUDAStream) throws
    {
        try require(tokens > 0 && experts > 0 && experts <= Self.moeMaxExperts && topK > 0 && topK <= experts
                        && stride >= experts, "MoE routing of \(tokens) tokens over \(experts) experts, top \(topK)")
        let p = SGLMoERouteParams(
            logits: logits, topk_ids: topkIds, topk_weights: topkWeights, tokens: Int32(tokens), experts: Int32(experts),
            stride: Int32(stride), top_k: Int32(topK), normalize: normalize ? 1 : 0, pad0: 0)
        try function("sgl_moe_route").launch(grid: ((tokens + 7) / 8, 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Groups `pairs` routed (token, choice) pairs by expert: `offsets` (`experts + 1`), each slot's token row
    /// (`slotRows`), each pair's slot (`pairSlots`); pair order is kept within an expert.
    public func moeAlign(topkIds: CUdeviceptr, offsets: CUdeviceptr, slotRows: CUdeviceptr, pairSlots: CUdeviceptr,
                         pairs: Int, experts: Int, topK: Int, stream: CUDAStream) throws
    {
        try require(pairs > 0 && experts > 0 && experts <= Self.moeMaxExperts && topK > 0 && pairs % topK == 0,
                    "MoE grouping of \(pairs) pairs over \(experts) experts")
        let p = SGLMoEAlignParams(
            topk_ids: topkIds, offsets: offsets, slot_rows: slotRows, pair_slots: pairSlots, pairs: Int32(pairs),
            experts: Int32(experts), top_k: Int32(topK), pad0: 0)
        try function("sgl_moe_align").launch(grid: (1, 1, 1), block: (1024, 1, 1), stream: stream, params: p)
    }

    /// Grouped GEMM: each slot `s` of expert `e` gets `y[s, :] = x[row(s), :] · w[e]ᵀ`, `row(s) = xRows[s]`
    /// (or `s` when `xRows` is nil); weights `[experts, n, k]`, `y` in the element type.
    public func moeGemm(x: CUdeviceptr, xRows: CUdeviceptr?, w: CUdeviceptr, y: CUdeviceptr, offsets: CUdeviceptr,
                        experts: Int, n: Int, k: Int, type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(experts > 0 && n > 0 && k > 0 && k % (16 / type.size) == 0, "MoE GEMM \(experts)×\(n)×\(k)")
        try require(experts <= 65_535, "MoE GEMM over \(experts) experts")
        let p = SGLMoEGemmParams(x: x, x_rows: xRows ?? 0, w: w, y: y, offsets: offsets, n: Int32(n), k: Int32(k),
                                 experts: Int32(experts), pad0: 0)
        try function("sgl_moe_gemm_\(type.rawValue)").launch(
            grid: ((n + 7) / 8, experts, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// `out[t, :] = Σ_j topkWeights[t, j] · expertOut[pairSlots[t·topK + j], :]` (+ `sigmoid(sharedGate[t ·
    /// gateStride]) · sharedOut[t, :]` when `sharedOut` is given; no gate means weight 1).
    public func moeCombine(expertOut: CUdeviceptr, pairSlots: CUdeviceptr, topkWeights: CUdeviceptr,
                           sharedOut: CUdeviceptr?, sharedGate: CUdeviceptr?, gateStride: Int, out: CUdeviceptr,
                           tokens: Int, dim: Int, topK: Int, type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(tokens > 0 && dim > 0 && topK > 0, "MoE combine of \(tokens)×\(dim), top \(topK)")
        let p = SGLMoECombineParams(
            expert_out: expertOut, pair_slots: pairSlots, topk_weights: topkWeights, shared_out: sharedOut ?? 0,
            shared_gate: sharedGate ?? 0, out: out, tokens: Int32(tokens), dim: Int32(dim), top_k: Int32(topK),
            gate_stride: Int32(gateStride))
        try function("sgl_moe_combine_\(type.rawValue)").launch(
            grid: (Self.blocks(tokens * dim, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }
}
