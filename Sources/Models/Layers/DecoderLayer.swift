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
        let names = config.layerWeightNames(layer)
        let h = config.hiddenSize
        return DecoderLayer(
            inputNorm: try w.vector(names.inputNorm, count: h),
            postAttentionNorm: try w.vector(names.postAttentionNorm, count: h),
            preFeedForwardNorm: try names.preFeedForwardNorm.map { try w.vector($0, count: h) },
            postFeedForwardNorm: try names.postFeedForwardNorm.map { try w.vector($0, count: h) },
            attention: try AttentionBlock.load(w, config: config, layer: layer),
            feedForward: feedForward)
    }
}
