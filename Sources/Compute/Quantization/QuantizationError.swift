import GGUF

/// Errors of the quantized-weight code: a type without kernels, or bytes that do not fit a shape.
public enum QuantizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The ggml type has no dequantization or dot-product kernel here.
    case unsupportedType(GGMLType)
    /// A row length that is not a whole number of the type's blocks.
    case misalignedRow(type: GGMLType, columns: Int)
    /// The byte buffer's size does not match `rows × cols` elements of the type.
    case byteCountMismatch(type: GGMLType, rows: Int, columns: Int, expected: Int, actual: Int)
    /// A non-positive dimension.
    case invalidShape(rows: Int, columns: Int)

    public var description: String {
        switch self {
        case .unsupportedType(let t):
            return "ggml type \(t.name) is not supported; supported: "
                + QuantizedMatrix.supportedTypes.map(\.name).joined(separator: ", ")
        case .misalignedRow(let t, let c):
            return "a row of \(c) values is not a whole number of \(t.name) blocks of \(t.blockSize)"
        case .byteCountMismatch(let t, let r, let c, let e, let a):
            return "\(r)×\(c) \(t.name) values take \(e) bytes, but \(a) were given"
        case .invalidShape(let r, let c):
            return "invalid matrix shape [\(r), \(c)]"
        }
    }
}
