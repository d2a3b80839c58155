/// Errors of the device model that are about the model or the request, not the driver.
public enum CUDAModelError: Error, CustomStringConvertible, Sendable {
    /// The model or setting has no CUDA path; the message says what to use instead.
    case unsupported(String)
    /// A reference file for `cuda-check-models` is malformed.
    case invalidReference(String)

    public var description: String {
        switch self {
        case .unsupported(let m): return "not supported on CUDA: \(m)"
        case .invalidReference(let m): return "invalid reference: \(m)"
        }
    }
}
