import Compute

/// LLaVA's `multi_modal_projector`: `linear_2(act(linear_1(features)))`, from the vision tower's width (times
/// the selected layers) to the language model's.
public struct MultiModalProjector: Sendable {
    let linear1: WeightMatrix
    let linear2: WeightMatrix
    let activation: VisionActivation

    init(_ w: WeightLoader, prefix: String, inputSize: Int, outputSize: Int, activation: VisionActivation,
         bias: Bool) throws {
        linear1 = try w.matrix(prefix + "linear_1.weight", rows: outputSize, cols: inputSize,
                               biasName: bias ? prefix + "linear_1.bias" : nil)
        linear2 = try w.matrix(prefix + "linear_2.weight", rows: outputSize, cols: outputSize,
                               biasName: bias ? prefix + "linear_2.bias" : nil)
        self.activation = activation
    }

    /// Projects `tokens` rows of `features` (`tokens × inputSize`) to `tokens × outputSize`.
    func forward(_ backend: any ComputeBackend, features: FloatBuffer, tokens: Int) throws -> FloatBuffer {
        let mid = FloatBuffer(count: tokens * linear1.rows)
        try backend.linear(features, tokens: tokens, weight: linear1, output: mid)
        activation.apply(mid.pointer, count: tokens * linear1.rows)
        let out = FloatBuffer(count: tokens * linear2.rows)
        try backend.linear(mid, tokens: tokens, weight: linear2, output: out)
        return out
    }
}
