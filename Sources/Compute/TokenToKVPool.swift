/// Per-layer key and value storage indexed by KV slot (SGLang's `MHATokenToKVPool` plus its allocator).
///
/// Layout per layer: `[slots × kvHeads × headDim]` fp32 for K and the same for V. Slot 0 is reserved as
/// the write target of padded rows and is never handed out.
public final class TokenToKVPool: @unchecked Sendable {
    // @unchecked: the allocator is used by the scheduler thread only; kernels write disjoint slots.
    /// Total slots, including the reserved slot 0.
    public let size: Int
    /// Decoder layers.
    public let layerCount: Int
    /// Key/value heads per layer.
    public let kvHeads: Int
    /// Head size.
    public let headDim: Int
    /// Key storage of each layer.
    public let keys: [FloatBuffer]
    /// Value storage of each layer.
    public let values: [FloatBuffer]
    /// The storage of a device backend (e.g. the CUDA model's KV cache), indexed by the same slots; when set,
    /// `keys` and `values` are empty and only the allocator is used on the host.
    public let deviceStorage: (any AnyObject & Sendable)?
    private var freeSlots: [Int32]

    /// A pool of `size` slots (usable: `size - 1`), stored in host memory, or — with `deviceStorage` — an
    /// allocator over storage that a device backend owns.
    public init(size: Int, layerCount: Int, kvHeads: Int, headDim: Int, deviceStorage: (any AnyObject & Sendable)? = nil) {
        self.size = max(2, size)
        self.layerCount = layerCount
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.deviceStorage = deviceStorage
        let perLayer = deviceStorage == nil ? self.size * kvHeads * headDim : 0
        keys = deviceStorage == nil ? (0..<layerCount).map { _ in FloatBuffer(count: perLayer) } : []
        values = deviceStorage == nil ? (0..<layerCount).map { _ in FloatBuffer(count: perLayer) } : []
        // Popping from the end hands out low slots first.
        freeSlots = (1..<Int32(self.size)).reversed()
    }

    /// A pool sized by a byte budget for the KV of every layer.
    public convenience init(byteBudget: Int, layerCount: Int, kvHeads: Int, headDim: Int) {
        let perSlot = max(1, 2 * layerCount * kvHeads * headDim * MemoryLayout<Float>.size)
        self.init(size: byteBudget / perSlot, layerCount: layerCount, kvHeads: kvHeads, headDim: headDim)
    }

    /// Free slots.
    public var available: Int { freeSlots.count }

    /// Takes `n` free slots; throws `ComputeError.outOfKVSlots` (taking none) when fewer are free.
    public func alloc(_ n: Int) throws -> [Int32] {
        guard n <= freeSlots.count else { throw ComputeError.outOfKVSlots(requested: n, available: freeSlots.count) }
        guard n > 0 else { return [] }
        let taken = Array(freeSlots.suffix(n).reversed())
        freeSlots.removeLast(n)
        return taken
    }

    /// Returns slots to the free list (slot 0 and out-of-range values are ignored).
    public func free(_ slots: [Int32]) {
        for s in slots where s > 0 && Int(s) < size { freeSlots.append(s) }
    }

    /// Floats per slot in one layer's K (or V) storage.
    public var slotStride: Int { kvHeads * headDim }
}
