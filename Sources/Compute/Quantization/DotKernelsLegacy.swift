/// Integer dot products of one weight row of a 32-element block format with one row of 8-bit activations
/// (ggml's `ggml_vec_dot_q4_0_q8_0` family), written with Swift SIMD types so LLVM emits vector code for
/// whatever the target offers (SSE2 baseline, AVX2 when enabled).
///
/// Per block: unpack the weight quants to 16-bit lanes, multiply by the 16-bit-widened activation quants
/// (|product| < 2¹⁵ by construction), add the two halves (still < 2¹⁵), widen to 32 bits and accumulate in
/// fp32 lanes scaled by `d_w · d_a`. Offsets (Q4_0's −8, Q5_0's −16) are applied to the weight quants;
/// mins (Q4_1, Q5_1) use the activation block's precomputed `d_a · Σq_a`.
@usableFromInline
protocol BlockDotKernel {
    /// Values per activation scale: 32 or 256.
    static var activationBlock: Int { get }
    /// `Σ_c W[c] · a[c]` over `blocks` weight blocks at `w` and the activations of one row.
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float
}

/// Pointers into one token's `QuantizedActivations`.
@usableFromInline
struct ActivationRowPointers {
    let q: UnsafePointer<Int8>
    let d: UnsafePointer<Float>
    let s: UnsafePointer<Float>
    let bsums: UnsafePointer<Int32>
}

extension QuantizedActivations {
    /// The pointers of activation row `row`.
    func row(_ row: Int) -> ActivationRowPointers {
        let b = row * blocksPerRow
        return ActivationRowPointers(
            q: UnsafePointer(q + row * cols), d: UnsafePointer(d + b), s: UnsafePointer(s + b),
            bsums: UnsafePointer(bsums + (blockSize == 256 ? b * 16 : 0)))
    }
}

/// Shared SIMD steps of the 32-element kernels.
@usableFromInline
enum DotSIMD {
    /// Σ over 32 lanes of `lo[i]·a[i] + hi[i]·a[16+i]`, folded into 8 int32 lanes.
    @inline(__always)
    static func products(lo: SIMD16<Int16>, hi: SIMD16<Int16>, a: UnsafePointer<Int8>) -> SIMD8<Int32> {
        let raw = UnsafeRawPointer(a)
        let a0 = SIMD16<Int16>(truncatingIfNeeded: raw.load(as: SIMD16<Int8>.self))
        let a1 = SIMD16<Int16>(truncatingIfNeeded: raw.load(fromByteOffset: 16, as: SIMD16<Int8>.self))
        let p = lo &* a0 &+ hi &* a1
        return SIMD8<Int32>(truncatingIfNeeded: p.lowHalf) &+ SIMD8<Int32>(truncatingIfNeeded: p.highHalf)
    }

    /// The 16 packed bytes of a 4-bit block as low and high nibbles in 16-bit lanes.
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer) -> (lo: SIMD16<Int16>, hi: SIMD16<Int16>) {
        let q = p.loadUnaligned(as: SIMD16<UInt8>.self)
        return (SIMD16<Int16>(truncatingIfNeeded: q & 0x0F), SIMD16<Int16>(truncatingIfNeeded: q &>> 4))
    }

    /// `0x10` in byte j (of 32) where bit j of `qh` is set: the fifth bit of Q5 quants.
    @inline(__always)
    static func fifthBits(_ qh: UInt32) -> (lo: SIMD16<Int16>, hi: SIMD16<Int16>) {
        let t = FifthBitTable.table
        let v = SIMD4<UInt64>(
            t[Int(qh & 0xFF)], t[Int((qh >> 8) & 0xFF)], t[Int((qh >> 16) & 0xFF)], t[Int(qh >> 24)])
        let bytes = unsafeBitCast(v, to: SIMD32<UInt8>.self)
        return (SIMD16<Int16>(truncatingIfNeeded: bytes.lowHalf), SIMD16<Int16>(truncatingIfNeeded: bytes.highHalf))
    }
}

/// Byte b → 8 bytes, byte k being 0x10 when bit k of b is set.
@usableFromInline
enum FifthBitTable {
    static let table: [UInt64] = (0..<256).map { b in
        var v: UInt64 = 0
        for k in 0..<8 where (b >> k) & 1 == 1 { v |= UInt64(0x10) << (8 * k) }
        return v
    }
}

/// Q4_0 weights `{d, qs[16]}`.
@usableFromInline
enum DotQ4_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let blk = w + b &* 18
            let (lo, hi) = DotSIMD.nibbles(blk + 2)
            let sum = DotSIMD.products(lo: lo &- 8, hi: hi &- 8, a: a.q + b &* 32)
            acc += SIMD8<Float>(sum) * (HalfPrecision.loadHalf(blk, 0) * a.d[b])
        }
        return acc.sum()
    }
}

/// Q4_1 weights `{d, m, qs[16]}`: Σ (d_w·q_w + m)·d_a·q_a = d_w·d_a·Σq_w·q_a + m·(d_a·Σq_a).
@usableFromInline
enum DotQ4_1: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var mins: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 20
            let (lo, hi) = DotSIMD.nibbles(blk + 4)
            let sum = DotSIMD.products(lo: lo, hi: hi, a: a.q + b &* 32)
            acc += SIMD8<Float>(sum) * (HalfPrecision.loadHalf(blk, 0) * a.d[b])
            mins += HalfPrecision.loadHalf(blk, 2) * a.s[b]
        }
        return acc.sum() + mins
    }
}

/// Q5_0 weights `{d, qh, qs[16]}`.
@usableFromInline
enum DotQ5_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let blk = w + b &* 22
            let (lo, hi) = DotSIMD.nibbles(blk + 6)
            let (h0, h1) = DotSIMD.fifthBits(UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            let sum = DotSIMD.products(lo: (lo | h0) &- 16, hi: (hi | h1) &- 16, a: a.q + b &* 32)
            acc += SIMD8<Float>(sum) * (HalfPrecision.loadHalf(blk, 0) * a.d[b])
        }
        return acc.sum()
    }
}

/// Q5_1 weights `{d, m, qh, qs[16]}`.
@usableFromInline
enum DotQ5_1: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var mins: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 24
            let (lo, hi) = DotSIMD.nibbles(blk + 8)
            let (h0, h1) = DotSIMD.fifthBits(UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            let sum = DotSIMD.products(lo: lo | h0, hi: hi | h1, a: a.q + b &* 32)
            acc += SIMD8<Float>(sum) * (HalfPrecision.loadHalf(blk, 0) * a.d[b])
            mins += HalfPrecision.loadHalf(blk, 2) * a.s[b]
        }
        return acc.sum() + mins
    }
}

/// Q8_0 weights `{d, qs: i8[32]}`.
@usableFromInline
enum DotQ8_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let blk = w + b &* 34
            let lo = SIMD16<Int16>(truncatingIfNeeded: blk.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
            let hi = SIMD16<Int16>(truncatingIfNeeded: blk.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
            let sum = DotSIMD.products(lo: lo, hi: hi, a: a.q + b &* 32)
            acc += SIMD8<Float>(sum) * (HalfPrecision.loadHalf(blk, 0) * a.d[b])
        }
        return acc.sum()
    }
}
