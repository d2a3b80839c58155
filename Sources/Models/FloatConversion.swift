/// Widening of stored floating-point formats to float32.
///
/// Loads are unaligned: safetensors does not promise 4-byte alignment of tensor data.
/// Data is little-endian, like every platform Swift runs this project on.
public enum FloatConversion {
    /// IEEE half → float32, exact for every bit pattern (subnormals, infinities, NaN payloads).
    @inline(__always)
    public static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let magnitude = UInt32(bits & 0x7fff)
        let result: Float
        if magnitude >= 0x7c00 {
            // Infinity or NaN: all-ones exponent, mantissa kept.
            result = Float(bitPattern: 0x7f80_0000 | (magnitude << 13))
        } else {
            // Place exponent and mantissa in float position, then rescale the exponent bias (15 → 127).
            // Multiplying also normalizes half subnormals, whose float image is a float subnormal.
            result = Float(bitPattern: magnitude << 13) * Float(bitPattern: 0x7780_0000)  // 2^112
        }
        return Float(bitPattern: result.bitPattern | sign)
    }

    /// bfloat16 → float32 (the upper half of a float32; exact).
    @inline(__always)
    public static func bfloat16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    static func copyF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
    }

    static func convertF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
    }

    static func convertBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            dst[i] = bfloat16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        }
    }

    static func convertF64(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
        }
    }
}
