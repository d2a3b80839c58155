/// Where and how one tensor is stored in a GGUF file. Sizes and ranges are validated when the file is
/// opened, so `fileOffset ..< fileOffset + byteCount` always lies inside the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions in ggml order: `dimensions[0]` is the fastest-varying (the row length).
    public let dimensions: [Int]
    /// The element encoding.
    public let type: GGMLType
    /// Offset of the data from the start of the data section (as stored in the file).
    public let offset: Int
    /// Offset of the data from the start of the file.
    public let fileOffset: Int
    /// Bytes the data takes.
    public let byteCount: Int

    /// Dimensions in row-major (PyTorch / NumPy) order: the reverse of `dimensions`.
    public var shape: [Int] { dimensions.reversed() }

    /// The number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }
}
