import ArgumentParser
import CUDA
import CUDAModels
import Foundation
import Models

/// `sglang cuda-check-models`: model folders on the GPU against their transformers `reference.json`.
struct CUDACheckModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-check-models",
        abstract: "Run model folders on the GPU and compare with their transformers reference.json (needs an NVIDIA GPU).",
        discussion: """
            Each folder holds config.json, model.safetensors and reference.json (the tiny fixtures' format: \
            sequences, logits per position — or at the listed `positions` — and greedy ids). Checks prefill logits \
            (fp32: 1e-3 absolute, bf16: 2e-2 relative), batched = single, extend over a cached prefix, and greedy ids \
            through decode steps (CUDA graphs unless disabled). Exits non-zero when any check fails.
            """
    )

    @Argument(help: "Model folders.")
    var folders: [String]

    @Option(name: .long, help: "Element types to check: float32, bfloat16 or both.")
    var dtype = "both"

    @Flag(name: .long, help: "Decode without CUDA graphs.")
    var disableCudaGraph = false

    @Option(name: [.customLong("tp-size"), .customLong("tensor-parallel-size")],
            help: "GPUs to split each model over (tensor parallelism through NCCL).")
    var tpSize = 1

    func run() throws {
        let types: [CUDAElementType] = switch dtype {
        case "float32": [.float32]
        case "bfloat16": [.bfloat16]
        default: [.float32, .bfloat16]
        }
        var failed = 0, total = 0
        print("model                 dtype  check                                        value      bound     ok")
        for folder in folders {
            let name = URL(fileURLWithPath: folder).lastPathComponent
            let reference = try CUDAModelCheck.Reference(path: folder + "/reference.json")
            for type in types {
                let line = { (check: String, value: String, bound: String, ok: String) in
                    print(name.padding(toLength: 21, withPad: " ", startingAt: 0) + " "
                          + type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0) + " "
                          + check.padding(toLength: 44, withPad: " ", startingAt: 0) + " "
                          + value.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                          + bound.padding(toLength: 9, withPad: " ", startingAt: 0) + " " + ok)
                }
                do {
                    let config = try ModelConfig.load(from: folder)
                    let model = try CUDACausalLM(
                        config: config, weights: try SafetensorsModel(folder: folder),
                        options: CUDAModelOptions(dtype: type, disableCUDAGraph: disableCudaGraph, tensorParallelSize: tpSize))
                    // Small models also run on the CPU backend, whose final hidden states the GPU's are checked against.
                    let weights = try SafetensorsModel(folder: folder)
                    let elements = try weights.names.reduce(0) { $0 + (try weights.info(named: $1).elementCount) }
                    let cpu = elements <= 200_000_000 ? try CausalLM(config: config, weights: weights) : nil
                    for row in try CUDAModelCheck(model: model, reference: reference, cpu: cpu).run() {
                        total += 1
                        if !row.passed { failed += 1 }
                        line(row.check, row.value, row.bound, row.passed ? "yes" : "NO")
                    }
                } catch {
                    total += 1
                    failed += 1
                    line("load and run", "error", "-", "NO: \(error)")
                }
            }
        }
        print("\(total - failed)/\(total) checks passed")
        if failed > 0 { throw ExitCode(1) }
    }
}
