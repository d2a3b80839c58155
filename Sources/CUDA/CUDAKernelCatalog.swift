/// One kernel source file and the `extern "C"` entry points it defines.
public struct CUDAKernelSource: Sendable, Hashable {
    /// File name under `Sources/CUDA/Kernels`, e.g. "norm.cu".
    public let name: String
    /// Kernel entry points.
    public let entryPoints: [String]

    /// The CUDA C++ text (embedded in the binary, so a relocated executable needs no resource folder).
    public var text: String { CUDAKernelSources.files[name] ?? "" }
}

/// Every kernel source shipped with the package, and the headers NVRTC gets in memory.
public enum CUDAKernelCatalog {
    /// Head sizes the decode-attention kernel is instantiated for.
    public static let decodeHeadDims = [16, 32, 64, 128, 256]
    /// Head sizes the extend (prefill) attention kernel is instantiated for.
    public static let extendHeadDims = [16, 32, 64, 128, 256]

    /// All sources.
    public static let sources: [CUDAKernelSource] = [
        CUDAKernelSource(
            name: "embedding.cu",
            entryPoints: ["sgl_embedding_f32", "sgl_embedding_bf16", "sgl_gather_rows_f32", "sgl_gather_rows_bf16"]),
        CUDAKernelSource(name: "norm.cu", entryPoints: ["sgl_add_rmsnorm_f32", "sgl_add_rmsnorm_bf16"]),
        CUDAKernelSource(name: "rope.cu", entryPoints: ["sgl_rope_store_kv_f32", "sgl_rope_store_kv_bf16"]),
        CUDAKernelSource(name: "activation.cu", entryPoints: ["sgl_gated_act_f32", "sgl_gated_act_bf16"]),
        CUDAKernelSource(
            name: "decode_attention.cu",
            entryPoints: ["f32", "bf16"].flatMap { t in decodeHeadDims.map { "sgl_decode_attention_\(t)_hd\($0)" } }
                + ["sgl_attention_combine_f32", "sgl_attention_combine_bf16"]),
        CUDAKernelSource(
            name: "decode_attention_tc.cu",
            entryPoints: ["sgl_decode_attention_tc_bf16_hd64", "sgl_decode_attention_tc_bf16_hd128"]),
        CUDAKernelSource(
            name: "sampling.cu",
            entryPoints: [
                "sgl_argmax_f32", "sgl_argmax_bf16", "sgl_apply_bitmask_f32", "sgl_apply_bitmask_bf16", "sgl_sample",
                "sgl_logit_edits",
            ]),
        CUDAKernelSource(
            name: "extend_attention.cu",
            entryPoints: ["bf16", "f32"].flatMap { t in extendHeadDims.map { "sgl_extend_attention_\(t)_hd\($0)" } }),
        CUDAKernelSource(
            name: "gemv.cu",
            entryPoints: ["sgl_gemv_f32_f32", "sgl_gemv_bf16_bf16", "sgl_gemv_bf16_f32", "sgl_gemv_norm_bf16"]),
        CUDAKernelSource(
            name: "model_aux.cu",
            entryPoints: ["sgl_record_slots", "sgl_take_carried", "sgl_softcap_f32"]
                + ["add_bias", "head_rmsnorm", "fill_uniform"].flatMap { k in ["f32", "bf16"].map { "sgl_\(k)_\($0)" } }),
        CUDAKernelSource(
            name: "moe.cu",
            entryPoints: ["sgl_moe_route", "sgl_moe_align"]
                + ["moe_gemm", "moe_combine"].flatMap { k in ["f32", "bf16"].map { "sgl_\(k)_\($0)" } }),
        CUDAKernelSource(name: "allreduce.cu", entryPoints: ["sgl_allreduce_f32", "sgl_allreduce_bf16"]),
    ]

    /// Headers every source may include, passed to NVRTC in memory.
    public static var headers: [(name: String, text: String)] {
        [
            ("sglang_kernel_params.h", CUDAKernelSources.paramsHeader),
            ("common.cuh", CUDAKernelSources.files["common.cuh"] ?? ""),
        ]
    }
}
