import CCUDA
import Foundation
import Synchronization

/// NCCL (`libnccl.so.2`), loaded once per process on first use: the collectives of tensor parallelism.
///
/// Only `--tp-size` > 1 opens it; on a machine without it the error names `libnccl.so.2` and how to install it.
public final class NCCL: @unchecked Sendable {
    // @unchecked: the table is immutable after loading; NCCL calls on distinct communicators are thread-safe.
    /// The resolved entry points.
    public let api: UnsafePointer<CCUDANCCLAPI>
    /// Where the library was found.
    public let path: String

    private static let loaded = CUDALibrary.once { try NCCL(environment: processEnvironment()) }

    /// The process-wide library.
    public static func shared() throws -> NCCL { try loaded.get() }

    init(environment: [String: String]) throws {
        let (table, path) = try CUDALibrary.nccl.load(environment: environment, ccuda_resolve_nccl)
        api = table
        self.path = path
    }

    /// NCCL's version code (e.g. 22705 for 2.27.5).
    public var version: Int {
        var v: Int32 = 0
        _ = api.pointee.ncclGetVersion(&v)
        return Int(v)
    }

    /// Throws `CUDAError.nccl` for a non-success result, with NCCL's text (and its last-error detail when known).
    func check(_ result: ncclResult_t, _ function: @autoclosure () -> String, comm: ncclComm_t? = nil) throws {
        guard result != Int32(CNCCL_SUCCESS) else { return }
        var message = api.pointee.ncclGetErrorString(result).map { String(cString: $0) } ?? "NCCL error \(result)"
        if let comm, let last = api.pointee.ncclGetLastError?(comm) {
            let detail = String(cString: last)
            if !detail.isEmpty { message += " (\(detail))" }
        }
        throw CUDAError.nccl(function: function(), code: result, message: message)
    }
}

/// The communicators of a clique made in this process (`ncclCommInitAll`), one per GPU, kept for the life of the
/// process and shared by every tensor-parallel model over the same GPUs: tearing a clique down from one thread
/// does not return (each member's destroy waits for the others), and connecting GPUs anew for each model is slow.
final class NCCLClique: @unchecked Sendable {
    // @unchecked: immutable handles; `steps` serializes the models that share the clique.
    let comms: [ncclComm_t]
    let nccl: NCCL
    /// Held for a whole forward by whichever model uses the clique, so two models' collectives never interleave.
    let steps = NSLock()

    init(comms: [ncclComm_t], nccl: NCCL) {
        self.comms = comms
        self.nccl = nccl
    }

    /// Cliques made so far, by device ordinals.
    static let made = Mutex<[[Int32]: NCCLClique]>([:])
}

/// One GPU's member of a clique of communicators made in this process. Collectives are queued on the caller's
/// stream, so CUDA graphs capture them like kernels.
public final class NCCLCommunicator: @unchecked Sendable {
    // @unchecked: immutable references; each rank's thread is the only one queuing work on it during a step.
    /// This member's rank (its index in the clique).
    public let rank: Int
    /// Members of the clique.
    public let size: Int
    /// The rank's device context.
    public let context: CUDAContext
    let clique: NCCLClique
    var comm: ncclComm_t { clique.comms[rank] }
    var nccl: NCCL { clique.nccl }

    private init(rank: Int, context: CUDAContext, clique: NCCLClique) {
        self.rank = rank
        size = clique.comms.count
        self.context = context
        self.clique = clique
    }

    /// One communicator per context, rank `i` on `contexts[i]`'s device (all devices distinct). The first call
    /// for a set of devices connects them; later calls reuse that clique.
    /// - Throws: `CUDAError.libraryNotFound` without libnccl, `CUDAError.nccl` when NCCL cannot connect them.
    public static func clique(_ contexts: [CUDAContext]) throws -> [NCCLCommunicator] {
        let ordinals = contexts.map { Int32($0.device.ordinal) }
        guard !contexts.isEmpty, Set(ordinals).count == ordinals.count else {
            throw CUDAError.invalidArgument("a communicator clique needs distinct devices, got \(ordinals)")
        }
        let nccl = try NCCL.shared()
        let clique = try NCCLClique.made.withLock { made in
            if let known = made[ordinals] { return known }
            var handles = [ncclComm_t?](repeating: nil, count: contexts.count)
            try nccl.check(nccl.api.pointee.ncclCommInitAll(&handles, Int32(contexts.count), ordinals), "ncclCommInitAll")
            let comms = handles.compactMap { $0 }
            guard comms.count == contexts.count else {
                throw CUDAError.nccl(function: "ncclCommInitAll", code: -1,
                                     message: "\(comms.count) of \(contexts.count) communicators")
            }
            let clique = NCCLClique(comms: comms, nccl: nccl)
            made[ordinals] = clique
            return clique
        }
        // ncclCommInitAll switches the calling thread's current device.
        try contexts[0].bind()
        return contexts.indices.map { NCCLCommunicator(rank: $0, context: contexts[$0], clique: clique) }
    }

    /// Runs `body` while no other model uses this clique (a whole forward of a tensor-parallel model).
    public func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        clique.steps.lock()
        defer { clique.steps.unlock() }
        return try body()
    }

    static func dataType(_ type: CUDAElementType) -> Int32 {
        type == .bfloat16 ? Int32(CNCCL_BFLOAT16) : Int32(CNCCL_FLOAT32)
    }

    /// Sums `count` elements of `buffer` over every rank, in place, queued on `stream`.
    public func allReduceSum(_ buffer: CUdeviceptr, count: Int, type: CUDAElementType, stream: CUDAStream) throws {
        let p = UnsafeMutableRawPointer(bitPattern: UInt(buffer))
        try nccl.check(nccl.api.pointee.ncclAllReduce(p, p, count, Self.dataType(type), Int32(CNCCL_SUM), comm,
                                                      stream.handle), "ncclAllReduce", comm: comm)
    }
}
