/// Errors of the compute layer: bad shapes handed to a kernel, exhausted KV pools.
public enum ComputeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Sizes that do not fit together; the message names the operand.
    case shapeMismatch(String)
    /// The KV pool has fewer free slots than requested.
    case outOfKVSlots(requested: Int, available: Int)
    /// No free request slot in the request-to-token pool.
    case outOfRequestSlots(capacity: Int)
    /// A batch's metadata is inconsistent (lengths, positions, slots); the message says how.
    case invalidBatch(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .outOfKVSlots(let r, let a): return "KV pool exhausted: requested \(r) slots, \(a) available"
        case .outOfRequestSlots(let c): return "all \(c) request slots are in use"
        case .invalidBatch(let m): return "invalid forward batch: \(m)"
        }
    }
}
