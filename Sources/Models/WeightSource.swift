/// Name, element type and shape of a stored tensor.
public struct TensorInfo: Sendable, Hashable {
    /// The checkpoint name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    public var name: String
    /// The stored element type.
    public var dtype: TensorDType
    /// Dimensions, outermost first (row-major, as PyTorch stores them).
    public var shape: [Int]

    /// Creates a tensor description.
    public init(name: String, dtype: TensorDType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Product of the dimensions (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A tensor's bytes as stored, without copying: a view into a memory-mapped file.
///
/// `bytes` stays valid as long as this value (which keeps its file mapped) is alive.
public struct TensorData: @unchecked Sendable {
    // @unchecked: `bytes` points into a read-only mapping owned by `owner`, which this value retains.
    /// Name, dtype and shape.
    public let info: TensorInfo
    /// The raw little-endian bytes.
    public let bytes: UnsafeRawBufferPointer
    private let owner: any AnyObject & Sendable

    /// Wraps bytes owned (and kept alive) by `owner`.
    public init(info: TensorInfo, bytes: UnsafeRawBufferPointer, owner: any AnyObject & Sendable) {
        self.info = info
        self.bytes = bytes
        self.owner = owner
    }

    /// The checkpoint name.
    public var name: String { info.name }
    /// The stored element type.
    public var dtype: TensorDType { info.dtype }
    /// Dimensions, outermost first.
    public var shape: [Int] { info.shape }
    /// Product of the dimensions.
    public var elementCount: Int { info.elementCount }

    /// The values as float32 (F32 copied, F16/BF16 widened exactly, F64 rounded).
    public func floats() throws -> [Float] {
        let n = elementCount
        return try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            try copyFloats(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<n]))
            initialized = n
        }
    }

    /// Writes the values as float32 into `destination`, which must hold exactly `elementCount` values.
    public func copyFloats(into destination: UnsafeMutableBufferPointer<Float>) throws {
        let n = elementCount
        guard destination.count == n else {
            throw ModelError.shapeMismatch(tensor: name, expected: [destination.count], actual: shape)
        }
        guard n > 0, let src = bytes.baseAddress, let dst = destination.baseAddress else { return }
        switch dtype {
        case .f32: FloatConversion.copyF32(src, dst, count: n)
        case .f16: FloatConversion.convertF16(src, dst, count: n)
        case .bf16: FloatConversion.convertBF16(src, dst, count: n)
        case .f64: FloatConversion.convertF64(src, dst, count: n)
        default: throw ModelError.unsupportedDType(tensor: name, dtype: dtype.description)
        }
    }
}

/// Anything that serves named weight tensors: a safetensors checkpoint today, a GGUF file later.
public protocol WeightSource: Sendable {
    /// Every tensor name, sorted.
    var names: [String] { get }
    /// Dtype and shape of a tensor without touching its data; throws `ModelError.missingTensor`.
    func info(named name: String) throws -> TensorInfo
    /// The tensor's stored bytes; throws `ModelError.missingTensor` when absent.
    func tensor(named name: String) throws -> TensorData
}

extension WeightSource {
    /// Whether a tensor of this name exists.
    public func contains(_ name: String) -> Bool {
        (try? info(named: name)) != nil
    }

    /// The tensor's values as float32.
    public func floats(named name: String) throws -> [Float] {
        try tensor(named: name).floats()
    }

    /// The tensor as float32, after checking that its shape is `shape`.
    public func floats(named name: String, shape: [Int]) throws -> [Float] {
        let t = try tensor(named: name)
        guard t.shape == shape else { throw ModelError.shapeMismatch(tensor: name, expected: shape, actual: t.shape) }
        return try t.floats()
    }
}
