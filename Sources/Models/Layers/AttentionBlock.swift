import Compute

/// Self-attention with a fused QKV projection, optional per-head q/k RMSNorm (Qwen3), rotary positions,
/// paged KV storage, GQA, sliding windows and soft-capping (all decided by the config).
struct AttentionBlock {
    let qkv: WeightMatrix
    let output: WeightMatrix
    let qNorm: FloatBuffer?
    let kNorm: FloatBuffer?
    let layout: QKVLayout
    let parameters: AttentionParameters
    let normEps: Float

    /// Loads layer `layer`'s attention: `q_proj`/`k_proj`/`v_proj` fused at load time (or a stored
    /// `qkv_proj`), `o_proj`, and the q/k norms where the family has them.
    static func load(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> AttentionBlock {
        let names = config.layerWeightNames(layer)
        let hd = config.headDim
        return AttentionBlock(
            qkv: try w.matrix(names.qkv), output: try w.matrix(names.output),
            qNorm: try names.qNorm.map { try w.vector($0, count: hd) },
            kNorm: try names.kNorm.map { try w.vector($0, count: hd) },
            layout: QKVLayout(qHeads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads, headDim: hd),
            parameters: AttentionParameters(
                scale: Float(config.attentionScale), softcap: config.attentionLogitSoftcap.map { Float($0) },
                slidingWindow: config.slidingWindow(forLayer: layer)),
            normEps: Float(config.rmsNormEps))
    }

    /// `ws.delta = o_proj(attention(ws.normed))` for every token of the batch, storing K/V of layer `layer`.
    func forward(_ backend: any ComputeBackend, ws: Workspace, batch: ForwardBatch, context: ForwardContext,
                 layer: Int) throws {
        let tokens = batch.tokenCount
        try backend.linear(ws.normed, tokens: tokens, weight: qkv, output: ws.qkv)
        if let qNorm, let kNorm {
            backend.qkNorm(ws.qkv, tokens: tokens, layout: layout, qWeight: qNorm, kWeight: kNorm, eps: normEps)
        }
        backend.ropeAndStoreKV(ws.qkv, layout: layout, batch: batch, rotary: context.rotary,
                               kvPool: context.kvPool, layer: layer)
        backend.attention(ws.qkv, layout: layout, batch: batch, reqToToken: context.reqToToken,
                          kvPool: context.kvPool, layer: layer, parameters: parameters, output: ws.attention)
        try backend.linear(ws.attention, tokens: tokens, weight: output, output: ws.delta)
    }
}

/// Per-forward state shared by every layer.
struct ForwardContext {
    let reqToToken: ReqToTokenPool
    let kvPool: TokenToKVPool
    let rotary: RotaryEmbedding
}
