/// Dequantization of the K-quant super-blocks (256 elements), bit-exact with ggml's reference code.
///
/// Layouts (f16 `d`/`dmin`):
/// - Q2_K `{scales[16], qs[64], d, dmin}`: 16 groups of 16; scale nibble low = scale, high = min.
/// - Q3_K `{hmask[32], qs[64], scales[12], d}`: 16 six-bit signed scales (−32), 2 low bits in `qs`,
///   the third bit in `hmask` (clear means −4).
/// - Q4_K `{d, dmin, scales[12], qs[128]}`: 8 groups of 32 with six-bit scales and mins.
/// - Q5_K `{d, dmin, scales[12], qh[32], qs[128]}`: Q4_K plus a fifth bit per element.
/// - Q6_K `{ql[128], qh[64], scales: i8[16], d}`: 16 groups of 16, values 0…63 − 32.
/// - Q8_K `{d: f32, qs: i8[256], bsums: i16[16]}`: the activation format of K-quant dot products.
extension Dequantization {
    /// Six-bit scale and min of group `j` (0…7) from the 12 packed bytes (`get_scale_min_k4`).
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        @inline(__always) func at(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 {
            return (at(j) & 63, at(j + 4) & 63)
        }
        return ((at(j + 4) & 0x0F) | ((at(j - 4) >> 6) << 4), (at(j + 4) >> 4) | ((at(j) >> 6) << 4))
    }

    /// The 16 signed six-bit scales of a Q3_K block (already offset by −32).
    @inline(__always)
    static func q3KScales(_ packed: UnsafeRawPointer) -> SIMD16<Int8> {
        let kmask1: UInt32 = 0x0303_0303
        let kmask2: UInt32 = 0x0f0f_0f0f
        var aux = SIMD4<UInt32>(
            UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
            UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
            UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: 8, as: UInt32.self)), 0)
        let tmp = aux[2]
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4)
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4)
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4)
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4)
        let bytes = unsafeBitCast(aux, to: SIMD16<Int8>.self)
        return bytes &- 32
    }

    @inline(__always)
    static func q2_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let scales = b
        var q = b + 16
        let d = HalfPrecision.loadHalf(b, 80)
        let dmin = HalfPrecision.loadHalf(b, 82)
        var out = y
        var group = 0
        for _ in 0..<2 {
            var shift: UInt8 = 0
            for _ in 0..<4 {
                for half in 0..<2 {
                    let sc = scales.load(fromByteOffset: group, as: UInt8.self)
                    group += 1
                    let dl = d * Float(sc & 0x0F)
                    let ml = dmin * Float(sc >> 4)
                    for l in 0..<16 {
                        let v = (q.load(fromByteOffset: l + 16 * half, as: UInt8.self) >> shift) & 3
                        out[l] = dl * Float(v) - ml
                    }
                    out += 16
                }
                shift += 2
            }
            q += 32
        }
    }

    @inline(__always)
    static func q3_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let hm = b
        var q = b + 32
        let scales = q3KScales(b + 96)
        let d = HalfPrecision.loadHalf(b, 108)
        var out = y
        var group = 0
        var m: UInt8 = 1
        for _ in 0..<2 {
            var shift: UInt8 = 0
            for _ in 0..<4 {
                for half in 0..<2 {
                    let dl = d * Float(scales[group])
                    group += 1
                    for l in 0..<16 {
                        let low = Int8((q.load(fromByteOffset: l + 16 * half, as: UInt8.self) >> shift) & 3)
                        let high: Int8 = hm.load(fromByteOffset: l + 16 * half, as: UInt8.self) & m != 0 ? 0 : 4
                        out[l] = dl * Float(low - high)
                    }
                    out += 16
                }
                shift += 2
                m <<= 1
            }
            q += 32
        }
    }

    @inline(__always)
    static func q4_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let dmin = HalfPrecision.loadHalf(b, 2)
        let scales = b + 4
        var q = b + 16
        var out = y
        for pair in 0..<4 {
            let (s1, m1) = scaleMinK4(2 * pair, scales)
            let (s2, m2) = scaleMinK4(2 * pair + 1, scales)
            let d1 = d * Float(s1), mn1 = dmin * Float(m1)
            let d2 = d * Float(s2), mn2 = dmin * Float(m2)
            for l in 0..<32 {
                let v = q.load(fromByteOffset: l, as: UInt8.self)
                out[l] = d1 * Float(v & 0x0F) - mn1
                out[l + 32] = d2 * Float(v >> 4) - mn2
            }
            out += 64
            q += 32
        }
    }

    @inline(__always)
    static func q5_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let dmin = HalfPrecision.loadHalf(b, 2)
        let scales = b + 4
        let qh = b + 16
        var ql = b + 48
        var out = y
        var u1: UInt8 = 1
        var u2: UInt8 = 2
        for pair in 0..<4 {
            let (s1, m1) = scaleMinK4(2 * pair, scales)
            let (s2, m2) = scaleMinK4(2 * pair + 1, scales)
            let d1 = d * Float(s1), mn1 = dmin * Float(m1)
            let d2 = d * Float(s2), mn2 = dmin * Float(m2)
            for l in 0..<32 {
                let v = ql.load(fromByteOffset: l, as: UInt8.self)
                let h = qh.load(fromByteOffset: l, as: UInt8.self)
                out[l] = d1 * Float((v & 0x0F) + (h & u1 != 0 ? 16 : 0)) - mn1
                out[l + 32] = d2 * Float((v >> 4) + (h & u2 != 0 ? 16 : 0)) - mn2
            }
            out += 64
            ql += 32
            u1 <<= 2
            u2 <<= 2
        }
    }

    @inline(__always)
    static func q6_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        var ql = b
        var qh = b + 128
        var sc = b + 192
        let d = HalfPrecision.loadHalf(b, 208)
        var out = y
        for _ in 0..<2 {
            for l in 0..<32 {
                let g = l / 16
                @inline(__always) func s(_ k: Int) -> Float { Float(sc.load(fromByteOffset: g + k, as: Int8.self)) }
                let a = ql.load(fromByteOffset: l, as: UInt8.self)
                let c = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                let h = qh.load(fromByteOffset: l, as: UInt8.self)
                let q1 = Int8(bitPattern: (a & 0x0F) | (((h >> 0) & 3) << 4)) - 32
                let q2 = Int8(bitPattern: (c & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                let q3 = Int8(bitPattern: (a >> 4) | (((h >> 4) & 3) << 4)) - 32
                let q4 = Int8(bitPattern: (c >> 4) | (((h >> 6) & 3) << 4)) - 32
                out[l] = d * s(0) * Float(q1)
                out[l + 32] = d * s(2) * Float(q2)
                out[l + 64] = d * s(4) * Float(q3)
                out[l + 96] = d * s(6) * Float(q4)
            }
            out += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }

    @inline(__always)
    static func q8_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = b.loadUnaligned(fromByteOffset: 0, as: Float.self)
        for j in 0..<256 { y[j] = d * Float(b.load(fromByteOffset: 4 + j, as: Int8.self)) }
    }
}
