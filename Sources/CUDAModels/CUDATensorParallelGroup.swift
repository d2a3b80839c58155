import CUDA
import Dispatch
import Models
import Synchronization

/// The GPUs of a tensor-parallel model besides rank 0 (DESIGN.md §4): rank 0 is the model the scheduler
/// talks to; each step it prepares the host side once, then every rank queues the same forward on its own
/// GPU (its own thread, context and stream) and the row-parallel projections are summed over the GPUs.
final class CUDATensorParallelGroup: @unchecked Sendable {
    // @unchecked: `peers` is immutable; each peer is only touched by its own queue while a step runs, and
    // steps are serialized by rank 0's lock.
    /// Ranks 1..<size, in order.
    let peers: [CUDACausalLM]
    /// One serial queue per peer.
    private let queues: [DispatchQueue]

    init(peers: [CUDACausalLM]) {
        self.peers = peers
        queues = peers.indices.map { DispatchQueue(label: "sglang.tp.rank\($0 + 1)") }
    }

    /// GPUs in the group (rank 0 included).
    var size: Int { peers.count + 1 }

    /// Runs `body` for every peer on its own queue while `lead` (rank 0) runs it on the calling thread, and
    /// returns when all have; the first error (rank order) is rethrown. With `waitForStreams` a peer then waits
    /// for its stream, so an asynchronous kernel error surfaces in the step that caused it.
    func run(lead: CUDACausalLM, waitForStreams: Bool,
             _ body: @escaping @Sendable (CUDACausalLM) throws -> Void) throws {
        let errors = Mutex<[Int: any Error]>([:])
        let group = DispatchGroup()
        for (i, peer) in peers.enumerated() {
            queues[i].async(group: group) {
                do {
                    try body(peer)
                    if waitForStreams { try peer.stream.synchronize() }
                } catch {
                    errors.withLock { $0[i + 1] = error }
                }
            }
        }
        do { try body(lead) } catch { errors.withLock { $0[0] = error } }
        group.wait()
        if let first = errors.withLock({ $0.min { $0.key < $1.key }?.value }) { throw first }
    }
}

/// The KV caches of a tensor-parallel model: each rank holds its KV heads for every slot of the one pool.
final class CUDAKVCacheGroup: @unchecked Sendable {
    // @unchecked: immutable references.
    /// Rank `i`'s cache at index `i`.
    let caches: [CUDAKVCache]

    init(caches: [CUDAKVCache]) { self.caches = caches }
}

/// The device copies of a `ReqToTokenPool`'s table on every rank of a tensor-parallel model.
final class CUDAReqToTokenTableGroup: @unchecked Sendable {
    // @unchecked: immutable references.
    /// Rank `i`'s table at index `i`.
    let tables: [CUDAReqToTokenTable]

    init(tables: [CUDAReqToTokenTable]) { self.tables = tables }
}
