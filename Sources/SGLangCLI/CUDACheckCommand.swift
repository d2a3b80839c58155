import ArgumentParser
import CUDA
import Compute
import Foundation
import Models

/// `sglang cuda-check`: every CUDA kernel against the CPU backend on fresh random inputs, as a table.
struct CUDACheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-check",
        abstract: "Check every CUDA kernel against the CPU backend on fresh random inputs (needs an NVIDIA GPU).",
        discussion: """
            Outputs are filled with NaN before each launch, so an element a kernel does not write fails. Kernels are \
            compiled with NVRTC for the device (cached in ~/.cache/sglang-swift/kernels). Exits non-zero when any \
            check fails.
            """
    )

    @Option(name: .long, help: "CUDA device ordinal.")
    var device = 0

    @Option(name: .long, help: "Seed of the random inputs (default: a fresh one, printed).")
    var seed: UInt64?

    @Flag(name: .long, help: "Compile the kernels without the disk cache.")
    var noCache = false

    @Flag(name: .long, help: "Only compile every kernel with NVRTC (no GPU needed) for --arch, and list them.")
    var compileOnly = false

    @Option(name: .long, help: "Compute capability for --compile-only, e.g. 90 for Hopper.")
    var arch = 90

    func run() throws {
        if compileOnly { return try compileAll() }
        let context = try CUDAContext(device: device)
        let driver = try CUDADriver.shared()
        let nvrtc = try NVRTC.shared()
        let d = context.device
        let memory = try context.memoryInfo()
        print("device \(d.ordinal): \(d.name), \(d.architecture), \(d.multiprocessors) SMs, "
              + "\(memory.total >> 20) MiB (\(memory.free >> 20) MiB free)")
        print("driver: CUDA \(driver.version / 1000).\(driver.version % 1000 / 10) (\(driver.path))")
        print("nvrtc: \(nvrtc.version.major).\(nvrtc.version.minor) (\(nvrtc.path))")
        let start = Date()
        let compiler = try CUDAKernelCompiler(cacheDirectory: noCache ? nil : CUDAKernelCompiler.defaultCacheDirectory)
        let kernels = try CUDAKernels(context: context, compiler: compiler)
        print(String(format: "kernels: %d sources, %d from the cache, ready in %.2f s", CUDAKernelCatalog.sources.count,
                     kernels.cachedSources, Date().timeIntervalSince(start)))
        let check = try CUDAKernelCheck(context: context, kernels: kernels, seed: seed)
        check.rotaryCases = try Self.rotaryCases()
        print("seed: \(check.seed)")
        let rows = check.runAll()
        let notes = rows.filter { !$0.note.isEmpty }
        for r in notes { print("  \(r.kernel): \(r.note)") }
        print("")
        print(Self.table(rows))
        let failed = rows.filter { !$0.passed }.count
        print("\(rows.count - failed)/\(rows.count) checks passed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// Compiles every kernel source (bypassing the cache) and lists what each holds.
    func compileAll() throws {
        let compiler = try CUDAKernelCompiler(cacheDirectory: nil)
        print("nvrtc: \(compiler.nvrtc.version.major).\(compiler.nvrtc.version.minor) (\(compiler.nvrtc.path)), target sm_\(arch)")
        for source in CUDAKernelCatalog.sources {
            let start = Date()
            let image = try compiler.compile(source, architecture: arch)
            print(String(format: "%-20@ %6d bytes %@ in %.2f s: %@", source.name as NSString, image.bytes.count,
                         image.format.rawValue as NSString, Date().timeIntervalSince(start),
                         source.entryPoints.joined(separator: " ") as NSString))
        }
        print("all \(CUDAKernelCatalog.sources.count) kernel sources compiled")
    }

    /// One RoPE case per scaling type, with frequencies computed by the CPU path (`RopeConfig.frequencies`).
    static func rotaryCases() throws -> [(name: String, rotary: RotaryEmbedding)] {
        let scalings: [(String, String, Double)] = [
            ("default", "null", 1),
            ("linear", #"{"rope_type": "linear", "factor": 4.0}"#, 1),
            ("dynamic", #"{"rope_type": "dynamic", "factor": 2.0}"#, 1),
            ("llama3", #"{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}"#, 1),
            ("yarn", #"{"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 4096}"#, 1),
            ("partial 0.5", "null", 0.5),
        ]
        return try scalings.map { name, scaling, partial in
            let json = """
                {"model_type": "llama", "vocab_size": 1000, "hidden_size": 1024, "intermediate_size": 2048,
                 "num_hidden_layers": 1, "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 128,
                 "max_position_embeddings": 16384, "rope_theta": 500000.0, "rope_scaling": \(scaling),
                 "partial_rotary_factor": \(partial)}
                """
            let config = try ModelConfig(bytes: Array(json.utf8))
            // Dynamic NTK grows θ past max_position_embeddings: evaluate it at a longer sequence.
            let f = config.rope.frequencies(sequenceLength: name == "dynamic" ? 40_000 : nil)
            return (name, RotaryEmbedding(inverseFrequencies: f.inverseFrequencies, attentionFactor: Float(f.attentionFactor)))
        }
    }

    static func table(_ rows: [CUDAKernelCheckResult]) -> String {
        let width = max(6, rows.map(\.kernel.count).max() ?? 6)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines = [
            "| \(pad("kernel", width)) | max abs err | max rel err | tolerance | result |",
            "| \(String(repeating: "-", count: width)) | ----------- | ----------- | --------- | ------ |",
        ]
        for r in rows {
            lines.append("| \(pad(r.kernel, width)) | \(pad(String(format: "%.3e", r.maxAbsError), 11)) | "
                         + "\(pad(String(format: "%.3e", r.relError), 11)) | \(pad(String(format: "%.1e", r.tolerance), 9)) | "
                         + "\(r.passed ? "pass  " : "FAIL  ") |")
        }
        return lines.joined(separator: "\n")
    }
}
