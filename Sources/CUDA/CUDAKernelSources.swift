import Foundation

/// The kernel sources and the params header, embedded in the binary by SwiftPM (`.embedInCode("Kernels")`), so a
/// relocated executable needs no resource folder. `Kernels/sglang_kernel_params.h` is a link to the C target's
/// header, so Swift and the kernels read one file.
enum CUDAKernelSources {
    /// `sglang_kernel_params.h`.
    static let paramsHeader = text(PackageResources.sglang_kernel_params_h)

    /// Kernel sources and shared headers by file name: the embedded ones, each replaced by a file of the same
    /// name in `SGLANG_KERNEL_DIR` when that is set (for kernel work on a GPU machine without rebuilding).
    static let files: [String: String] = {
        var files = embedded
        if let dir = processEnvironment()["SGLANG_KERNEL_DIR"], !dir.isEmpty {
            for name in files.keys {
                if let text = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8) { files[name] = text }
            }
        }
        return files
    }()

    private static let embedded: [String: String] = [
        "activation.cu": text(PackageResources.activation_cu),
        "allreduce.cu": text(PackageResources.allreduce_cu),
        "common.cuh": text(PackageResources.common_cuh),
        "decode_attention.cu": text(PackageResources.decode_attention_cu),
        "decode_attention_tc.cu": text(PackageResources.decode_attention_tc_cu),
        "embedding.cu": text(PackageResources.embedding_cu),
        "extend_attention.cu": text(PackageResources.extend_attention_cu),
        "gemv.cu": text(PackageResources.gemv_cu),
        "model_aux.cu": text(PackageResources.model_aux_cu),
        "moe.cu": text(PackageResources.moe_cu),
        "norm.cu": text(PackageResources.norm_cu),
        "rope.cu": text(PackageResources.rope_cu),
        "sampling.cu": text(PackageResources.sampling_cu),
    ]

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
