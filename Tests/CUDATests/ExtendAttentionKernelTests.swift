import CKernelParams
import Foundation
import Testing

@testable import CUDA

/// The extend (prefill) attention kernel on this GPU-less machine: host and device agree on its params struct
/// field by field, it compiles for every tensor-core architecture it is written for (mma.sync bf16, ldmatrix and
/// cp.async need sm_80+), and its shared memory fits the Hopper opt-in limit. Its numbers are checked on a GPU
/// against the CPU backend by `sglang cuda-check` (`CUDAKernelCheck.checkExtendAttention`).
@Suite struct ExtendAttentionKernelTests {
    @Test func paramsOffsetsAgreeBetweenSwiftAndDevice() throws {
        typealias P = SGLExtendAttentionParams
        let fields: [(String, Int?)] = [
            ("q", MemoryLayout<P>.offset(of: \.q)), ("k_cache", MemoryLayout<P>.offset(of: \.k_cache)),
            ("v_cache", MemoryLayout<P>.offset(of: \.v_cache)), ("out", MemoryLayout<P>.offset(of: \.out)),
            ("req_to_token", MemoryLayout<P>.offset(of: \.req_to_token)),
            ("req_pool_indices", MemoryLayout<P>.offset(of: \.req_pool_indices)),
            ("prefix_lens", MemoryLayout<P>.offset(of: \.prefix_lens)),
            ("extend_lens", MemoryLayout<P>.offset(of: \.extend_lens)),
            ("extend_starts", MemoryLayout<P>.offset(of: \.extend_starts)), ("batch", MemoryLayout<P>.offset(of: \.batch)),
            ("q_heads", MemoryLayout<P>.offset(of: \.q_heads)), ("kv_heads", MemoryLayout<P>.offset(of: \.kv_heads)),
            ("q_stride", MemoryLayout<P>.offset(of: \.q_stride)), ("out_stride", MemoryLayout<P>.offset(of: \.out_stride)),
            ("req_to_token_stride", MemoryLayout<P>.offset(of: \.req_to_token_stride)),
            ("scale", MemoryLayout<P>.offset(of: \.scale)), ("softcap", MemoryLayout<P>.offset(of: \.softcap)),
            ("window", MemoryLayout<P>.offset(of: \.window)), ("pad0", MemoryLayout<P>.offset(of: \.pad0)),
        ]
        var source = "#include \"sglang_kernel_params.h\"\n"
        source += "static_assert(sizeof(SGLExtendAttentionParams) == \(MemoryLayout<P>.size), \"size\");\n"
        source += "static_assert(alignof(SGLExtendAttentionParams) == \(MemoryLayout<P>.alignment), \"alignment\");\n"
        for (name, offset) in fields {
            let o = try #require(offset)
            source += "static_assert(__builtin_offsetof(SGLExtendAttentionParams, \(name)) == \(o), \"\(name)\");\n"
        }
        let nvrtc = try NVRTC.shared()
        let ptx = try nvrtc.compile(source: source, name: "extend_layout.cu", headers: CUDAKernelCatalog.headers,
                                    options: ["--gpu-architecture=compute_90", "-std=c++17"], output: .ptx)
        #expect(!ptx.isEmpty)
    }

    @Test func compilesForAmpereAndHopper() throws {
        let source = try #require(CUDAKernelCatalog.sources.first { $0.name == "extend_attention.cu" })
        #expect(source.entryPoints.count == 2 * CUDAKernelCatalog.extendHeadDims.count)
        let compiler = try CUDAKernelCompiler(cacheDirectory: nil)
        for arch in [80, 90] {
            let image = try compiler.compile(source, architecture: arch)
            #expect(image.format == .cubin)
            for entry in source.entryPoints {
                #expect(Self.find(Array(entry.utf8), in: image.bytes), "sm_\(arch) image lacks \(entry)")
            }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return false }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == first && Array(haystack[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }

    /// Two CTAs of the bf16 kernel fit one H100/H200 multiprocessor (228 KiB), each within the 227 KiB opt-in.
    @Test func sharedMemoryFitsHopper() {
        for d in CUDAKernelCatalog.extendHeadDims {
            let bytes = CUDAKernels.extendAttentionSharedBytes(headDim: d)
            #expect(bytes <= 227 << 10, "head size \(d): \(bytes) bytes")
            #expect(2 * bytes <= 228 << 10, "head size \(d): \(bytes) bytes")
        }
    }
}
