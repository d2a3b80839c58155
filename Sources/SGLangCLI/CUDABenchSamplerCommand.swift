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
    @Option(name: .long, help: "Blocks per row, comma-separated (0: the launcher's choice).")
    var slices = "0,1"
    @Option(name: .long, help: "Launches per timing.")
    var iterations = 50

    func run() throws {
        let vocabs = try Self.counts(vocab, "--vocab")
        let batches = try Self.counts(batchSize, "--batch-size")
        let splits = slices.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !splits.isEmpty, splits.allSatisfy({ $0 >= 0 && $0 <= 32 }) else {
            throw ValidationError("--slices needs counts from 0 to 32, e.g. 0,1 (got \(slices))")
        }
        let context = try CUDAContext(device: device)
        print("device \(context.device.ordinal): \(context.device.name)")
        let kernels = try CUDAKernels(context: context)
        let stream = try CUDAStream(context: context)
        print("| vocab | rows | blocks a row | logits | setting | µs per launch |")
        print("| --- | --- | --- | --- | --- | --- |")
        for v in vocabs {
            for b in batches {
                for split in splits {
                    for t in try CUDASamplerBenchmark.run(kernels: kernels, stream: stream, rows: b, vocab: v,
                                                          slices: split == 0 ? nil : split, iterations: iterations)
                    {
                        print("| \(t.vocab) | \(t.rows) | \(t.slices) | \(t.distribution) | \(t.setting) | "
                            + String(format: "%.1f |", t.microseconds))
                    }
                }
            }
        }
    }

    /// Positive integers from a comma-separated option, or a validation error that names the option.
    static func counts(_ text: String, _ name: String, example: String = "1,64") throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("\(name) needs positive counts, e.g. \(example) (got \(text))")
        }
        return values
    }
}
