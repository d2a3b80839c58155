import Compute

/// The feed-forward half of a decoder layer.
enum FeedForward {
    /// A gated MLP.
    case dense(GatedMLP)
    /// A mixture of experts.
    case moe(MoEBlock)
}

/// One pre-norm decoder layer: `h += attn(norm(h))`, `h += ffn(norm(h))`; Gemma 2 also normalizes each
/// sublayer's output before the residual add ("sandwich" norms).
struct DecoderLayer {
    let inputNorm: FloatBuffer
    let postAttentionNorm: FloatBuffer
    /// Gemma 2 only: the norm before the MLP (the post-attention norm then applies to the attention output).
    let preFeedForwardNorm: FloatBuffer?
    /// Gemma 2 only: the norm of the MLP output.
    let postFeedForwardNorm: FloatBuffer?
    let attention: AttentionBlock
    let feedForward: FeedForward

    /// Loads the norms and attention of layer `layer` around an architecture-specific feed-forward block.
    static func load(_ w: WeightLoader, config: ModelConfig, layer: Int, feedForward: FeedForward) throws -> DecoderLayer {
        let p = "model.layers.\(layer)."
        let h = config.hiddenSize
        let sandwich = config.traits.sandwichNorms
        return DecoderLayer(
            inputNorm: try w.vector(p + "input_layernorm.weight", count: h),
            postAttentionNorm: try w.vector(p + "post_attention_layernorm.weight", count: h),
            preFeedForwardNorm: sandwich ? try w.vector(p + "pre_feedforward_layernorm.weight", count: h) : nil,
            postFeedForwardNorm: sandwich ? try w.vector(p + "post_feedforward_layernorm.weight", count: h) : nil,
            attention: try AttentionBlock.load(w, config: config, layer: layer),
            feedForward: feedForward)
    }
}
