import ArgumentParser
import Foundation
import JSON
import Runtime

/// `sglang bench-one-batch`: SGLang's static-batch latency benchmark (spec §8.1).
struct BenchOneBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-one-batch",
        abstract: "Time one prefill and the decode steps of a static batch of random prompts, without a server."
    )

    @Option(name: .long, help: "A Hugging Face model folder or a .gguf file.")
    var modelPath: String

    @Option(name: .long, help: "auto (the model's weights) or dummy (seeded random weights).")
    var loadFormat: String = "auto"

    @Option(name: .long, parsing: .upToNextOption, help: "Batch sizes to sweep.")
    var batchSize: [Int] = [1]

    @Option(name: .long, parsing: .upToNextOption, help: "Prompt lengths to sweep.")
    var inputLen: [Int] = [1024]

    @Option(name: .long, parsing: .upToNextOption, help: "Output lengths to sweep.")
    var outputLen: [Int] = [16]

    @Option(name: .long, help: "Append one JSONL record per shape to this file.")
    var resultFilename: String = "result.jsonl"

    @Option(name: .long, help: "The run name recorded in the JSONL.")
    var runName: String = "default"

    @Option(name: .long, help: "Seed of the random input ids (and of dummy weights).")
    var seed: UInt64 = 0

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        if LoadFormat(rawValue: loadFormat) == nil { throw ValidationError("--load-format must be auto or dummy") }
        for (name, list) in [("--batch-size", batchSize), ("--input-len", inputLen), ("--output-len", outputLen)] {
            if list.isEmpty || list.contains(where: { $0 <= 0 }) {
                throw ValidationError("\(name) needs one or more positive values")
            }
        }
    }

    func run() throws {
        do {
            let loaded = try ModelLoader.load(
                path: modelPath, loadFormat: LoadFormat(rawValue: loadFormat) ?? .auto, seed: seed,
                device: try deviceOptions.selection())
            print("model: \(loaded.config.family), \(loaded.config.numHiddenLayers) layers, on \(loaded.model.deviceName)")
            let bench = BenchOneBatch(model: loaded.model, seed: seed)
            // SGLang's warm-up: the first shape with at most 32 output tokens, not recorded.
            // Flushed per line so progress shows while a long sweep runs with stdout redirected to a file.
            let say: (String) -> Void = { line in
                print(line)
                fflush(nil)
            }
            say("Warmup ...")
            _ = try bench.run(runName: runName, batchSize: batchSize[0], inputLen: inputLen[0],
                              outputLen: min(32, outputLen[0]), log: { _ in })
            say("Benchmark ...")
            var records: [String] = []
            for bs in batchSize {
                for il in inputLen {
                    for ol in outputLen {
                        say("Batch size: \(bs), input length: \(il), output length: \(ol)")
                        let r = try bench.run(runName: runName, batchSize: bs, inputLen: il, outputLen: ol, log: say)
                        records.append(r.json.serialized(.python(indent: nil, ensureASCII: true, sortKeys: false)))
                    }
                }
            }
            if !resultFilename.isEmpty {
                try Self.append(lines: records, to: resultFilename)
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Appends JSONL lines, creating the file when needed (SGLang appends too).
    static func append(lines: [String], to path: String) throws {
        let data = Data(lines.map { $0 + "\n" }.joined().utf8)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: data) else {
                throw ValidationError("cannot create --result-filename \(path)")
            }
            return
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
    }
}
