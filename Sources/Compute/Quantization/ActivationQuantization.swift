/// fp32 activations quantized to 8 bits once per matmul, so weight blocks can be multiplied with integer
/// dot products (ggml's `vec_dot_type`): 32-value blocks with a scale and the scaled sum (ggml's Q8_1,
/// used by Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 weights) or 256-value super-blocks with per-16 sums (Q8_K, used by
/// the K-quants).
///
/// Precision: ggml rounds activations to 8 bits, which moves SmolLM2's decode log-probabilities by up to
/// 0.5 from transformers' (hidden states have outlier channels that coarsen every block's scale) and flips
/// greedy tokens. So values are `q = round(x / d)` with `d = max|x| / 32512` (15 bits), stored as two
/// byte-sized digits `q = 256·hi + lo` (`hi` in −127…127, `lo` in 0…255); kernels multiply each digit
/// with 16-bit lane products, which cannot overflow for weight quants of magnitude ≤ 128 (see the
/// kernels), and combine `256·Σw·hi + Σw·lo` in 32 bits. Results differ from fp32 by ~1e-5 relative.
/// The layouts are private to this module, so scales are kept as fp32 (ggml rounds them to f16).
///
/// Quants are stored already widened and split the way the kernels consume them: every run of 16 values
/// becomes eight 16-bit lanes of its even-indexed values followed by eight of its odd-indexed values.
/// Activations are reused by every weight row, so splitting them once saves work in every block dot.
@usableFromInline
struct QuantizedActivations: ~Copyable {
    /// Values per scale: 32 (legacy formats) or 256 (K-quants).
    let blockSize: Int
    /// Activation rows (tokens).
    let rows: Int
    /// Values per row.
    let cols: Int
    /// `rows × cols` high digits as split 16-bit lanes (see above), 64-byte aligned.
    let lanes: UnsafeMutablePointer<Int16>
    /// The low digits, same layout.
    let lowLanes: UnsafeMutablePointer<Int16>
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
        let count = max(rows * cols, 1)
        lanes = UnsafeMutableRawPointer.allocate(byteCount: 2 * count, alignment: 64)
            .bindMemory(to: Int16.self, capacity: count)
        lowLanes = UnsafeMutableRawPointer.allocate(byteCount: 2 * count, alignment: 64)
            .bindMemory(to: Int16.self, capacity: count)
        d = .allocate(capacity: max(blocks, 1))
        s = .allocate(capacity: max(blocks, 1))
        bsums = .allocate(capacity: blockSize == 256 ? blocks * 16 : 1)
        let bpr = cols / blockSize
        for r in 0..<rows {
            let src = x + r * cols
            for b in 0..<bpr {
                let i = r * bpr + b
                let offset = r * cols + b * blockSize
                if blockSize == 32 {
                    let sum = Self.quantize(src + b * 32, count: 32, lanes + offset, lowLanes + offset, d + i,
                                            groupSums: nil)
                    s[i] = d[i] * Float(sum)
                } else {
                    _ = Self.quantize(src + b * 256, count: 256, lanes + offset, lowLanes + offset, d + i,
                                      groupSums: bsums + i * 16)
                }
            }
        }
    }

    deinit {
        lanes.deallocate()
        lowLanes.deallocate()
        d.deallocate()
        s.deallocate()
        bsums.deallocate()
    }

    /// The largest quant magnitude: 127·256, so the high digit stays within −127…127.
    static let quantRange: Float = 32_512

    /// Quantizes `count` values (a multiple of 16) with one scale; writes split digit lanes, the scale, and
    /// (when `groupSums` is given) Σq per 16 values. Returns Σq.
    @inline(__always)
    static func quantize(
        _ x: UnsafePointer<Float>, count: Int, _ out: UnsafeMutablePointer<Int16>, _ outLow: UnsafeMutablePointer<Int16>,
        _ d: UnsafeMutablePointer<Float>,
        groupSums: UnsafeMutablePointer<Int32>?
    ) -> Int32 {
        let raw = UnsafeRawPointer(x)
        var amax: Float = 0
        for g in 0..<(count / 16) {
            let v = raw.loadUnaligned(fromByteOffset: 64 * g, as: SIMD16<Float>.self)
            amax = max(amax, pointwiseMax(v, -v).max())
        }
        let scale = amax / quantRange
        let inverse: Float = scale != 0 ? 1 / scale : 0
        // Adding and subtracting 1.5·2²³ rounds to the nearest integer (ties to even) for |v| < 2²²,
        // inline on every target (`rounded()` is a libm call without SSE4.1).
        let magic: Float = 12_582_912
        var total: Int32 = 0
        for g in 0..<(count / 16) {
            var sum: Int32 = 0
            for p in 0..<16 {
                let v = Int32(((x[16 &* g &+ p] * inverse) + magic) - magic)
                let index = 16 &* g &+ (p & 1) &* 8 &+ (p >> 1)
                out[index] = Int16(truncatingIfNeeded: v >> 8)
                outLow[index] = Int16(truncatingIfNeeded: v & 0xFF)
                sum &+= v
            }
            groupSums?[g] = sum
            total &+= sum
        }
        d.pointee = scale
        return total
    }
}
