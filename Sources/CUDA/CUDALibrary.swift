import CCUDA
#if canImport(Glibc)
import Glibc
#endif

/// The shared libraries the CUDA backend opens at run time, with the names and folders tried for each.
///
/// Search order: every folder of `SGLANG_CUDA_LIB_DIR` (colon-separated), the system loader's own search
/// (`LD_LIBRARY_PATH`, ldconfig), `$CUDA_HOME`/`$CUDA_PATH` and `/usr/local/cuda`, then the `nvidia/*/lib`
/// folders of pip wheels in the usual Python site-packages locations (virtualenv, user, system, pyenv, /opt).
public enum CUDALibrary: String, Sendable, CaseIterable {
    /// The driver API (`libcuda.so.1`), installed with the NVIDIA driver.
    case driver = "libcuda"
    /// The run-time compiler (`libnvrtc.so.13` / `.12`).
    case nvrtc = "libnvrtc"
    /// cuBLASLt (`libcublasLt.so.13` / `.12`).
    case cublasLt = "libcublasLt"
    /// NCCL (`libnccl.so.2`), for tensor parallelism over several GPUs.
    case nccl = "libnccl"

    /// File names tried, newest ABI first.
    public var fileNames: [String] {
        switch self {
        case .driver: ["libcuda.so.1", "libcuda.so"]
        case .nvrtc: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
        case .cublasLt: ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"]
        case .nccl: ["libnccl.so.2", "libnccl.so"]
        }
    }

    /// Sub-folders of a site-packages `nvidia/` folder that hold this library in pip wheels (CUDA 13, 12).
    var wheelFolders: [String] {
        switch self {
        case .driver: []
        case .nvrtc: ["cu13/lib", "cuda_nvrtc/lib"]
        case .cublasLt: ["cu13/lib", "cublas/lib"]
        case .nccl: ["nccl/lib", "cu13/lib"]
        }
    }

    /// What to do when it is missing.
    public var hint: String {
        switch self {
        case .driver:
            "Install the NVIDIA driver (it provides libcuda.so.1), or set SGLANG_CUDA_LIB_DIR to the folder that holds it."
        case .nvrtc:
            "Install NVRTC (`pip install nvidia-cuda-nvrtc` or the CUDA toolkit), or set SGLANG_CUDA_LIB_DIR to the folder that holds libnvrtc.so.13."
        case .cublasLt:
            "Install cuBLAS (`pip install nvidia-cublas` or the CUDA toolkit), or set SGLANG_CUDA_LIB_DIR to the folder that holds libcublasLt.so.13."
        case .nccl:
            "Install NCCL (`pip install nvidia-nccl-cu13`, or libnccl2 from NVIDIA's apt repository), or set SGLANG_CUDA_LIB_DIR to the folder that holds libnccl.so.2; --tp-size 1 needs no NCCL."
        }
    }

    /// Every path (or bare name for the system loader) tried, in order.
    public func candidates(environment: [String: String]) -> [String] {
        var result: [String] = []
        let custom = (environment["SGLANG_CUDA_LIB_DIR"] ?? "").split(separator: ":").map(String.init)
        for dir in custom { for name in fileNames { result.append(dir + "/" + name) } }
        result += fileNames
        var toolkit: [String] = []
        for key in ["CUDA_HOME", "CUDA_PATH"] {
            if let root = environment[key], !root.isEmpty { toolkit += [root + "/lib64", root + "/lib"] }
        }
        toolkit += ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"]
        for dir in toolkit { for name in fileNames { result.append(dir + "/" + name) } }
        for site in Self.sitePackages(environment: environment) {
            for folder in wheelFolders { for name in fileNames { result.append(site + "/nvidia/" + folder + "/" + name) } }
        }
        return result
    }

    /// Python site-packages folders that exist on this machine.
    static func sitePackages(environment: [String: String]) -> [String] {
        var patterns: [String] = []
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty { patterns.append(venv + "/lib/python3*/site-packages") }
        if let home = environment["HOME"], !home.isEmpty {
            patterns.append(home + "/.local/lib/python3*/site-packages")
            patterns.append(home + "/.pyenv/versions/*/lib/python3*/site-packages")
        }
        patterns += [
            "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
            "/usr/lib/python3/dist-packages", "/opt/*/.venv/lib/python3*/site-packages",
            "/opt/*/lib/python3*/site-packages", "/opt/conda/lib/python3*/site-packages",
        ]
        return patterns.flatMap(globPaths)
    }

    static func globPaths(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths
    }

    /// Opens the library and resolves its entry points with `resolve` (one of the `ccuda_resolve_*` loaders).
    /// - Throws: `CUDAError.libraryNotFound`, or `.symbolMissing` naming the first absent entry point.
    func load<API>(environment: [String: String],
                   _ resolve: (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafePointer<API>?>?) -> UnsafePointer<CChar>?)
        throws -> (api: UnsafePointer<API>, path: String)
    {
        let (handle, path) = try open(environment: environment)
        var table: UnsafePointer<API>?
        if let missing = resolve(handle, &table) {
            throw CUDAError.symbolMissing(library: fileNames[0], path: path, symbol: String(cString: missing))
        }
        guard let table else { throw CUDAError.symbolMissing(library: fileNames[0], path: path, symbol: "(table)") }
        return (table, path)
    }

    /// `make()` as a result for a process-wide instance: made once, its error (as a `CUDAError`) kept for every
    /// later caller.
    static func once<T>(_ make: () throws -> T) -> Result<T, CUDAError> {
        do { return .success(try make()) } catch let e as CUDAError {
            return .failure(e)
        } catch {
            return .failure(.invalidArgument("\(error)"))
        }
    }

    /// Opens the first candidate that loads; the handle stays open for the life of the process.
    public func open(environment: [String: String]) throws -> (handle: UnsafeMutableRawPointer, path: String) {
        try Self.open(candidates(environment: environment), library: fileNames[0], hint: hint)
    }

    static func open(_ candidates: [String], library: String, hint: String) throws
        -> (handle: UnsafeMutableRawPointer, path: String)
    {
        var firstError = ""
        for path in candidates {
            // A full path that does not exist is skipped quietly; its dlopen error says nothing useful.
            if path.contains("/"), access(path, F_OK) != 0 { continue }
            if let handle = ccuda_dlopen(path) { return (handle, path) }
            var buffer = [CChar](repeating: 0, count: 512)
            ccuda_last_dl_error(&buffer, buffer.count)
            if firstError.isEmpty || path.contains("/") {
                firstError = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        throw CUDAError.libraryNotFound(
            library: library, tried: candidates, reason: firstError.isEmpty ? "not found" : firstError, hint: hint)
    }
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
        p += 1
    }
    return result
}
