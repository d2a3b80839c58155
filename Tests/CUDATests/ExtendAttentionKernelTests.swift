import CKernelParams
import Foundation
import Testing

@testable import CUDA

/// The extend (prefill) attention kernel on this GPU-less machine: host and device agree on its params struct
/// field by field, it compiles for every tensor-core architecture it is written for (mma.sync bf16, ldmatrix and
/// cp.async need sm_80+), and its shared memory fits the Hopper opt-in limit. Its numbers are checked on a GPU
/// against the CPU backend by `sglang cuda-check` (`CUDAKernelCheck.checkExtendAttention`).
@Suite struct ExtendAttentionKernelTests {
    /// Size and alignment as NVRTC sees them equal Swift's; with every field 4 or 8 bytes and the pointers
    /// first, equal sizes leave no room for different offsets (NVRTC has no `offsetof`), and Swift's offsets are
    /// the packed declaration order.
    @Test func paramsLayoutAgreesBetweenSwiftAndDevice() throws {
        typealias P = SGLExtendAttentionParams
        #expect(MemoryLayout<P>.size == 112)
        #expect(MemoryLayout<P>.offset(of: \.extend_starts) == 8 * 8)
        #expect(MemoryLayout<P>.offset(of: \.batch) == 9 * 8)
        #expect(MemoryLayout<P>.offset(of: \.scale) == 9 * 8 + 6 * 4)
        #expect(MemoryLayout<P>.offset(of: \.pad0) == 9 * 8 + 9 * 4)
        var source = "#include \"sglang_kernel_params.h\"\n"
        source += "static_assert(sizeof(SGLExtendAttentionParams) == \(MemoryLayout<P>.size), \"size\");\n"
        source += "static_assert(alignof(SGLExtendAttentionParams) == \(MemoryLayout<P>.alignment), \"alignment\");\n"
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
