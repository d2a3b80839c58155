import CUDA
import CUDAModels

/// Where a model runs (`--device`, `--dtype`, `--disable-cuda-graph`, `--cuda-graph-max-bs`, `--tp-size`,
/// `--base-gpu-id`).
public struct DeviceSelection: Sendable, Hashable {
    /// The device kind asked for.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// CUDA when a GPU and its driver are present, else the CPU.
        case auto
        /// The host backend (OpenBLAS and our SIMD kernels).
        case cpu
        /// An NVIDIA GPU through our CUDA backend.
        case cuda
    }

    /// The kind asked for.
    public var kind: Kind
    /// The element type on CUDA (`--dtype`: auto and bfloat16 → bf16; float32 → fp32). The CPU computes in fp32.
    public var cudaDType: CUDAElementType
    /// Decode without CUDA graphs.
    public var disableCUDAGraph: Bool
    /// Largest decode batch replayed from a graph.
    public var cudaGraphMaxBatchSize: Int
    /// CUDA device ordinal (`--base-gpu-id`; the first of the tensor-parallel group).
    public var deviceOrdinal: Int
    /// GPUs the model is split over (`--tp-size`; CUDA only).
    public var tensorParallelSize: Int

    /// A selection (the CPU unless told otherwise, so library users opt in to the GPU).
    public init(kind: Kind = .cpu, cudaDType: CUDAElementType = .bfloat16, disableCUDAGraph: Bool = false,
                cudaGraphMaxBatchSize: Int = 160, deviceOrdinal: Int = 0, tensorParallelSize: Int = 1) {
        self.kind = kind
        self.cudaDType = cudaDType
        self.disableCUDAGraph = disableCUDAGraph
        self.cudaGraphMaxBatchSize = cudaGraphMaxBatchSize
        self.deviceOrdinal = deviceOrdinal
        self.tensorParallelSize = tensorParallelSize
    }

    /// Parses the command-line values; throws `RuntimeError.invalidInput` naming the flag.
    public init(device: String, dtype: String, disableCUDAGraph: Bool = false, cudaGraphMaxBatchSize: Int = 160,
                tensorParallelSize: Int = 1, baseGPUId: Int = 0) throws
    {
        guard let kind = Kind(rawValue: device) else {
            throw RuntimeError.invalidInput("--device \(device): use auto, cpu or cuda")
        }
        let type: CUDAElementType
        switch dtype {
        case "auto", "bfloat16", "bf16": type = .bfloat16
        case "float", "float32", "fp32": type = .float32
        default: throw RuntimeError.invalidInput("--dtype \(dtype): use auto, bfloat16 or float32")
        }
        guard cudaGraphMaxBatchSize >= 1 else {
            throw RuntimeError.invalidInput("--cuda-graph-max-bs must be ≥ 1, found \(cudaGraphMaxBatchSize)")
        }
        guard tensorParallelSize >= 1 else {
            throw RuntimeError.invalidInput("--tp-size must be ≥ 1, found \(tensorParallelSize)")
        }
        guard baseGPUId >= 0 else { throw RuntimeError.invalidInput("--base-gpu-id must be ≥ 0, found \(baseGPUId)") }
        if tensorParallelSize > 1, kind == .cpu {
            throw RuntimeError.invalidInput(
                "--tp-size \(tensorParallelSize) splits a model over CUDA GPUs; the CPU backend runs it whole (use --tp-size 1)")
        }
        self.init(kind: kind, cudaDType: type, disableCUDAGraph: disableCUDAGraph,
                  cudaGraphMaxBatchSize: cudaGraphMaxBatchSize, deviceOrdinal: baseGPUId,
                  tensorParallelSize: tensorParallelSize)
    }

    /// `cpu` or `cuda` after resolving `auto` (a GPU counts when the driver loads and reports a device).
    public var resolved: Kind {
        guard kind == .auto else { return kind }
        return ((try? CUDADevice.count()) ?? 0) > 0 ? .cuda : .cpu
    }

    /// The CUDA model's options.
    public var cudaOptions: CUDAModelOptions {
        CUDAModelOptions(deviceOrdinal: deviceOrdinal, dtype: cudaDType, disableCUDAGraph: disableCUDAGraph,
                         cudaGraphMaxBatchSize: cudaGraphMaxBatchSize, tensorParallelSize: tensorParallelSize)
    }
}
