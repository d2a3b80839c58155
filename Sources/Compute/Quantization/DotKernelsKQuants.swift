/// Integer dot products of K-quant weight rows with Q8_K activations (ggml's `ggml_vec_dot_q4_K_q8_K`
/// family). Group sums are taken in 16-bit lanes (each product < 2¹², pairs < 2¹³), widened to 32 bits and
/// weighted by the group's integer scale; mins are applied through the activations' per-16 sums.
extension DotSIMD {
    /// Σ over 32 lanes of `w[i]·a[i]` (w in 16-bit lanes, small enough that pairs fit 16 bits), in 8 int32 lanes.
    @inline(__always)
    static func products32(lo: SIMD16<Int16>, hi: SIMD16<Int16>, a: UnsafePointer<Int8>) -> SIMD8<Int32> {
        let raw = UnsafeRawPointer(a)
        let a0 = SIMD16<Int16>(truncatingIfNeeded: raw.load(as: SIMD16<Int8>.self))
        let a1 = SIMD16<Int16>(truncatingIfNeeded: raw.load(fromByteOffset: 16, as: SIMD16<Int8>.self))
        let p = lo &* a0 &+ hi &* a1
        return SIMD8<Int32>(truncatingIfNeeded: p.lowHalf) &+ SIMD8<Int32>(truncatingIfNeeded: p.highHalf)
    }

    /// Σ over 16 lanes of `w[i]·a[i]`, in 8 int32 lanes.
    @inline(__always)
    static func products16(_ w: SIMD16<Int16>, a: UnsafePointer<Int8>) -> SIMD8<Int32> {
        let a0 = SIMD16<Int16>(truncatingIfNeeded: UnsafeRawPointer(a).load(as: SIMD16<Int8>.self))
        let p = w &* a0
        return SIMD8<Int32>(truncatingIfNeeded: p.lowHalf) &+ SIMD8<Int32>(truncatingIfNeeded: p.highHalf)
    }

    /// The eight six-bit scales and mins of a Q4_K/Q5_K block.
    @inline(__always)
    static func scalesAndMinsK4(_ p: UnsafeRawPointer) -> (scales: SIMD8<Int32>, mins: SIMD8<Int32>) {
        var sc = SIMD8<Int32>()
        var mn = SIMD8<Int32>()
        for j in 0..<8 {
            let (s, m) = Dequantization.scaleMinK4(j, p)
            sc[j] = Int32(s)
            mn[j] = Int32(m)
        }
        return (sc, mn)
    }

    /// Σq of activation groups of 32 (pairs of the per-16 sums).
    @inline(__always)
    static func groupSums32(_ bsums: UnsafePointer<Int32>) -> SIMD8<Int32> {
        let v = UnsafeRawPointer(bsums).loadUnaligned(as: SIMD16<Int32>.self)
        return v.evenHalf &+ v.oddHalf
    }
}

/// Q4_K weights.
@usableFromInline
enum DotQ4_K: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 256 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var total: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 144
            let aq = a.q + b &* 256
            let (sc, mn) = DotSIMD.scalesAndMinsK4(blk + 4)
            var acc = SIMD8<Int32>()
            for j in 0..<4 {
                let q = (blk + 16 + 32 &* j).loadUnaligned(as: SIMD32<UInt8>.self)
                let lo = SIMD32<Int16>(truncatingIfNeeded: q & 0x0F)
                let hi = SIMD32<Int16>(truncatingIfNeeded: q &>> 4)
                acc &+= DotSIMD.products32(lo: lo.lowHalf, hi: lo.highHalf, a: aq + 64 &* j) &* sc[2 &* j]
                acc &+= DotSIMD.products32(lo: hi.lowHalf, hi: hi.highHalf, a: aq + (64 &* j &+ 32)) &* sc[2 &* j &+ 1]
            }
            let summs = (mn &* DotSIMD.groupSums32(a.bsums + b &* 16)).wrappedSum()
            let da = a.d[b]
            total += HalfPrecision.loadHalf(blk, 0) * da * Float(acc.wrappedSum())
                - HalfPrecision.loadHalf(blk, 2) * da * Float(summs)
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
        var total: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 176
            let aq = a.q + b &* 256
            let (sc, mn) = DotSIMD.scalesAndMinsK4(blk + 4)
            let qh = (blk + 16).loadUnaligned(as: SIMD32<UInt8>.self)
            var acc = SIMD8<Int32>()
            for j in 0..<4 {
                let q = (blk + 48 + 32 &* j).loadUnaligned(as: SIMD32<UInt8>.self)
                let h0 = ((qh &>> UInt8(2 &* j)) & 1) &<< 4
                let h1 = ((qh &>> UInt8(2 &* j &+ 1)) & 1) &<< 4
                let lo = SIMD32<Int16>(truncatingIfNeeded: (q & 0x0F) | h0)
                let hi = SIMD32<Int16>(truncatingIfNeeded: (q &>> 4) | h1)
                acc &+= DotSIMD.products32(lo: lo.lowHalf, hi: lo.highHalf, a: aq + 64 &* j) &* sc[2 &* j]
                acc &+= DotSIMD.products32(lo: hi.lowHalf, hi: hi.highHalf, a: aq + (64 &* j &+ 32)) &* sc[2 &* j &+ 1]
            }
            let summs = (mn &* DotSIMD.groupSums32(a.bsums + b &* 16)).wrappedSum()
            let da = a.d[b]
            total += HalfPrecision.loadHalf(blk, 0) * da * Float(acc.wrappedSum())
                - HalfPrecision.loadHalf(blk, 2) * da * Float(summs)
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
        var total: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 210
            var acc = SIMD8<Int32>()
            for half in 0..<2 {
                let ql = blk + 64 &* half
                let qh = (blk + 128 + 32 &* half).loadUnaligned(as: SIMD32<UInt8>.self)
                let sc = blk + 192 + 8 &* half
                let aq = a.q + b &* 256 + 128 &* half
                let x = ql.loadUnaligned(as: SIMD32<UInt8>.self)
                let y = (ql + 32).loadUnaligned(as: SIMD32<UInt8>.self)
                let q1 = SIMD32<Int16>(truncatingIfNeeded: (x & 0x0F) | ((qh & 3) &<< 4)) &- 32
                let q2 = SIMD32<Int16>(truncatingIfNeeded: (y & 0x0F) | (((qh &>> 2) & 3) &<< 4)) &- 32
                let q3 = SIMD32<Int16>(truncatingIfNeeded: (x &>> 4) | (((qh &>> 4) & 3) &<< 4)) &- 32
                let q4 = SIMD32<Int16>(truncatingIfNeeded: (y &>> 4) | (((qh &>> 6) & 3) &<< 4)) &- 32
                @inline(__always) func s(_ k: Int) -> Int32 { Int32(sc.load(fromByteOffset: k, as: Int8.self)) }
                acc &+= DotSIMD.products16(q1.lowHalf, a: aq) &* s(0)
                acc &+= DotSIMD.products16(q1.highHalf, a: aq + 16) &* s(1)
                acc &+= DotSIMD.products16(q2.lowHalf, a: aq + 32) &* s(2)
                acc &+= DotSIMD.products16(q2.highHalf, a: aq + 48) &* s(3)
                acc &+= DotSIMD.products16(q3.lowHalf, a: aq + 64) &* s(4)
                acc &+= DotSIMD.products16(q3.highHalf, a: aq + 80) &* s(5)
                acc &+= DotSIMD.products16(q4.lowHalf, a: aq + 96) &* s(6)
                acc &+= DotSIMD.products16(q4.highHalf, a: aq + 112) &* s(7)
            }
            total += HalfPrecision.loadHalf(blk, 208) * a.d[b] * Float(acc.wrappedSum())
        }
        return total
    }
}
