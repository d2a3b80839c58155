/// The accurate integer 8×8 inverse DCT of libjpeg (`jidctint.c`, Loeffler–Ligtenberg–Moschytz with 13-bit
/// constants), including its rounding, so decoded samples agree with libjpeg-turbo's default `JDCT_ISLOW`.
enum IDCT {
    static let constBits = 13
    static let pass1Bits = 2
    static let f0_298631336 = 2446, f0_390180644 = 3196, f0_541196100 = 4433, f0_765366865 = 6270
    static let f0_899976223 = 7373, f1_175875602 = 9633, f1_501321110 = 12299, f1_847759065 = 15137
    static let f1_961570560 = 16069, f2_053119869 = 16819, f2_562915447 = 20995, f3_072711026 = 25172

    /// Dequantizes `coef` (natural order) with `q`, transforms, level-shifts by 128 and clamps into `out`
    /// (8 rows of 8 bytes, `stride` apart). `ws` is 64 words of scratch.
    @inline(__always)
    static func islow(_ coef: UnsafePointer<Int16>, _ q: UnsafePointer<Int>, _ out: UnsafeMutablePointer<UInt8>, _ stride: Int,
                      _ ws: UnsafeMutablePointer<Int>) {
        // Pass 1: columns, results scaled up by 2^pass1Bits.
        for col in 0..<8 {
            @inline(__always) func deq(_ row: Int) -> Int { Int(coef[row * 8 + col]) * q[row * 8 + col] }
            if coef[8 + col] == 0 && coef[16 + col] == 0 && coef[24 + col] == 0 && coef[32 + col] == 0
                && coef[40 + col] == 0 && coef[48 + col] == 0 && coef[56 + col] == 0 {
                let dc = deq(0) << pass1Bits
                for row in 0..<8 { ws[row * 8 + col] = dc }
                continue
            }
            var z2 = deq(2), z3 = deq(6)
            var z1 = (z2 + z3) * f0_541196100
            var tmp2 = z1 - z3 * f1_847759065
            var tmp3 = z1 + z2 * f0_765366865
            z2 = deq(0); z3 = deq(4)
            var tmp0 = (z2 + z3) << constBits
            var tmp1 = (z2 - z3) << constBits
            let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2

            tmp0 = deq(7); tmp1 = deq(5); tmp2 = deq(3); tmp3 = deq(1)
            z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2
            var z4 = tmp1 + tmp3
            let z5 = (z3 + z4) * f1_175875602
            tmp0 *= f0_298631336; tmp1 *= f2_053119869; tmp2 *= f3_072711026; tmp3 *= f1_501321110
            z1 *= -f0_899976223; z2 *= -f2_562915447; z3 *= -f1_961570560; z4 *= -f0_390180644
            z3 += z5; z4 += z5
            tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4

            let sh = constBits - pass1Bits, rnd = 1 << (sh - 1)
            ws[col] = (tmp10 + tmp3 + rnd) >> sh
            ws[56 + col] = (tmp10 - tmp3 + rnd) >> sh
            ws[8 + col] = (tmp11 + tmp2 + rnd) >> sh
            ws[48 + col] = (tmp11 - tmp2 + rnd) >> sh
            ws[16 + col] = (tmp12 + tmp1 + rnd) >> sh
            ws[40 + col] = (tmp12 - tmp1 + rnd) >> sh
            ws[24 + col] = (tmp13 + tmp0 + rnd) >> sh
            ws[32 + col] = (tmp13 - tmp0 + rnd) >> sh
        }
        // Pass 2: rows, final descale by 2^(pass1Bits + 3) and level shift.
        let sh = constBits + pass1Bits + 3, rnd = 1 << (sh - 1)
        @inline(__always) func put(_ v: Int) -> UInt8 {
            let s = ((v + rnd) >> sh) + 128
            return UInt8(truncatingIfNeeded: s < 0 ? 0 : (s > 255 ? 255 : s))
        }
        for row in 0..<8 {
            let w = ws + row * 8
            let o = out + row * stride
            var z2 = w[2], z3 = w[6]
            var z1 = (z2 + z3) * f0_541196100
            var tmp2 = z1 - z3 * f1_847759065
            var tmp3 = z1 + z2 * f0_765366865
            z2 = w[0]; z3 = w[4]
            var tmp0 = (z2 + z3) << constBits
            var tmp1 = (z2 - z3) << constBits
            let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2

            tmp0 = w[7]; tmp1 = w[5]; tmp2 = w[3]; tmp3 = w[1]
            z1 = tmp0 + tmp3; z2 = tmp1 + tmp2; z3 = tmp0 + tmp2
            var z4 = tmp1 + tmp3
            let z5 = (z3 + z4) * f1_175875602
            tmp0 *= f0_298631336; tmp1 *= f2_053119869; tmp2 *= f3_072711026; tmp3 *= f1_501321110
            z1 *= -f0_899976223; z2 *= -f2_562915447; z3 *= -f1_961570560; z4 *= -f0_390180644
            z3 += z5; z4 += z5
            tmp0 += z1 + z3; tmp1 += z2 + z4; tmp2 += z2 + z3; tmp3 += z1 + z4

            o[0] = put(tmp10 + tmp3); o[7] = put(tmp10 - tmp3)
            o[1] = put(tmp11 + tmp2); o[6] = put(tmp11 - tmp2)
            o[2] = put(tmp12 + tmp1); o[5] = put(tmp12 - tmp1)
            o[3] = put(tmp13 + tmp0); o[4] = put(tmp13 - tmp0)
        }
    }
}
