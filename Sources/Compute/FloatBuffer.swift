/// A fixed-size, heap-allocated fp32 array with a stable address, shared by reference.
///
/// Tensors of the forward pass (weights, activations, KV storage) live in these so kernels can take raw
/// pointers without copy-on-write or exclusivity checks in hot loops. Writers must not overlap: the
/// backend partitions work so each thread writes a disjoint range.
public final class FloatBuffer: @unchecked Sendable {
    // @unchecked: the memory is written only by the compute backend under its own partitioning rules.
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// `count` zeros.
    public init(count: Int) {
        let n = max(count, 0)
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        pointer.initialize(repeating: 0, count: max(n, 1))
        self.count = n
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        pointer.deallocate()
    }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// A copy of the elements as an array.
    public func toArray() -> [Float] { Array(buffer) }

    /// A copy of `count` elements starting at `offset`.
    public func toArray(offset: Int, count n: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer + offset, count: n))
    }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }
}
