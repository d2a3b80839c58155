/// Errors of the frontend language and its backends; each names the problem.
public enum SGLangError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A program used the language wrongly (nested roles, an unknown variable, a bad argument, …).
    case invalidProgram(String)
    /// The backend answered with an error (HTTP status and body, or the engine's message).
    case backend(String)
    /// The backend does not support the operation.
    case unsupported(String)
    /// The program's state ended (an earlier expression failed) before the value was produced.
    case programFailed(String)

    public var description: String {
        switch self {
        case .invalidProgram(let m): return "invalid program: \(m)"
        case .backend(let m): return "backend error: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .programFailed(let m): return "the program failed: \(m)"
        }
    }
}
