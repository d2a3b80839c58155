/// Element type of activations, weights and KV cache on the GPU.
public enum CUDAElementType: String, Sendable, Hashable, CaseIterable {
    /// IEEE fp32.
    case float32 = "f32"
    /// bfloat16.
    case bfloat16 = "bf16"

    /// Bytes per element.
    public var size: Int { self == .float32 ? 4 : 2 }
}
