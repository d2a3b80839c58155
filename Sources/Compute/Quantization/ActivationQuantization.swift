/// fp32 activations quantized to 8 bits once per matmul, so weight blocks can be multiplied with integer
/// dot products (ggml's `vec_dot_type`): 32-value blocks with a scale and the scaled sum (ggml's Q8_1,
/// used by Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 weights) or 256-value super-blocks with per-16 sums (Q8_K, used by
/// the K-quants).
///
/// Values are `round(x / d)` with `d = max|x| / 127`, so every quant lies in −127…127: a product with a
/// weight quant of magnitude ≤ 128 fits in 16 bits, and two of them still fit, which the kernels rely on.
/// The layouts are private to this module, so scales are kept as fp32 (ggml rounds them to f16).
@usableFromInline
struct QuantizedActivations: ~Copyable {
    /// Values per scale: 32 (legacy formats) or 256 (K-quants).
    let blockSize: Int
    /// Activation rows (tokens).
    let rows: Int
    /// Values per row.
    let cols: Int
    /// `rows × cols` quants, row-major, 32-byte aligned.
    let q: UnsafeMutablePointer<Int8>
    /// One scale per block.
    let d: UnsafeMutablePointer<Float>
    /// Legacy: `d · Σq` per block. K: unused.
    let s: UnsafeMutablePointer<Float>
    /// K: Σq per 16 values. Legacy: unused.
    let bsums: UnsafeMutablePointer<Int32>

    var blocksPerRow: Int { cols / blockSize }

    /// Quantizes `rows × cols` values at `x` (row-major).
    init(_ x: UnsafePointer<Float>, rows: Int, cols: Int, blockSize: Int) {
        self.blockSize = blockSize
        self.rows = rows
        self.cols = cols
        let blocks = rows * (cols / blockSize)
        q = UnsafeMutableRawPointer.allocate(byteCount: max(rows * cols, 1), alignment: 64)
            .bindMemory(to: Int8.self, capacity: max(rows * cols, 1))
        d = .allocate(capacity: max(blocks, 1))
        s = .allocate(capacity: max(blocks, 1))
        let sums = blockSize == 256 ? blocks * 16 : 1
        bsums = .allocate(capacity: sums)
        for r in 0..<rows {
            let src = x + r * cols
            let bpr = cols / blockSize
            for b in 0..<bpr {
                let i = r * bpr + b
                if blockSize == 32 {
                    Self.quantize32(src + b * 32, q + r * cols + b * 32, d + i, s + i)
                } else {
                    Self.quantize256(src + b * 256, q + r * cols + b * 256, d + i, bsums + i * 16)
                }
            }
        }
    }

    deinit {
        q.deallocate()
        d.deallocate()
        s.deallocate()
        bsums.deallocate()
    }

    @inline(__always)
    static func scale(ofMaxMagnitude amax: Float) -> (d: Float, inverse: Float) {
        let d = amax / 127
        return (d, d != 0 ? 1 / d : 0)
    }

    @inline(__always)
    static func quantize32(
        _ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, _ d: UnsafeMutablePointer<Float>,
        _ s: UnsafeMutablePointer<Float>
    ) {
        let raw = UnsafeRawPointer(x)
        let v0 = raw.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
        let v1 = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        let amax = max(pointwiseMax(v0, -v0).max(), pointwiseMax(v1, -v1).max())
        let (scale, inverse) = scale(ofMaxMagnitude: amax)
        var sum: Int32 = 0
        for i in 0..<32 {
            let v = Int32((x[i] * inverse).rounded(.toNearestOrEven))
            q[i] = Int8(truncatingIfNeeded: v)
            sum &+= v
        }
        d.pointee = scale
        s.pointee = scale * Float(sum)
    }

    @inline(__always)
    static func quantize256(
        _ x: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Int8>, _ d: UnsafeMutablePointer<Float>,
        _ bsums: UnsafeMutablePointer<Int32>
    ) {
        let raw = UnsafeRawPointer(x)
        var amax: Float = 0
        for g in 0..<16 {
            let v = raw.loadUnaligned(fromByteOffset: 64 * g, as: SIMD16<Float>.self)
            amax = max(amax, pointwiseMax(v, -v).max())
        }
        let (scale, inverse) = scale(ofMaxMagnitude: amax)
        for g in 0..<16 {
            var sum: Int32 = 0
            for i in (16 * g)..<(16 * g + 16) {
                let v = Int32((x[i] * inverse).rounded(.toNearestOrEven))
                q[i] = Int8(truncatingIfNeeded: v)
                sum &+= v
            }
            bsums[g] = sum
        }
        d.pointee = scale
    }
}
