import Compute

/// Gemma 1 and 2: GeGLU MLP, `(1 + w)` RMSNorms and `sqrt(hidden)`-scaled embeddings; Gemma 2 adds
/// sandwich norms, attention and final-logit soft-capping, alternating sliding windows and
/// `query_pre_attn_scalar`. Those are config traits consumed by the shared layers; the MLP is here.
enum GemmaArchitecture {
    /// The gated-GELU MLP of layer `layer`.
    static func mlp(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> GatedMLP {
        try GatedMLP.load(w, prefix: "model.layers.\(layer).mlp.", hidden: config.hiddenSize,
                          inner: config.intermediateSize, activation: config.hiddenActivation.gated)
    }
}
