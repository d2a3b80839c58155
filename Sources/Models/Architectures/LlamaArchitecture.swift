import Compute

/// The dense Llama family: Llama 1/2/3/3.1 (incl. `llama3` RoPE scaling, tied embeddings), Mistral,
/// Qwen2 (q/k/v biases), Qwen3 (per-head q/k norms, explicit head_dim), Phi-3 (stored fused projections).
/// Attention and norms are the shared layers; the family differences are config traits read there.
enum LlamaArchitecture {
    /// The SwiGLU MLP of layer `layer` (`mlp.gate_proj/up_proj/down_proj`, or Phi-3's `gate_up_proj`).
    static func mlp(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> GatedMLP {
        try GatedMLP.load(w, prefix: "model.layers.\(layer).mlp.", hidden: config.hiddenSize,
                          inner: config.intermediateSize, activation: config.hiddenActivation.gated,
                          bias: config.mlpBias, fused: config.traits.fusedProjections)
    }
}
