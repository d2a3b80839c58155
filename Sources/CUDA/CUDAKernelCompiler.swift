import Foundation

/// Compiles kernel sources with NVRTC for one architecture, caching the images on disk.
///
/// Cache key: SHA-256 of the source, its headers, the options, NVRTC's version and the target architecture.
/// Files are `<key>.cubin` (or `.ptx`) holding "SGLK", the SHA-256 of the payload and the payload; they are
/// written to a temporary file and renamed, and an entry whose digest does not match is compiled again.
public struct CUDAKernelCompiler: Sendable {
    /// The compiler.
    public let nvrtc: NVRTC
    /// Cache folder, nil to disable caching.
    public let cacheDirectory: URL?

    /// The default cache folder: `$SGLANG_KERNEL_CACHE_DIR`, else `$XDG_CACHE_HOME/sglang-swift/kernels`, else
    /// `~/.cache/sglang-swift/kernels`.
    public static var defaultCacheDirectory: URL? {
        let env = processEnvironment()
        if let dir = env["SGLANG_KERNEL_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("sglang-swift/kernels")
        }
        if let home = env["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".cache/sglang-swift/kernels")
        }
        return nil
    }

    /// A compiler with the process's NVRTC.
    public init(cacheDirectory: URL? = CUDAKernelCompiler.defaultCacheDirectory) throws {
        nvrtc = try NVRTC.shared()
        self.cacheDirectory = cacheDirectory
    }

    /// A compiled image.
    public struct Image: Sendable {
        /// cubin (ELF) or PTX bytes.
        public let bytes: [UInt8]
        /// Which of the two.
        public let format: NVRTC.Output
        /// Whether it came from the disk cache.
        public let fromCache: Bool
        /// The cache key.
        public let key: String
    }

    /// NVRTC options for compute capability `arch` (e.g. 90). SASS when NVRTC knows the architecture,
    /// else PTX for the newest one it knows (the driver compiles it at load).
    public func options(architecture arch: Int) -> (options: [String], format: NVRTC.Output) {
        let supported = nvrtc.supportedArchitectures()
        let base = ["-std=c++17", "-default-device", "--fmad=true", "-DSGLANG_KERNELS=1"]
        if supported.isEmpty || supported.contains(arch) {
            return (["--gpu-architecture=sm_\(arch)"] + base, .cubin)
        }
        let newest = supported.filter { $0 <= arch }.max() ?? supported.min() ?? arch
        return (["--gpu-architecture=compute_\(newest)"] + base, .ptx)
    }

    /// Compiles `source` for compute capability `arch`, from the cache when possible.
    public func compile(_ source: CUDAKernelSource, architecture arch: Int) throws -> Image {
        let (opts, format) = options(architecture: arch)
        let headers = CUDAKernelCatalog.headers
        var material = "sglang-swift kernel cache v1\u{0}nvrtc \(nvrtc.version.major).\(nvrtc.version.minor)\u{0}"
        material += "arch \(arch)\u{0}\(format.rawValue)\u{0}" + opts.joined(separator: "\u{1}") + "\u{0}"
        for h in headers { material += h.name + "\u{0}" + h.text + "\u{0}" }
        material += source.name + "\u{0}" + source.text
        let key = SHA256.hex(Array(material.utf8))
        let file = cacheDirectory?.appendingPathComponent("\(key).\(format.rawValue)")
        if let file, let cached = Self.readEntry(file) {
            return Image(bytes: cached, format: format, fromCache: true, key: key)
        }
        guard !source.text.isEmpty else {
            throw CUDAError.invalidArgument("kernel source \(source.name) is not embedded in this build")
        }
        let bytes = try nvrtc.compile(source: source.text, name: source.name, headers: headers, options: opts, output: format)
        if let file { Self.writeEntry(file, bytes) }
        return Image(bytes: bytes, format: format, fromCache: false, key: key)
    }

    static let magic: [UInt8] = Array("SGLK".utf8)

    /// The payload of a cache file, or nil when missing or corrupt.
    static func readEntry(_ url: URL) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url), data.count > 36 else { return nil }
        let bytes = [UInt8](data)
        guard Array(bytes[0..<4]) == magic else { return nil }
        let payload = Array(bytes[36...])
        guard SHA256.digest(payload) == Array(bytes[4..<36]) else { return nil }
        return payload
    }

    /// Best effort: a cache that cannot be written only costs a recompile next time.
    static func writeEntry(_ url: URL, _ payload: [UInt8]) {
        let dir = url.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = Data(magic + SHA256.digest(payload) + payload)
        try? data.write(to: url, options: .atomic)
    }
}
