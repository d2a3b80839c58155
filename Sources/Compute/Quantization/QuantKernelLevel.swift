import CQuantKernels

/// The instruction-set level of the integer dot kernels (the `CQuantKernels` C target): portable C, AVX2
/// (+FMA, F16C), or AVX-512 (F, BW, VL, VNNI). Production code uses `best`; tests pass each supported
/// level explicitly so every path runs on a machine that has it.
enum QuantKernelLevel: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case scalar = 0
    case avx2 = 1
    case avx512 = 2

    /// The best level this CPU supports (detected once).
    static let best: QuantKernelLevel = QuantKernelLevel(rawValue: cqk_best_level()) ?? .scalar

    /// Every level this CPU can run.
    static var supported: [QuantKernelLevel] { allCases.filter { $0.rawValue <= best.rawValue } }

    var description: String {
        switch self {
        case .scalar: return "scalar"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512 VNNI"
        }
    }
}

/// One row of activations quantized by the C kernels' quantizer, copied out (for tests): value `i` is
/// approximately `q[i] · d[i / block]` with `q = 256·hi + lo`.
struct QuantizedActivationRow: Sendable {
    /// High digits, −127…127.
    let hi: [Int8]
    /// Low digits, −128…127.
    let lo: [Int8]
    /// One scale per block.
    let d: [Float]
    /// Σq per 32 values.
    let sums32: [Float]
    /// Σq per 16 values (256-value blocks only; zeros otherwise).
    let sums16: [Float]

    /// The quant of value `i`.
    func q(_ i: Int) -> Int { 256 * Int(hi[i]) + Int(lo[i]) }

    /// Quantizes `x` in blocks of `block` (32 or 256) at `level`; nil when `x` is not a whole number of blocks.
    init?(_ x: [Float], block: Int, level: QuantKernelLevel) {
        guard block == 32 || block == 256, !x.isEmpty, x.count % block == 0, x.count <= Int(Int32.max) else { return nil }
        let cols = x.count
        let bytes = cqk_act_bytes(Int32(cols))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { scratch.deallocate() }
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var act = cqk_act()
        x.withUnsafeBufferPointer { cqk_quantize_row(level.rawValue, $0.baseAddress, Int32(cols), Int32(block), scratch, &act) }
        guard let h = act.hi, let l = act.lo, let d = act.d, let s32 = act.sums32, let s16 = act.sums16 else { return nil }
        hi = Array(UnsafeBufferPointer(start: h, count: cols))
        lo = Array(UnsafeBufferPointer(start: l, count: cols))
        self.d = Array(UnsafeBufferPointer(start: d, count: cols / block))
        sums32 = Array(UnsafeBufferPointer(start: s32, count: cols / 32))
        sums16 = Array(UnsafeBufferPointer(start: s16, count: cols / 16))
    }
}
