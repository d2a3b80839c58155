import Compute

/// `down(act(gate(x)) * up(x))` with gate and up fused into one matrix (`[2·inner × hidden]`).
struct GatedMLP {
    let gateUp: WeightMatrix
    let down: WeightMatrix
    let inner: Int
    let activation: GatedActivation

    /// The dense MLP of layer `layer` (`gate_proj`/`up_proj`/`down_proj` fused as gate-up, or Phi-3's stored
    /// `gate_up_proj`; SwiGLU for the Llama family, GeGLU for Gemma — the config's activation).
    static func dense(_ w: WeightLoader, config: ModelConfig, layer: Int) throws -> GatedMLP {
        let names = config.layerWeightNames(layer)
        guard let gateUp = names.gateUp, let down = names.down else {
            throw ModelError.invalidField("layer \(layer)", reason: "\(config.family) has no dense MLP in this layer")
        }
        return GatedMLP(gateUp: try w.matrix(gateUp), down: try w.matrix(down), inner: config.intermediateSize,
                        activation: config.hiddenActivation.gated)
    }

    /// `output[0..<tokens] = mlp(input[0..<tokens])`, using the workspace's gate-up and activation buffers.
    func forward(_ backend: any ComputeBackend, input: FloatBuffer, tokens: Int, ws: Workspace,
                 output: FloatBuffer) throws {
        try backend.linear(input, tokens: tokens, weight: gateUp, output: ws.gateUp)
        backend.gatedActivation(ws.gateUp, tokens: tokens, inner: inner, activation: activation, output: ws.activated)
        try backend.linear(ws.activated, tokens: tokens, weight: down, output: output)
    }
}

extension Activation {
    /// The backend's activation of the same name.
    var gated: GatedActivation {
        switch self {
        case .silu: return .silu
        case .geluTanh: return .geluTanh
        case .gelu: return .gelu
        }
    }
}
