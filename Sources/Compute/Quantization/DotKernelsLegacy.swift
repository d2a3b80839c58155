/// Integer dot products of one weight row of a 32-element block format with one row of 8-bit activations
/// (ggml's `ggml_vec_dot_q4_0_q8_0` family), in Swift SIMD.
///
/// Activations come as two byte-sized digits (`ActivationQuantization.swift`): every block is multiplied
/// with the high and the low digit and combined as `256·high + low` in 32 bits.
///
/// Only same-width lane operations are used (masks, shifts, 16-bit multiplies, bit casts): the stdlib's
/// width-changing SIMD conversions are generic functions that are not inlined and run lane by lane.
/// So 16 bytes are loaded as eight 16-bit lanes and split into even bytes (`w & 0xFF`, or `(w << 8) >> 8`
/// signed) and odd bytes (`w >> 8`); weights and activations are split alike, so even lanes meet even
/// lanes. Four products per 16-bit lane stay below 2¹⁵ for 4/5-bit weights (|q_a| ≤ 127); 8-bit weights
/// sum two. Lanes are then widened pairwise to 32 bits the same way and reduced once per block.
@usableFromInline
protocol BlockDotKernel {
    /// Values per activation scale: 32 or 256.
    static var activationBlock: Int { get }
    /// `Σ_c W[c] · a[c]` over `blocks` weight blocks at `w` and the activations of one row.
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float
    /// Two rows at once, sharing the activation loads and giving the core two independent chains.
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> (Float, Float)
}

extension BlockDotKernel {
    @inline(__always) @usableFromInline
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> (Float, Float) {
        (dot(w0, a, blocks: blocks), dot(w1, a, blocks: blocks))
    }
}

/// Pointers into one token's `QuantizedActivations`.
@usableFromInline
struct ActivationRowPointers {
    let lanes: UnsafePointer<Int16>
    let lowLanes: UnsafePointer<Int16>
    let d: UnsafePointer<Float>
    let s: UnsafePointer<Float>
    let bsums: UnsafePointer<Int32>

    /// Values `16k ..< 16k + 16` of the row as even/odd 16-bit lanes.
    @inline(__always)
    func chunk(_ k: Int) -> ByteLanes {
        let p = UnsafeRawPointer(lanes + 16 &* k)
        return ByteLanes(even: p.load(as: SIMD8<Int16>.self), odd: p.load(fromByteOffset: 16, as: SIMD8<Int16>.self))
    }

    /// The low digits of values `16k ..< 16k + 16`.
    @inline(__always)
    func lowChunk(_ k: Int) -> ByteLanes {
        let p = UnsafeRawPointer(lowLanes + 16 &* k)
        return ByteLanes(even: p.load(as: SIMD8<Int16>.self), odd: p.load(fromByteOffset: 16, as: SIMD8<Int16>.self))
    }
}

extension QuantizedActivations {
    /// The pointers of activation row `row`.
    func row(_ row: Int) -> ActivationRowPointers {
        let b = row * blocksPerRow
        return ActivationRowPointers(
            lanes: UnsafePointer(lanes + row * cols), lowLanes: UnsafePointer(lowLanes + row * cols), d: UnsafePointer(d + b), s: UnsafePointer(s + b),
            bsums: UnsafePointer(bsums + (blockSize == 256 ? b * 16 : 0)))
    }
}

/// 16 bytes as eight 16-bit lanes, split into even and odd bytes.
@usableFromInline
struct ByteLanes {
    var even: SIMD8<Int16>
    var odd: SIMD8<Int16>

    /// Signed bytes (activations, Q8_0 weights) at `p`.
    @inline(__always)
    init(signed p: UnsafeRawPointer) {
        let w = p.loadUnaligned(as: SIMD8<Int16>.self)
        even = (w &<< 8) &>> 8
        odd = w &>> 8
    }

    @inline(__always)
    init(even: SIMD8<Int16>, odd: SIMD8<Int16>) {
        self.even = even
        self.odd = odd
    }

    /// even·even and odd·odd widened separately (for 8-bit weights times low digits, where only single
    /// products fit 16 bits), pairwise-summed into four 32-bit lanes.
    @inline(__always)
    func wideProducts(_ a: ByteLanes) -> SIMD4<Int32> {
        DotSIMD.widen(even &* a.even) &+ DotSIMD.widen(odd &* a.odd)
    }

    /// Σ even·even + odd·odd per lane (caller guarantees no 16-bit overflow).
    @inline(__always)
    func products(_ a: ByteLanes) -> SIMD8<Int16> {
        even &* a.even &+ odd &* a.odd
    }
}

/// Shared SIMD steps of the kernels.
@usableFromInline
enum DotSIMD {
    /// Pairwise widening of 16-bit lanes to four 32-bit sums.
    @inline(__always)
    static func widen(_ p: SIMD8<Int16>) -> SIMD4<Int32> {
        let w = unsafeBitCast(p, to: SIMD4<Int32>.self)
        return ((w &<< 16) &>> 16) &+ (w &>> 16)
    }

    /// The 16 packed bytes of a 4-bit block: low nibbles (elements 0-15) and high nibbles (16-31),
    /// each split into even and odd elements.
    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer) -> (lo: ByteLanes, hi: ByteLanes) {
        let q = p.loadUnaligned(as: SIMD8<UInt16>.self)
        let m: SIMD8<UInt16> = SIMD8(repeating: 0x0F)
        let lo = ByteLanes(
            even: unsafeBitCast(q & m, to: SIMD8<Int16>.self), odd: unsafeBitCast((q &>> 8) & m, to: SIMD8<Int16>.self))
        let hi = ByteLanes(
            even: unsafeBitCast((q &>> 4) & m, to: SIMD8<Int16>.self), odd: unsafeBitCast(q &>> 12, to: SIMD8<Int16>.self))
        return (lo, ByteLanes(even: hi.even, odd: hi.odd))
    }

    /// `256·high + low` from the 16-bit partial sums of both digits.
    @inline(__always)
    static func combine(high: SIMD8<Int16>, low: SIMD8<Int16>) -> SIMD4<Int32> {
        (widen(high) &<< 8) &+ widen(low)
    }

    /// Σ over a 32-element block: `lo` against activations 0-15, `hi` against 16-31. Four products per
    /// lane: |w| ≤ 31 keeps 4·31·255 below 2¹⁵.
    @inline(__always)
    static func block32(lo: ByteLanes, hi: ByteLanes, a: ActivationRowPointers, block b: Int) -> Int32 {
        let high = lo.products(a.chunk(2 &* b)) &+ hi.products(a.chunk(2 &* b &+ 1))
        let low = lo.products(a.lowChunk(2 &* b)) &+ hi.products(a.lowChunk(2 &* b &+ 1))
        return combine(high: high, low: low).wrappedSum()
    }

    /// `0x10` in the lanes whose element has its fifth bit set in `qh` (bit e for element e).
    @inline(__always)
    static func fifthBits(_ qh: UInt32) -> (lo: ByteLanes, hi: ByteLanes) {
        let even = FifthBitTable.even, odd = FifthBitTable.odd
        let b0 = Int(qh & 0xFF), b1 = Int((qh >> 8) & 0xFF), b2 = Int((qh >> 16) & 0xFF), b3 = Int(qh >> 24)
        return (
            ByteLanes(even: unsafeBitCast(SIMD2<UInt64>(even[b0], even[b1]), to: SIMD8<Int16>.self),
                      odd: unsafeBitCast(SIMD2<UInt64>(odd[b0], odd[b1]), to: SIMD8<Int16>.self)),
            ByteLanes(even: unsafeBitCast(SIMD2<UInt64>(even[b2], even[b3]), to: SIMD8<Int16>.self),
                      odd: unsafeBitCast(SIMD2<UInt64>(odd[b2], odd[b3]), to: SIMD8<Int16>.self)))
    }
}

/// Byte b of `qh` → four 16-bit lanes holding 0x10 where bits 0, 2, 4, 6 (`even`) or 1, 3, 5, 7 (`odd`) are set.
@usableFromInline
enum FifthBitTable {
    static let even: [UInt64] = (0..<256).map { lanes(UInt64($0), from: 0) }
    static let odd: [UInt64] = (0..<256).map { lanes(UInt64($0), from: 1) }

    private static func lanes(_ b: UInt64, from bit: Int) -> UInt64 {
        var v: UInt64 = 0
        for lane in 0..<4 where (b >> UInt64(bit + 2 * lane)) & 1 == 1 { v |= UInt64(0x10) << UInt64(16 * lane) }
        return v
    }
}

extension ByteLanes {
    @inline(__always)
    static func | (a: ByteLanes, b: ByteLanes) -> ByteLanes { ByteLanes(even: a.even | b.even, odd: a.odd | b.odd) }

    @inline(__always)
    static func &- (a: ByteLanes, k: Int16) -> ByteLanes { ByteLanes(even: a.even &- k, odd: a.odd &- k) }
}

/// Q4_0 weights `{d, qs[16]}`.
@usableFromInline
enum DotQ4_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var acc: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 18
            let (lo, hi) = DotSIMD.nibbles(blk + 2)
            let sum = DotSIMD.block32(lo: lo &- 8, hi: hi &- 8, a: a, block: b)
            acc += Float(sum) * (HalfPrecision.lookup(f16, blk, 0) * a.d[b])
        }
        return acc
    }
}

extension DotQ4_0 {
    @inline(__always) @usableFromInline
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> (Float, Float) {
        let f16 = HalfPrecision.table
        var acc0: Float = 0, acc1: Float = 0
        for b in 0..<blocks {
            let da = a.d[b]
            let x = w0 + b &* 18, y = w1 + b &* 18
            let (lx, hx) = DotSIMD.nibbles(x + 2)
            let (ly, hy) = DotSIMD.nibbles(y + 2)
            let sx = DotSIMD.block32(lo: lx &- 8, hi: hx &- 8, a: a, block: b)
            let sy = DotSIMD.block32(lo: ly &- 8, hi: hy &- 8, a: a, block: b)
            acc0 += Float(sx) * (HalfPrecision.lookup(f16, x, 0) * da)
            acc1 += Float(sy) * (HalfPrecision.lookup(f16, y, 0) * da)
        }
        return (acc0, acc1)
    }
}

/// Q4_1 weights `{d, m, qs[16]}`: Σ (d_w·q_w + m)·d_a·q_a = d_w·d_a·Σq_w·q_a + m·(d_a·Σq_a).
@usableFromInline
enum DotQ4_1: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var acc: Float = 0
        var mins: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 20
            let (lo, hi) = DotSIMD.nibbles(blk + 4)
            let sum = DotSIMD.block32(lo: lo, hi: hi, a: a, block: b)
            acc += Float(sum) * (HalfPrecision.lookup(f16, blk, 0) * a.d[b])
            mins += HalfPrecision.lookup(f16, blk, 2) * a.s[b]
        }
        return acc + mins
    }
}

extension DotQ4_1 {
    @inline(__always) @usableFromInline
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> (Float, Float) {
        let f16 = HalfPrecision.table
        var acc0: Float = 0, acc1: Float = 0, mins0: Float = 0, mins1: Float = 0
        for b in 0..<blocks {
            let da = a.d[b], sa = a.s[b]
            let x = w0 + b &* 20, y = w1 + b &* 20
            let (lx, hx) = DotSIMD.nibbles(x + 4)
            let (ly, hy) = DotSIMD.nibbles(y + 4)
            let sx = DotSIMD.block32(lo: lx, hi: hx, a: a, block: b)
            let sy = DotSIMD.block32(lo: ly, hi: hy, a: a, block: b)
            acc0 += Float(sx) * (HalfPrecision.lookup(f16, x, 0) * da)
            acc1 += Float(sy) * (HalfPrecision.lookup(f16, y, 0) * da)
            mins0 += HalfPrecision.lookup(f16, x, 2) * sa
            mins1 += HalfPrecision.lookup(f16, y, 2) * sa
        }
        return (acc0 + mins0, acc1 + mins1)
    }
}

/// Q5_0 weights `{d, qh, qs[16]}`.
@usableFromInline
enum DotQ5_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var acc: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 22
            let (lo, hi) = DotSIMD.nibbles(blk + 6)
            let (h0, h1) = DotSIMD.fifthBits(UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            let sum = DotSIMD.block32(lo: (lo | h0) &- 16, hi: (hi | h1) &- 16, a: a, block: b)
            acc += Float(sum) * (HalfPrecision.lookup(f16, blk, 0) * a.d[b])
        }
        return acc
    }
}

/// Q5_1 weights `{d, m, qh, qs[16]}`.
@usableFromInline
enum DotQ5_1: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var acc: Float = 0
        var mins: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 24
            let (lo, hi) = DotSIMD.nibbles(blk + 8)
            let (h0, h1) = DotSIMD.fifthBits(UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            let sum = DotSIMD.block32(lo: lo | h0, hi: hi | h1, a: a, block: b)
            acc += Float(sum) * (HalfPrecision.lookup(f16, blk, 0) * a.d[b])
            mins += HalfPrecision.lookup(f16, blk, 2) * a.s[b]
        }
        return acc + mins
    }
}

/// Q8_0 weights `{d, qs: i8[32]}`: two products per 16-bit lane for high digits (|q_w| ≤ 128, |hi| ≤ 127),
/// single products for low digits (128·255 < 2¹⁵).
@usableFromInline
enum DotQ8_0: BlockDotKernel {
    @usableFromInline static var activationBlock: Int { 32 }
    @inline(__always) @usableFromInline
    static func dot(_ w: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> Float {
        let f16 = HalfPrecision.table
        var acc: Float = 0
        for b in 0..<blocks {
            let blk = w + b &* 34
            let sum = DotQ8_0.blockSum(blk, a, b)
            acc += Float(sum) * (HalfPrecision.lookup(f16, blk, 0) * a.d[b])
        }
        return acc
    }
}

extension DotQ8_0 {
    @inline(__always)
    static func blockSum(_ blk: UnsafeRawPointer, _ a: ActivationRowPointers, _ b: Int) -> Int32 {
        let w0 = ByteLanes(signed: blk + 2), w1 = ByteLanes(signed: blk + 18)
        let high = DotSIMD.widen(w0.products(a.chunk(2 &* b))) &+ DotSIMD.widen(w1.products(a.chunk(2 &* b &+ 1)))
        let low = w0.wideProducts(a.lowChunk(2 &* b)) &+ w1.wideProducts(a.lowChunk(2 &* b &+ 1))
        return ((high &<< 8) &+ low).wrappedSum()
    }

    @inline(__always) @usableFromInline
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: ActivationRowPointers, blocks: Int) -> (Float, Float) {
        let f16 = HalfPrecision.table
        var acc0: Float = 0, acc1: Float = 0
        for b in 0..<blocks {
            let da = a.d[b]
            let x = w0 + b &* 34, y = w1 + b &* 34
            let sx = blockSum(x, a, b)
            let sy = blockSum(y, a, b)
            acc0 += Float(sx) * (HalfPrecision.lookup(f16, x, 0) * da)
            acc1 += Float(sy) * (HalfPrecision.lookup(f16, y, 0) * da)
        }
        return (acc0, acc1)
    }
}
