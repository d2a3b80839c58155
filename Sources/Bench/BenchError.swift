/// Errors of the benchmarks: bad arguments, unreadable datasets, failed connections.
public enum BenchError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A flag value or combination that cannot work.
    case invalidArgument(String)
    /// A dataset file that is missing or malformed.
    case invalidDataset(String)
    /// An HTTP exchange that failed (connection, status, framing).
    case http(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .invalidDataset(let m): "invalid dataset: \(m)"
        case .http(let m): "HTTP error: \(m)"
        }
    }
}
