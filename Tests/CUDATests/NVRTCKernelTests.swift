import CKernelParams
import Foundation
import Testing

@testable import CUDA

/// Every kernel compiles with NVRTC for sm_90 on this (GPU-less) machine. `make test` and CI install NVRTC
/// from PyPI (`nvidia-cuda-nvrtc`), so these tests fail, never skip, when it cannot be loaded.
@Suite struct NVRTCKernelTests {
    static let kernelsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/CUDA/Kernels").standardized

    @Test func compilesEveryKernelForSM90() throws {
        let compiler = try CUDAKernelCompiler(cacheDirectory: nil)
        #expect(compiler.nvrtc.version.major >= 12)
        for source in CUDAKernelCatalog.sources {
            let image = try compiler.compile(source, architecture: 90)
            #expect(image.format == .cubin, "\(source.name)")
            #expect(Array(image.bytes.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], "\(source.name) is not an ELF cubin")
            for entry in source.entryPoints {
                #expect(contains(image.bytes, Array(entry.utf8)), "\(source.name) lacks the kernel \(entry)")
            }
        }
    }

    /// Every `extern "C"` kernel in the sources is in the catalog (so cuda-check and the launchers see it).
    @Test func catalogListsEveryKernelOfTheSources() throws {
        let catalogued = Set(CUDAKernelCatalog.sources.flatMap(\.entryPoints))
        var found: Set<String> = []
        for source in CUDAKernelCatalog.sources {
            let text = source.text
            for pattern in [#"void(?:\s+__launch_bounds__\(\d+(?:,\s*\d+)?\))?\s+(sgl_\w+)\s*\("#, #"SGL_DECODE\((sgl_\w+),"#] {
                let regex = try NSRegularExpression(pattern: pattern)
                for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let r = Range(m.range(at: 1), in: text) { found.insert(String(text[r])) }
                }
            }
        }
        #expect(found == catalogued)
    }

    @Test func compileErrorsCarryTheLog() throws {
        let nvrtc = try NVRTC.shared()
        let broken = "extern \"C\" __global__ void k(float *x) { x[0] = undeclared_name; }"
        do {
            _ = try nvrtc.compile(source: broken, name: "broken.cu", headers: [], options: ["--gpu-architecture=sm_90"],
                                  output: .cubin)
            Issue.record("a broken kernel compiled")
        } catch let error as CUDAError {
            guard case .compilation(let name, _, let log) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(name == "broken.cu")
            #expect(log.contains("undeclared_name"))
        }
    }

    /// Host and device agree on every params struct: NVRTC checks the sizes and alignments Swift sees. (Every
    /// field is 4 or 8 bytes, pointers first, so equal sizes and alignments leave no room for different offsets.)
    @Test func paramsLayoutsAgreeBetweenSwiftAndDevice() throws {
        func check<T>(_ type: T.Type, _ name: String) -> String {
            "static_assert(sizeof(\(name)) == \(MemoryLayout<T>.size), \"\(name) size\");\n"
                + "static_assert(alignof(\(name)) == \(MemoryLayout<T>.alignment), \"\(name) alignment\");\n"
        }
        var source = "#include \"sglang_kernel_params.h\"\n"
        source += check(SGLEmbeddingParams.self, "SGLEmbeddingParams")
        source += check(SGLAddRMSNormParams.self, "SGLAddRMSNormParams")
        source += check(SGLRopeStoreKVParams.self, "SGLRopeStoreKVParams")
        source += check(SGLGatedActParams.self, "SGLGatedActParams")
        source += check(SGLDecodeAttentionParams.self, "SGLDecodeAttentionParams")
        source += check(SGLAttentionCombineParams.self, "SGLAttentionCombineParams")
        source += check(SGLGatherRowsParams.self, "SGLGatherRowsParams")
        source += check(SGLBitmaskParams.self, "SGLBitmaskParams")
        source += check(SGLArgmaxParams.self, "SGLArgmaxParams")
        source += check(SGLSamplingParams.self, "SGLSamplingParams")
        source += check(SGLLogitEdit.self, "SGLLogitEdit")
        source += check(SGLLogitEditParams.self, "SGLLogitEditParams")
        source += check(SGLGemvNormParams.self, "SGLGemvNormParams")
        source += check(SGLMoERouteParams.self, "SGLMoERouteParams")
        source += check(SGLMoEAlignParams.self, "SGLMoEAlignParams")
        source += check(SGLMoEGemmParams.self, "SGLMoEGemmParams")
        source += check(SGLMoECombineParams.self, "SGLMoECombineParams")
        // The Swift view has the fields in declaration order with no padding.
        #expect(MemoryLayout<SGLDecodeAttentionParams>.offset(of: \.batch) == 10 * 8)
        #expect(MemoryLayout<SGLDecodeAttentionParams>.offset(of: \.out_stride) == 10 * 8 + 9 * 4)
        #expect(MemoryLayout<SGLSamplingParams>.offset(of: \.vocab) == 9 * 8 + 4)
        let nvrtc = try NVRTC.shared()
        let ptx = try nvrtc.compile(source: source, name: "layout_check.cu", headers: CUDAKernelCatalog.headers,
                                    options: ["--gpu-architecture=compute_90", "-std=c++17"], output: .ptx)
        #expect(!ptx.isEmpty)
    }

    @Test func diskCacheHitsAndRecompilesCorruptEntries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sglang-kernel-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let compiler = try CUDAKernelCompiler(cacheDirectory: dir)
        guard let source = CUDAKernelCatalog.sources.first(where: { $0.name == "norm.cu" }) else {
            Issue.record("norm.cu missing from the catalog")
            return
        }
        let first = try compiler.compile(source, architecture: 90)
        #expect(!first.fromCache)
        let second = try compiler.compile(source, architecture: 90)
        #expect(second.fromCache)
        #expect(second.bytes == first.bytes)
        #expect(second.key == first.key)
        // Another architecture is another entry.
        let other = try compiler.compile(source, architecture: 80)
        #expect(other.key != first.key)
        #expect(!other.fromCache)
        // A corrupted file is detected by its digest and compiled again.
        let file = dir.appendingPathComponent("\(first.key).cubin")
        var data = try Data(contentsOf: file)
        data[data.count - 1] ^= 0xFF
        try data.write(to: file)
        let third = try compiler.compile(source, architecture: 90)
        #expect(!third.fromCache)
        #expect(third.bytes == first.bytes)
        #expect(CUDAKernelCompiler.readEntry(file) == first.bytes)
    }

    /// The binary embeds the kernel sources (so a moved executable finds them); they must equal the files.
    @Test func embeddedSourcesMatchTheKernelFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.kernelsFolder.path)
            .filter { $0.hasSuffix(".cu") || $0.hasSuffix(".cuh") }
        #expect(!files.isEmpty)
        #expect(Set(files) == Set(CUDAKernelSources.files.keys), "list the new file in CUDAKernelSources.files")
        for f in files {
            let text = try String(contentsOf: Self.kernelsFolder.appendingPathComponent(f), encoding: .utf8)
            #expect(CUDAKernelSources.files[f] == text, "\(f): the embedded text differs from the file")
        }
        let header = Self.kernelsFolder.appendingPathComponent("../../CKernelParams/include/sglang_kernel_params.h")
        #expect(try String(contentsOf: header.standardized, encoding: .utf8) == CUDAKernelSources.paramsHeader)
        for source in CUDAKernelCatalog.sources { #expect(files.contains(source.name)) }
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let two = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(two) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Against an independent rounding: the two bf16 values around x (truncated and next away from zero),
    /// the nearer one, ties to the even bit pattern.
    @Test func bfloat16RoundsToNearestEven() {
        var rng = SystemRandomNumberGenerator()
        for i in 0..<50_000 {
            // Finite magnitudes below the largest bf16, so rounding never overflows; every 8th value a tie.
            var magnitude = UInt32.random(in: 0..<0x7f7f_0000, using: &rng)
            if i % 8 == 0 { magnitude = magnitude & 0xffff_0000 | 0x8000 }
            let x = Float(bitPattern: magnitude | (Bool.random(using: &rng) ? 0x8000_0000 : 0))
            let lo = UInt16(truncatingIfNeeded: x.bitPattern >> 16), hi = lo &+ 1
            let dLo = abs(Double(x) - Double(BFloat16Conversion.float(lo)))
            let dHi = abs(Double(x) - Double(BFloat16Conversion.float(hi)))
            let expected = dLo < dHi ? lo : dHi < dLo ? hi : (lo & 1 == 0 ? lo : hi)
            #expect(BFloat16Conversion.bits(x) == expected, "\(x)")
        }
        #expect(BFloat16Conversion.float(BFloat16Conversion.bits(.nan)).isNaN)
        #expect(BFloat16Conversion.float(BFloat16Conversion.bits(-.infinity)) == -.infinity)
        #expect(BFloat16Conversion.bits(Float.greatestFiniteMagnitude) == 0x7f80)  // overflows to +inf
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == first, Array(haystack[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }
}
