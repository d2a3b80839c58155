import CCUDA

/// One timed configuration of the device sampler (`sgl_sample`).
public struct CUDASamplerTiming: Sendable {
    /// Rows drawn per launch and their vocabulary.
    public var rows: Int, vocab: Int
    /// The settings' label, e.g. `T=0.7 top_p=0.9`.
    public var setting: String
    /// The logits' shape: `peaked` (a few dominant tokens over a wide normal tail) or `flat` (dummy-weight-like).
    public var distribution: String
    /// Blocks per row.
    public var slices: Int
    /// Mean microseconds per launch, the restoring copy of the logits taken out.
    public var microseconds: Double
}

/// Times the sampler on synthetic logits. A launch overwrites its rows with probabilities, so each one is preceded
/// by a device copy of the pristine logits; that copy is timed alone and subtracted.
public enum CUDASamplerBenchmark {
    /// The settings timed: (label, temperature, top_k, top_p, min_p).
    public static let settings: [(String, Float, Int32, Float, Float)] = [
        ("greedy", 0, 0, 1, 0), ("T=0.7", 0.7, 0, 1, 0), ("T=0.7 top_p=0.9", 0.7, 0, 0.9, 0),
        ("T=0.7 top_k=50 top_p=0.9", 0.7, 50, 0.9, 0), ("T=1 min_p=0.05", 1, 0, 1, 0.05),
    ]

    /// Logits of one row: `peaked` draws N(0, 2) and lifts 40 tokens by 6…14 (a nucleus of tens of tokens at
    /// top_p 0.9), `flat` draws N(0, 0.5).
    static func logits(vocab: Int, peaked: Bool, seed: UInt64) -> [Float] {
        var rng = CheckRandom(seed: seed)
        var x = (0..<vocab).map { _ in rng.normal() * (peaked ? 2 : 0.5) }
        if peaked {
            for i in 0..<min(40, vocab) { x[rng.below(vocab)] += 6 + Float(i) * 0.2 }
        }
        return x
    }

    /// Times every setting of `settings` at `rows` × `vocab` on both distributions, `slices` blocks a row (nil: the
    /// launcher's choice).
    public static func run(kernels: CUDAKernels, stream: CUDAStream, rows: Int, vocab: Int, slices: Int?,
                           iterations: Int) throws
        -> [CUDASamplerTiming]
    {
        guard rows > 0, vocab > 0, iterations > 0 else {
            throw CUDAError.invalidArgument("sampler benchmark of \(rows)×\(vocab), \(iterations) iterations")
        }
        let context = kernels.context
        var timings: [CUDASamplerTiming] = []
        for peaked in [true, false] {
            var values: [Float] = []
            values.reserveCapacity(rows * vocab)
            for r in 0..<rows { values += logits(vocab: vocab, peaked: peaked, seed: UInt64(r + 1)) }
            let pristine = try CUDADeviceBuffer(context: context, copying: values)
            let work = try CUDADeviceBuffer(context: context, byteCount: rows * vocab * 4)
            let bytes = rows * vocab * 4
            let copy = try CUDAAttentionBenchmark.time(context: context, stream: stream, iterations: iterations) {
                try work.copy(from: pristine, bytes: bytes, on: stream)
            }
            let ids = try CUDADeviceBuffer(context: context, byteCount: rows * 4)
            let scratch = try CUDADeviceBuffer(context: context, byteCount: CUDAKernels.sampleScratchBytes(rows: rows))
            try scratch.fill(word: 0, on: stream)
            let used = slices ?? CUDAKernels.sampleSlices(rows: rows, vocab: vocab,
                                                          multiprocessors: context.device.multiprocessors)
            let seeds = try CUDADeviceBuffer(context: context, copying: (0..<rows).map { UInt64($0 * 7 + 1) })
            let offsets = try CUDADeviceBuffer(context: context, copying: [UInt64](repeating: 5, count: rows))
            for (label, temperature, topK, topP, minP) in settings {
                let temps = try CUDADeviceBuffer(context: context, copying: [Float](repeating: temperature, count: rows))
                let ks = try CUDADeviceBuffer(context: context, copying: [Int32](repeating: topK, count: rows))
                let ps = try CUDADeviceBuffer(context: context, copying: [Float](repeating: topP, count: rows))
                let mins = try CUDADeviceBuffer(context: context, copying: [Float](repeating: minP, count: rows))
                let ms = try CUDAAttentionBenchmark.time(context: context, stream: stream, iterations: iterations) {
                    try work.copy(from: pristine, bytes: bytes, on: stream)
                    try kernels.sample(logits: work.address, temperature: temps.address, topK: ks.address,
                                       topP: ps.address, minP: mins.address, seeds: seeds.address,
                                       offsets: offsets.address, outIds: ids.address, scratch: scratch.address,
                                       rows: rows, vocab: vocab, slices: used, stream: stream)
                }
                timings.append(CUDASamplerTiming(rows: rows, vocab: vocab, setting: label,
                                                 distribution: peaked ? "peaked" : "flat", slices: used,
                                                 microseconds: max(0, ms - copy) * 1000))
            }
        }
        return timings
    }
}
