import CCUDA
import Foundation

/// One GPU's share of the one-shot all-reduce of a tensor-parallel group (`allreduce.cu`): its exchange buffer (two
/// halves, alternated by step parity so the next sum never overwrites one a peer is still reading), the flags its
/// peers write, its per-block step counters, and the addresses of every rank's exchange buffer and flags, which
/// its kernels reach through peer access.
public final class CUDAPeerExchange: @unchecked Sendable {
    // @unchecked: immutable after setup; the buffers are only touched by kernels on the owner's stream.
    /// This GPU's rank in the group.
    public let rank: Int
    /// GPUs in the group.
    public let size: Int
    /// Largest sum (bytes) the one-shot path takes; larger ones go through NCCL.
    public let halfBytes: Int
    /// Blocks of one launch at most (the flag rows are this long).
    public let maxBlocks = 32
    let exchange: CUDADeviceBuffer
    let flagBuffer: CUDADeviceBuffer
    let counterBuffer: CUDADeviceBuffer
    /// Every rank's exchange buffer and flags, in rank order (set once the group is made).
    private(set) var exchanges: [CUdeviceptr] = []
    private(set) var flags: [CUdeviceptr] = []
    var counters: CUdeviceptr { counterBuffer.address }

    private init(rank: Int, size: Int, halfBytes: Int, context: CUDAContext, stream: CUDAStream) throws {
        self.rank = rank
        self.size = size
        self.halfBytes = halfBytes
        exchange = try CUDADeviceBuffer(context: context, byteCount: 2 * halfBytes)
        flagBuffer = try CUDADeviceBuffer(context: context, byteCount: 8 * 8 * maxBlocks)
        counterBuffer = try CUDADeviceBuffer(context: context, byteCount: 8 * maxBlocks)
        try flagBuffer.fill(word: 0, on: stream)
        try counterBuffer.fill(word: 0, on: stream)
        try stream.synchronize()
    }

    /// One exchange per GPU (`contexts[i]` with `streams[i]` is rank i) for sums of up to `halfBytes` bytes, or nil
    /// when some pair of GPUs cannot reach each other's memory, the group is larger than the kernel takes, or
    /// `SGLANG_CUSTOM_ALLREDUCE=0` asks for NCCL alone.
    public static func group(contexts: [CUDAContext], streams: [CUDAStream], halfBytes: Int = 512 << 10) throws
        -> [CUDAPeerExchange]?
    {
        guard contexts.count > 1, contexts.count <= 8, contexts.count == streams.count,
              ProcessInfo.processInfo.environment["SGLANG_CUSTOM_ALLREDUCE"] != "0" else { return nil }
        for a in contexts {
            for b in contexts where a !== b {
                guard try a.enablePeerAccess(to: b) else { return nil }
            }
        }
        let members = try contexts.indices.map {
            try CUDAPeerExchange(rank: $0, size: contexts.count, halfBytes: halfBytes, context: contexts[$0],
                                 stream: streams[$0])
        }
        for m in members {
            m.exchanges = members.map(\.exchange.address)
            m.flags = members.map(\.flagBuffer.address)
        }
        try contexts[0].bind()
        return members
    }
}
