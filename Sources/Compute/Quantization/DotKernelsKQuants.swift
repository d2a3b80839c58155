/// Integer dot products of K-quant weight rows with Q8_K activations (ggml's `ggml_vec_dot_q4_K_q8_K`
/// family), with the same even/odd 16-bit lane scheme and two activation digits as the 32-element kernels.
/// Each group's integer sum (< 2²⁶) is weighted by its scale in fp32, since with 15-bit activations the
/// scaled sums of a super-block could overflow 32 bits; mins go through the activations' per-16 sums.
extension DotSIMD {
    /// `(byte >> shift) & 1 → 0x10` for each of the 16 bytes in `h`, split into even and odd bytes.
    @inline(__always)
    static func bit4(_ h: SIMD8<UInt16>, shift: UInt16) -> ByteLanes {
        let one: SIMD8<UInt16> = SIMD8(repeating: 1)
        return ByteLanes(
            even: unsafeBitCast(((h &>> shift) & one) &<< 4, to: SIMD8<Int16>.self),
            odd: unsafeBitCast(((h &>> (shift &+ 8)) & one) &<< 4, to: SIMD8<Int16>.self))
    }

    /// Σ of two 16-value chunks of weights (|w| ≤ 31) against activation chunks `k`, `k + 1`, both digits.
    @inline(__always)
    static func group32(_ w0: ByteLanes, _ w1: ByteLanes, _ a: ActivationRowPointers, _ k: Int) -> Int32 {
        let high = w0.products(a.chunk(k)) &+ w1.products(a.chunk(k &+ 1))
        let low = w0.products(a.lowChunk(k)) &+ w1.products(a.lowChunk(k &+ 1))
        return combine(high: high, low: low).wrappedSum()
    }

    /// Σ of one 16-value chunk of weights (|w| ≤ 32) against activation chunk `k`, both digits.
    @inline(__always)
    static func group16(_ w: ByteLanes, _ a: ActivationRowPointers, _ k: Int) -> Int32 {
        combine(high: w.products(a.chunk(k)), low: w.products(a.lowChunk(k))).wrappedSum()
    }

    /// Σ_g min_g · (activation sum of group g) over the eight 32-value groups of a super-block.
    @inline(__always)
    static func minSum(_ packedScales: UnsafeRawPointer, _ bsums: UnsafePointer<Int32>) -> Int32 {
        var total: Int32 = 0
        for g in 0..<8 {
            let m = Int32(Dequantization.scaleMinK4(g, packedScales).min)
            total &+= m &* (bsums[2 &* g] &+ bsums[2 &* g &+ 1])
        }
        return total
    }
}

/// Q4_K weights.
@usableFromInline
enum DotQ4_K: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 256 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var total: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 144
            var acc: Float = 0
            for j in 0..<4 {
                let q = blk + 16 + 32 &* j
                let (lo0, hi0) = DotSIMD.nibbles(q)
                let (lo1, hi1) = DotSIMD.nibbles(q + 16)
                let base = 16 &* b &+ 4 &* j
                let sLo = DotSIMD.group32(lo0, lo1, a, base)
                let sHi = DotSIMD.group32(hi0, hi1, a, base &+ 2)
                acc += Float(sLo) * Float(Dequantization.scaleMinK4(2 &* j, blk + 4).scale)
                acc += Float(sHi) * Float(Dequantization.scaleMinK4(2 &* j &+ 1, blk + 4).scale)
            }
            let summs = DotSIMD.minSum(blk + 4, a.bsums + b &* 16)
            let da = a.d[b]
            total += HalfPrecision.lookup(f16, blk, 0) * da * acc
                - HalfPrecision.lookup(f16, blk, 2) * da * Float(summs)
        }
        return total
    }
}

/// Q5_K weights.
@usableFromInline
enum DotQ5_K: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 256 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var total: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 176
            let qh0 = (blk + 16).loadUnaligned(as: SIMD8<UInt16>.self)
            let qh1 = (blk + 32).loadUnaligned(as: SIMD8<UInt16>.self)
            var acc: Float = 0
            for j in 0..<4 {
                let q = blk + 48 + 32 &* j
                let (lo0, hi0) = DotSIMD.nibbles(q)
                let (lo1, hi1) = DotSIMD.nibbles(q + 16)
                let sLo = UInt16(2 &* j), sHi = UInt16(2 &* j &+ 1)
                let base = 16 &* b &+ 4 &* j
                let gLo = DotSIMD.group32(lo0 | DotSIMD.bit4(qh0, shift: sLo), lo1 | DotSIMD.bit4(qh1, shift: sLo), a, base)
                let gHi = DotSIMD.group32(
                    hi0 | DotSIMD.bit4(qh0, shift: sHi), hi1 | DotSIMD.bit4(qh1, shift: sHi), a, base &+ 2)
                acc += Float(gLo) * Float(Dequantization.scaleMinK4(2 &* j, blk + 4).scale)
                acc += Float(gHi) * Float(Dequantization.scaleMinK4(2 &* j &+ 1, blk + 4).scale)
            }
            let summs = DotSIMD.minSum(blk + 4, a.bsums + b &* 16)
            let da = a.d[b]
            total += HalfPrecision.lookup(f16, blk, 0) * da * acc
                - HalfPrecision.lookup(f16, blk, 2) * da * Float(summs)
        }
        return total
    }
}

/// Q6_K weights.
@usableFromInline
enum DotQ6_K: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 256 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var total: Float = 0
        let m4: SIMD8<UInt16> = SIMD8(repeating: 0x0F)
        let m2: SIMD8<UInt16> = SIMD8(repeating: 3)
        for b in 0..<blocks {
            let blk = w + b &* 210
            var acc: Float = 0
            for half in 0..<2 {
                let ql = blk + 64 &* half
                let qh = blk + 128 + 32 &* half
                let sc = blk + 192 + 8 &* half
                for c in 0..<2 {
                    let x = (ql + 16 &* c).loadUnaligned(as: SIMD8<UInt16>.self)
                    let y = (ql + 32 + 16 &* c).loadUnaligned(as: SIMD8<UInt16>.self)
                    let h = (qh + 16 &* c).loadUnaligned(as: SIMD8<UInt16>.self)
                    // Quant k of an even (odd) byte: its nibble | bits (2k, 2k+1) of its qh byte << 4.
                    @inline(__always) func lanes(_ nibbleE: SIMD8<UInt16>, _ nibbleO: SIMD8<UInt16>, _ s: UInt16) -> ByteLanes {
                        let e = (nibbleE & m4) | (((h &>> s) & m2) &<< 4)
                        let o = (nibbleO & m4) | (((h &>> (s &+ 8)) & m2) &<< 4)
                        return ByteLanes(even: unsafeBitCast(e, to: SIMD8<Int16>.self) &- 32,
                                         odd: unsafeBitCast(o, to: SIMD8<Int16>.self) &- 32)
                    }
                    @inline(__always) func scale(_ k: Int) -> Float { Float(sc.load(fromByteOffset: k, as: Int8.self)) }
                    let q1 = lanes(x, x &>> 8, 0)
                    let q2 = lanes(y, y &>> 8, 2)
                    let q3 = lanes(x &>> 4, x &>> 12, 4)
                    let q4 = lanes(y &>> 4, y &>> 12, 6)
                    let base = 16 &* b &+ 8 &* half &+ c
                    acc += Float(DotSIMD.group16(q1, a, base)) * scale(c)
                    acc += Float(DotSIMD.group16(q2, a, base &+ 2)) * scale(2 &+ c)
                    acc += Float(DotSIMD.group16(q3, a, base &+ 4)) * scale(4 &+ c)
                    acc += Float(DotSIMD.group16(q4, a, base &+ 6)) * scale(6 &+ c)
                }
            }
            total += HalfPrecision.lookup(f16, blk, 208) * a.d[b] * acc
        }
        return total
    }
}
