/// A failure of the CUDA backend, naming the library, the function and what to do about it.
public enum CUDAError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A shared library could not be opened under any of the names and folders tried.
    case libraryNotFound(library: String, tried: [String], reason: String, hint: String)
    /// The library opened but lacks an entry point we need (too old a version).
    case symbolMissing(library: String, path: String, symbol: String)
    /// A driver API call returned an error.
    case driver(function: String, code: Int32, name: String, message: String)
    /// An NVRTC call returned an error.
    case nvrtc(function: String, code: Int32, message: String)
    /// A kernel source did not compile; `log` is NVRTC's compiler output.
    case compilation(source: String, options: [String], log: String)
    /// A cuBLASLt call returned an error.
    case blas(function: String, status: Int32, message: String)
    /// An NCCL call returned an error.
    case nccl(function: String, code: Int32, message: String)
    /// No CUDA device is visible.
    case noDevice
    /// A caller passed values the operation cannot take.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .libraryNotFound(let library, let tried, let reason, let hint):
            let shown = tried.prefix(8).joined(separator: ", ") + (tried.count > 8 ? ", …" : "")
            return "CUDA: could not load \(library) (\(reason); tried \(shown)). \(hint)"
        case .symbolMissing(let library, let path, let symbol):
            return "CUDA: \(library) at \(path) has no entry point \(symbol); it is too old for this build. "
                + "Install a newer NVIDIA driver / CUDA 12 or 13 libraries, or point SGLANG_CUDA_LIB_DIR at them."
        case .driver(let function, let code, let name, let message):
            return "CUDA driver: \(function) failed with \(name) (\(code)): \(message)"
        case .nvrtc(let function, let code, let message):
            return "NVRTC: \(function) failed (\(code)): \(message)"
        case .compilation(let source, let options, let log):
            return "NVRTC: \(source) did not compile with \(options.joined(separator: " ")):\n\(log)"
        case .blas(let function, let status, let message):
            return "cuBLASLt: \(function) failed with status \(status): \(message)"
        case .nccl(let function, let code, let message):
            return "NCCL: \(function) failed (\(code)): \(message)"
        case .noDevice:
            return "CUDA: no CUDA device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
        case .invalidArgument(let message):
            return "CUDA: \(message)"
        }
    }
}
