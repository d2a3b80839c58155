import CCUDA
#if canImport(Glibc)
import Glibc
#endif

/// The loaded NVRTC library (`libnvrtc.so.13` / `.12`), found as `CUDALibrary.nvrtc` describes. It needs no
/// GPU and no driver, so kernels compile on any machine that has it (CI compiles every kernel this way).
public final class NVRTC: @unchecked Sendable {
    // @unchecked: immutable table; NVRTC programs are independent and the API is thread-safe.
    /// The resolved entry points.
    public let api: UnsafePointer<CCUDANVRTCAPI>
    /// Where the library was found.
    public let path: String
    /// NVRTC's version.
    public let version: (major: Int, minor: Int)

    private static let loaded = CUDALibrary.once { try NVRTC(environment: processEnvironment()) }

    /// The process-wide NVRTC, loaded on first use.
    public static func shared() throws -> NVRTC { try loaded.get() }

    init(environment: [String: String]) throws {
        let (table, path) = try CUDALibrary.nvrtc.load(environment: environment, ccuda_resolve_nvrtc)
        api = table
        self.path = path
        var major: Int32 = 0, minor: Int32 = 0
        _ = table.pointee.nvrtcVersion(&major, &minor)
        version = (Int(major), Int(minor))
    }

    /// Compute capabilities NVRTC can emit SASS for (e.g. 75, 80, 90), or [] when it cannot say.
    public func supportedArchitectures() -> [Int] {
        guard let numFn = api.pointee.nvrtcGetNumSupportedArchs, let listFn = api.pointee.nvrtcGetSupportedArchs else {
            return []
        }
        var n: Int32 = 0
        guard numFn(&n) == 0, n > 0 else { return [] }
        var archs = [Int32](repeating: 0, count: Int(n))
        guard listFn(&archs) == 0 else { return [] }
        return archs.map(Int.init)
    }

    /// What `compile` returns.
    public enum Output: String, Sendable {
        /// Machine code for one architecture (`--gpu-architecture=sm_XX`).
        case cubin
        /// PTX, which the driver compiles at load (`--gpu-architecture=compute_XX`).
        case ptx
    }

    /// Compiles one CUDA C++ source with in-memory headers; throws `CUDAError.compilation` with the log on
    /// a compile error.
    public func compile(source: String, name: String, headers: [(name: String, text: String)], options: [String],
                        output: Output) throws -> [UInt8]
    {
        var program: nvrtcProgram?
        let headerTexts = headers.map { strdup($0.text) }
        let headerNames = headers.map { strdup($0.name) }
        defer {
            headerTexts.forEach { free($0) }
            headerNames.forEach { free($0) }
        }
        let texts = headerTexts.map { $0.map { UnsafePointer<CChar>($0) } }
        let names = headerNames.map { $0.map { UnsafePointer<CChar>($0) } }
        let created = texts.withUnsafeBufferPointer { t in
            names.withUnsafeBufferPointer { n in
                api.pointee.nvrtcCreateProgram(&program, source, name, Int32(headers.count), t.baseAddress, n.baseAddress)
            }
        }
        try check(created, "nvrtcCreateProgram(\(name))")
        defer { _ = api.pointee.nvrtcDestroyProgram(&program) }
        let optionCopies = options.map { strdup($0) }
        defer { optionCopies.forEach { free($0) } }
        let optionPointers = optionCopies.map { $0.map { UnsafePointer<CChar>($0) } }
        let compiled = optionPointers.withUnsafeBufferPointer { o in
            api.pointee.nvrtcCompileProgram(program, Int32(options.count), o.baseAddress)
        }
        if compiled != 0 {
            throw CUDAError.compilation(source: name, options: options, log: log(program))
        }
        var size = 0
        switch output {
        case .cubin:
            try check(api.pointee.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
            var bytes = [UInt8](repeating: 0, count: size)
            try bytes.withUnsafeMutableBufferPointer { b in
                try b.withMemoryRebound(to: CChar.self) { c in
                    try check(api.pointee.nvrtcGetCUBIN(program, c.baseAddress), "nvrtcGetCUBIN")
                }
            }
            return bytes
        case .ptx:
            try check(api.pointee.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize")
            var bytes = [UInt8](repeating: 0, count: size)
            try bytes.withUnsafeMutableBufferPointer { b in
                try b.withMemoryRebound(to: CChar.self) { c in
                    try check(api.pointee.nvrtcGetPTX(program, c.baseAddress), "nvrtcGetPTX")
                }
            }
            while bytes.last == 0 { bytes.removeLast() }
            return bytes
        }
    }

    private func log(_ program: nvrtcProgram?) -> String {
        var size = 0
        guard api.pointee.nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "" }
        var buffer = [CChar](repeating: 0, count: size)
        guard api.pointee.nvrtcGetProgramLog(program, &buffer) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func check(_ result: nvrtcResult, _ function: String) throws {
        guard result != 0 else { return }
        let message = api.pointee.nvrtcGetErrorString(result).map { String(cString: $0) } ?? "error \(result)"
        throw CUDAError.nvrtc(function: function, code: result, message: message)
    }
}
