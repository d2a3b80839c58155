/// IEEE half and bfloat16 → float32 conversions used by the block formats (scales are stored as f16).
///
/// Both are exact widenings, so results are bit-identical to ggml's `GGML_FP16_TO_FP32` / `GGML_BF16_TO_FP32`.
@usableFromInline
enum HalfPrecision {
    /// The float32 value of the f16 bit pattern `bits`.
    @inlinable @inline(__always)
    static func float(fromHalf bits: UInt16) -> Float {
        #if arch(x86_64) || arch(arm64)
        return Float(Float16(bitPattern: bits))
        #else
        return softFloat(fromHalf: bits)
        #endif
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

    /// Bit-level f16 → f32 (for targets without a native Float16).
    @usableFromInline
    static func softFloat(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        var mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: normalize the mantissa.
            var e = -1
            repeat {
                e += 1
                mantissa <<= 1
            } while mantissa & 0x400 == 0
            mantissa &= 0x3FF
            let exp32 = UInt32(127 - 15 - e)
            return Float(bitPattern: sign | (exp32 << 23) | (mantissa << 13))
        }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
}
