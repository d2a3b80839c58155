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
            for pattern in [#"void(?:\s+__launch_bounds__\(\d+\))?\s+(sgl_\w+)\s*\("#, #"SGL_DECODE\((sgl_\w+),"#] {
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

    /// Host and device agree on every params struct: NVRTC checks the sizes and field offsets Swift sees.
    @Test func paramsLayoutsAgreeBetweenSwiftAndDevice() throws {
        func check<T>(_ type: T.Type, _ name: String, _ fields: [(String, Int?)]) -> String {
            var s = "static_assert(sizeof(\(name)) == \(MemoryLayout<T>.size), \"\(name) size\");\n"
            for (field, offset) in fields {
                s += "static_assert(__builtin_offsetof(\(name), \(field)) == \(offset ?? -1), \"\(name).\(field)\");\n"
            }
            return s
        }
        var source = "#include \"sglang_kernel_params.h\"\n"
        source += check(SGLEmbeddingParams.self, "SGLEmbeddingParams", [
            ("ids", MemoryLayout<SGLEmbeddingParams>.offset(of: \.ids)),
            ("scale", MemoryLayout<SGLEmbeddingParams>.offset(of: \.scale)),
        ])
        source += check(SGLAddRMSNormParams.self, "SGLAddRMSNormParams", [
            ("eps", MemoryLayout<SGLAddRMSNormParams>.offset(of: \.eps)),
            ("add_one", MemoryLayout<SGLAddRMSNormParams>.offset(of: \.add_one)),
        ])
        source += check(SGLRopeStoreKVParams.self, "SGLRopeStoreKVParams", [
            ("inv_freq", MemoryLayout<SGLRopeStoreKVParams>.offset(of: \.inv_freq)),
            ("attention_factor", MemoryLayout<SGLRopeStoreKVParams>.offset(of: \.attention_factor)),
        ])
        source += check(SGLGatedActParams.self, "SGLGatedActParams", [
            ("activation", MemoryLayout<SGLGatedActParams>.offset(of: \.activation)),
        ])
        source += check(SGLDecodeAttentionParams.self, "SGLDecodeAttentionParams", [
            ("partial_lse", MemoryLayout<SGLDecodeAttentionParams>.offset(of: \.partial_lse)),
            ("num_splits", MemoryLayout<SGLDecodeAttentionParams>.offset(of: \.num_splits)),
            ("window", MemoryLayout<SGLDecodeAttentionParams>.offset(of: \.window)),
        ])
        source += check(SGLAttentionCombineParams.self, "SGLAttentionCombineParams", [
            ("out_stride", MemoryLayout<SGLAttentionCombineParams>.offset(of: \.out_stride)),
        ])
        source += check(SGLGatherRowsParams.self, "SGLGatherRowsParams", [
            ("dim", MemoryLayout<SGLGatherRowsParams>.offset(of: \.dim)),
        ])
        source += check(SGLBitmaskParams.self, "SGLBitmaskParams", [
            ("vocab", MemoryLayout<SGLBitmaskParams>.offset(of: \.vocab)),
        ])
        source += check(SGLArgmaxParams.self, "SGLArgmaxParams", [
            ("vocab", MemoryLayout<SGLArgmaxParams>.offset(of: \.vocab)),
        ])
        source += check(SGLSamplingParams.self, "SGLSamplingParams", [
            ("offsets", MemoryLayout<SGLSamplingParams>.offset(of: \.offsets)),
            ("vocab", MemoryLayout<SGLSamplingParams>.offset(of: \.vocab)),
        ])
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
        #expect(Set(files) == Set(CUDAKernelSources.files.keys), "run python3 scripts/embed-cuda-kernels.py")
        for f in files {
            let text = try String(contentsOf: Self.kernelsFolder.appendingPathComponent(f), encoding: .utf8)
            #expect(CUDAKernelSources.files[f] == text, "\(f) changed: run python3 scripts/embed-cuda-kernels.py")
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

    @Test func bfloat16RoundsToNearestEven() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let x = Float(bitPattern: UInt32.random(in: 0..<0x7f80_0000, using: &rng)) * (Bool.random() ? 1 : -1)
            let b = BFloat16Conversion.bits(x)
            let r = BFloat16Conversion.float(b)
            let up = BFloat16Conversion.float(b &+ 1), down = BFloat16Conversion.float(b &- 1)
            let err = abs(Double(x) - Double(r))
            #expect(err <= abs(Double(x) - Double(up)) && err <= abs(Double(x) - Double(down)), "\(x)")
            if err == abs(Double(x) - Double(up)) || err == abs(Double(x) - Double(down)) {
                #expect(b & 1 == 0, "tie of \(x) not rounded to even")
            }
        }
        #expect(BFloat16Conversion.float(BFloat16Conversion.bits(.nan)).isNaN)
        #expect(BFloat16Conversion.float(BFloat16Conversion.bits(-.infinity)) == -.infinity)
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
