import CUDA

/// The KV cache in device memory: per layer one K and one V buffer of `[slots, kvHeads, headDim]` elements,
/// indexed by the slots of the `TokenToKVPool` that owns this storage.
public final class CUDAKVCache: @unchecked Sendable {
    // @unchecked: the buffers are immutable references; the stream orders kernel access.
    /// Slots (including the reserved slot 0).
    public let slots: Int
    /// Key storage of each layer.
    public let keys: [CUDADeviceBuffer]
    /// Value storage of each layer.
    public let values: [CUDADeviceBuffer]

    /// Allocates `layers` K and V buffers of `slots × slotElements` elements of `type`.
    init(context: CUDAContext, slots: Int, layers: Int, slotElements: Int, type: CUDAElementType) throws {
        self.slots = slots
        let bytes = slots * slotElements * type.size
        keys = try (0..<layers).map { _ in try CUDADeviceBuffer(context: context, byteCount: bytes) }
        values = try (0..<layers).map { _ in try CUDADeviceBuffer(context: context, byteCount: bytes) }
    }
}

/// The device copy of a `ReqToTokenPool`'s table, attached to the pool (`deviceMirror`).
final class CUDAReqToTokenTable: @unchecked Sendable {
    // @unchecked: immutable reference; the model's stream orders access.
    let buffer: CUDADeviceBuffer
    let maxRequests: Int
    let maxContext: Int

    init(context: CUDAContext, maxRequests: Int, maxContext: Int) throws {
        buffer = try CUDADeviceBuffer(context: context, byteCount: maxRequests * maxContext * 4)
        self.maxRequests = maxRequests
        self.maxContext = maxContext
    }
}
