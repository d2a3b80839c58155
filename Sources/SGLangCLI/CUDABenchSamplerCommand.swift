import ArgumentParser
import CUDA
import Foundation

/// `sglang cuda-bench-sampler`: microseconds per launch of the device sampler by vocabulary, batch and settings.
struct CUDABenchSamplerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-bench-sampler",
        abstract: "Time the device sampler (temperature / top-k / top-p / min-p) on synthetic logits (needs an NVIDIA GPU)."
    )

    @Option(name: .long, help: "CUDA device ordinal.")
    var device = 0
    @Option(name: .long, help: "Vocabulary sizes, comma-separated.")
    var vocab = "49152,128256"
    @Option(name: .long, help: "Rows per launch, comma-separated.")
    var batchSize = "1,64"
    @Option(name: .long, help: "Launches per timing.")
    var iterations = 50

    func run() throws {
        let vocabs = try Self.counts(vocab, "--vocab")
        let batches = try Self.counts(batchSize, "--batch-size")
        let context = try CUDAContext(device: device)
        print("device \(context.device.ordinal): \(context.device.name)")
        let kernels = try CUDAKernels(context: context)
        let stream = try CUDAStream(context: context)
        print("| vocab | rows | logits | setting | µs per launch |")
        print("| --- | --- | --- | --- | --- |")
        for v in vocabs {
            for b in batches {
                for t in try CUDASamplerBenchmark.run(kernels: kernels, stream: stream, rows: b, vocab: v,
                                                      iterations: iterations)
                {
                    print("| \(t.vocab) | \(t.rows) | \(t.distribution) | \(t.setting) | "
                        + String(format: "%.1f |", t.microseconds))
                }
            }
        }
    }

    static func counts(_ text: String, _ name: String) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("\(name) needs positive counts, e.g. 1,64 (got \(text))")
        }
        return values
    }
}
