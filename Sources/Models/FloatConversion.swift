/// Widening of stored floating-point formats to float32.
///
/// Loads are unaligned: safetensors does not promise 4-byte alignment of tensor data.
/// Data is little-endian, like every platform Swift runs this project on.
public enum FloatConversion {
    /// IEEE half → float32, exact for every bit pattern (subnormals, infinities, NaN payloads).
    ///
    /// Branch-free and without subnormal float arithmetic (which costs a microcode assist on x86),
    /// so conversion loops vectorize.
    @inline(__always)
    public static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let shifted = UInt32(bits & 0x7fff) << 13  // exponent and mantissa in float position
        let exponent = shifted & 0x0f80_0000
        let rebiased = shifted &+ 0x3800_0000  // exponent bias 15 → 127
        // Infinity/NaN: push the exponent on to all ones, mantissa (payload) kept.
        let special = rebiased &+ 0x3800_0000
        // Zero/subnormal: 2^-14 · (1 + m/1024) − 2^-14 = m · 2^-24, exact, on normal floats only.
        let subnormal = (Float(bitPattern: rebiased &+ 0x0080_0000) - Float(bitPattern: 0x3880_0000)).bitPattern
        let magnitude = exponent == 0x0f80_0000 ? special : (exponent == 0 ? subnormal : rebiased)
        return Float(bitPattern: magnitude | sign)
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
        if Int(bitPattern: src) & 1 == 0 {
            // The usual case: typed loads let the loop vectorize.
            let s = src.bindMemory(to: UInt16.self, capacity: count)
            for i in 0..<count { dst[i] = halfToFloat(s[i]) }
        } else {
            for i in 0..<count { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)) }
        }
    }

    static func convertBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        if Int(bitPattern: src) & 1 == 0 {
            let s = src.bindMemory(to: UInt16.self, capacity: count)
            for i in 0..<count { dst[i] = bfloat16ToFloat(s[i]) }
        } else {
            for i in 0..<count { dst[i] = bfloat16ToFloat(src.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)) }
        }
    }

    static func convertF64(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
        }
    }
}
