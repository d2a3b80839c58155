import ArgumentParser
import CUDA
import Foundation

/// `sglang cuda-bench-attention`: TFLOP/s of the bf16 extend (prefill) attention kernel next to the cuBLASLt
/// bf16 GEMM rate of the same device.
struct CUDABenchAttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-bench-attention",
        abstract: "Time the bf16 prefill attention kernel (causal, prefix 0) and a cuBLASLt bf16 GEMM (needs an NVIDIA GPU)."
    )

    @Option(name: .long, help: "CUDA device ordinal.")
    var device = 0
    @Option(name: .long, help: "Query heads.")
    var qHeads = 32
    @Option(name: .long, help: "KV heads.")
    var kvHeads = 8
    @Option(name: .long, help: "Head size (64, 128 or 256).")
    var headDim = 128
    @Option(name: .long, help: "New tokens per request.")
    var tokens = 2048
    @Option(name: .long, help: "Request counts to time, comma-separated.")
    var requests = "1,8"
    @Option(name: .long, help: "Launches per timing.")
    var iterations = 20
    @Option(name: .long, help: "Size of the square GEMM of the ceiling (0: skip).")
    var gemm = 8192

    func run() throws {
        let counts = try CUDABenchSamplerCommand.counts(requests, "--requests", example: "1,8")
        let context = try CUDAContext(device: device)
        print("device \(context.device.ordinal): \(context.device.name), \(context.device.multiprocessors) SMs")
        let kernels = try CUDAKernels(context: context)
        let stream = try CUDAStream(context: context)
        if gemm > 0 {
            let g = try CUDAAttentionBenchmark.gemm(context: context, stream: stream, n: gemm, iterations: iterations)
            print(String(format: "cublaslt bf16 gemm %d³: %.3f ms, %.1f TFLOP/s", gemm, g.milliseconds, g.teraflops))
        }
        for n in counts {
            let t = try CUDAAttentionBenchmark.extendAttention(
                kernels: kernels, stream: stream, requests: n, tokens: tokens, qHeads: qHeads, kvHeads: kvHeads,
                headDim: headDim, iterations: iterations)
            print(String(format: "extend attention bf16 %d×%d tokens, %d/%d heads d%d, causal: %.3f ms, %.1f TFLOP/s",
                         n, tokens, qHeads, kvHeads, headDim, t.milliseconds, t.teraflops))
        }
    }
}
