/// Host-side bfloat16 conversions matching the kernels' (round to nearest even, NaN kept quiet).
public enum BFloat16Conversion {
    /// The bf16 bits nearest to `x`.
    @inline(__always)
    public static func bits(_ x: Float) -> UInt16 {
        var u = x.bitPattern
        if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
        u &+= 0x7fff &+ ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: u >> 16)
    }

    /// The float value of bf16 bits.
    @inline(__always)
    public static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `x` rounded to the nearest bf16 value.
    @inline(__always)
    public static func round(_ x: Float) -> Float { float(bits(x)) }
}
