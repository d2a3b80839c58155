import CUDA
import Foundation

/// How the CUDA model runs (`--device cuda`, `--dtype`, `--disable-cuda-graph`, `--cuda-graph-max-bs`, `--tp-size`).
public struct CUDAModelOptions: Sendable, Hashable {
    /// CUDA device ordinal (of rank 0 under tensor parallelism; rank i runs on `deviceOrdinal + i`).
    public var deviceOrdinal: Int
    /// GPUs the model is split over (`--tp-size`).
    public var tensorParallelSize: Int
    /// Element type of weights, activations and the KV cache (bf16 by default; fp32 for exact checks).
    public var dtype: CUDAElementType
    /// Run decode eagerly instead of replaying captured CUDA graphs.
    public var disableCUDAGraph: Bool
    /// Largest decode batch replayed from a graph; larger batches run eagerly.
    public var cudaGraphMaxBatchSize: Int
    /// Tokens the activation workspace holds at first (it grows for a larger batch).
    public var initialWorkspaceTokens: Int
    /// Draw decode tokens on the device (`sgl_logit_edits` for bias and penalties, then `sgl_sample`) instead of
    /// copying logit rows to the host; requests that want logprobs or follow a grammar still go to the host.
    /// On by default; `SGLANG_DEVICE_SAMPLING=0` turns it off.
    public var deviceSampling: Bool

    /// SGLang's defaults: bf16, graphs on, graphs up to batch 160.
    public init(deviceOrdinal: Int = 0, dtype: CUDAElementType = .bfloat16, disableCUDAGraph: Bool = false,
                cudaGraphMaxBatchSize: Int = 160, initialWorkspaceTokens: Int = 4096,
                deviceSampling: Bool = CUDAModelOptions.deviceSamplingFromEnvironment, tensorParallelSize: Int = 1) {
        self.deviceOrdinal = deviceOrdinal
        self.tensorParallelSize = tensorParallelSize
        self.dtype = dtype
        self.disableCUDAGraph = disableCUDAGraph
        self.cudaGraphMaxBatchSize = cudaGraphMaxBatchSize
        self.initialWorkspaceTokens = initialWorkspaceTokens
        self.deviceSampling = deviceSampling
    }

    /// True unless `SGLANG_DEVICE_SAMPLING` is "0".
    public static var deviceSamplingFromEnvironment: Bool {
        ProcessInfo.processInfo.environment["SGLANG_DEVICE_SAMPLING"] != "0"
    }

    /// SGLang's padded decode batch sizes for graphs (1, 2, 4, 8, 12, every 8 from 16 to 256, every 16 to 512,
    /// then every 32), up to `max`.
    public static func graphBatchSizes(upTo max: Int) -> [Int] {
        var all = [1, 2, 4, 8, 12] + Array(stride(from: 16, through: 256, by: 8))
        all += Array(stride(from: 272, to: 512, by: 16))
        if max >= 512 { all += Array(stride(from: 512, through: max, by: 32)) }
        return all.filter { $0 <= max }
    }
}
