import ArgumentParser
import Runtime

/// `--device`, `--dtype`, `--disable-cuda-graph`, `--cuda-graph-max-bs`, `--tp-size`, `--base-gpu-id`, shared by the
/// commands that load a model.
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "auto (CUDA when a GPU is found), cpu or cuda.")
    var device = "auto"

    @Option(name: .long, help: "auto or bfloat16 (the GPU's default), float32 (CUDA in fp32; the CPU always computes in fp32).")
    var dtype = "auto"

    @Flag(name: .long, help: "Decode without CUDA graphs.")
    var disableCudaGraph = false

    @Option(name: .long, help: "Largest decode batch replayed from a CUDA graph.")
    var cudaGraphMaxBs = 160

    @Option(name: [.customLong("tp-size"), .customLong("tensor-parallel-size")],
            help: "GPUs to split the model over (tensor parallelism through NCCL; CUDA only).")
    var tpSize = 1

    @Option(name: .long, help: "The first GPU to use; tensor-parallel rank i runs on GPU base-gpu-id + i.")
    var baseGpuId = 0

    /// The parsed selection.
    func selection() throws -> DeviceSelection {
        try DeviceSelection(device: device, dtype: dtype, disableCUDAGraph: disableCudaGraph,
                            cudaGraphMaxBatchSize: cudaGraphMaxBs, tensorParallelSize: tpSize, baseGPUId: baseGpuId)
    }
}
