/// IEEE half and bfloat16 → float32 conversions used by the block formats (scales are stored as f16).
///
/// Both are exact widenings, so results are bit-identical to ggml's `GGML_FP16_TO_FP32` / `GGML_BF16_TO_FP32`.
@usableFromInline
enum HalfPrecision {
    /// The float32 value of the f16 bit pattern `bits`: shift exponent and mantissa into place and let one
    /// exact multiplication by 2¹¹² rebias the exponent (subnormal halves become normal floats), then
    /// restore infinities/NaNs and the sign. Branch-free and inlinable, unlike a `Float16` conversion
    /// without F16C, which is a library call.
    @inlinable @inline(__always)
    static func float(fromHalf bits: UInt16) -> Float {
        let h = UInt32(bits)
        let magic = Float(bitPattern: (254 - 15) << 23)
        let infNaNThreshold = Float(bitPattern: (127 + 16) << 23)
        var f = Float(bitPattern: (h & 0x7FFF) << 13) * magic
        if f >= infNaNThreshold { f = Float(bitPattern: f.bitPattern | (255 << 23)) }
        return Float(bitPattern: f.bitPattern | ((h & 0x8000) << 16))
    }

    /// The float32 value of the bfloat16 bit pattern `bits` (the upper half of a float32).
    @inlinable @inline(__always)
    static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Loads an unaligned little-endian f16 at `offset` and widens it.
    @inlinable @inline(__always)
    static func loadHalf(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
        float(fromHalf: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}
