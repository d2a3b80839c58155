/// The element type of a stored tensor.
///
/// Covers every safetensors dtype; `block` describes block-quantized formats (GGUF's Q4_0, Q8_0, K-quants...)
/// so a GGUF-backed `WeightSource` can describe its tensors with the same type.
public enum TensorDType: Sendable, Hashable, CustomStringConvertible {
    /// IEEE floats of 64, 32 and 16 bits, and bfloat16.
    case f64, f32, f16, bf16
    /// Signed integers.
    case i64, i32, i16, i8
    /// Unsigned integers.
    case u64, u32, u16, u8
    /// One byte per boolean.
    case bool
    /// 8-bit floats (FP8 checkpoints).
    case f8E4M3, f8E5M2
    /// `elementsPerBlock` values packed into `bytesPerBlock` bytes.
    case block(name: String, elementsPerBlock: Int, bytesPerBlock: Int)

    /// Parses a safetensors dtype string (`F32`, `BF16`, ...); nil for unknown strings.
    public init?(safetensorsName: String) {
        switch safetensorsName {
        case "F64": self = .f64
        case "F32": self = .f32
        case "F16": self = .f16
        case "BF16": self = .bf16
        case "I64": self = .i64
        case "I32": self = .i32
        case "I16": self = .i16
        case "I8": self = .i8
        case "U64": self = .u64
        case "U32": self = .u32
        case "U16": self = .u16
        case "U8": self = .u8
        case "BOOL": self = .bool
        case "F8_E4M3": self = .f8E4M3
        case "F8_E5M2": self = .f8E5M2
        default: return nil
        }
    }

    /// The dtype's name as safetensors writes it (block types: their own name).
    public var description: String {
        switch self {
        case .f64: return "F64"
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .i64: return "I64"
        case .i32: return "I32"
        case .i16: return "I16"
        case .i8: return "I8"
        case .u64: return "U64"
        case .u32: return "U32"
        case .u16: return "U16"
        case .u8: return "U8"
        case .bool: return "BOOL"
        case .f8E4M3: return "F8_E4M3"
        case .f8E5M2: return "F8_E5M2"
        case .block(let name, _, _): return name
        }
    }

    /// Bytes needed for `count` elements; nil when `count` is not a whole number of blocks or overflows.
    public func byteCount(elements count: Int) -> Int? {
        switch self {
        case .f64, .i64, .u64: return count.multipliedReportingOverflow(by: 8).overflow ? nil : count * 8
        case .f32, .i32, .u32: return count.multipliedReportingOverflow(by: 4).overflow ? nil : count * 4
        case .f16, .bf16, .i16, .u16: return count.multipliedReportingOverflow(by: 2).overflow ? nil : count * 2
        case .i8, .u8, .bool, .f8E4M3, .f8E5M2: return count
        case .block(_, let per, let bytes):
            guard per > 0, count % per == 0 else { return nil }
            let (n, overflow) = (count / per).multipliedReportingOverflow(by: bytes)
            return overflow ? nil : n
        }
    }

    /// Whether `TensorData.floats()` can convert this type.
    public var isConvertibleToFloat: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: return true
        default: return false
        }
    }
}
