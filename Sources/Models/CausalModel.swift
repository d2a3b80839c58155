import Compute

/// A decoder-only language model the runtime drives, wherever it runs: `CausalLM` on a host `ComputeBackend`,
/// or a device-resident model (CUDA) that keeps its weights and KV cache in device memory.
///
/// Both share SGLang's paged-KV metadata: the scheduler owns the `ReqToTokenPool` and the slot allocator of the
/// `TokenToKVPool` (whose storage a device model keeps on the device), and hands each step over as a
/// `ForwardBatch`.
public protocol CausalModel: AnyObject, Sendable {
    /// The decoded config.
    var config: ModelConfig { get }
    /// Where the model runs, for logs and server info (`cpu`, `cuda:0 (…)`).
    var deviceName: String { get }
    /// Whether `forwardGreedy` picks tokens where the logits are (a device), so the scheduler should use it
    /// for batches that need nothing but the argmax instead of copying logits to the host.
    var selectsOnDevice: Bool { get }
    /// KV slots that fit in `fraction` of the device's memory left after loading the weights, or nil when
    /// the model runs in host memory (the engine then sizes the cache from RAM).
    func kvCapacity(memFractionStatic fraction: Double) throws -> Int?
    /// A KV pool of `size` slots (slot 0 reserved) for this model.
    func makeKVPool(size: Int) throws -> TokenToKVPool
    /// Runs the batch: records its new KV slots in `reqToToken`, writes every layer's K/V for the new
    /// tokens into `kvPool`, and returns the logits of the selected positions.
    func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                 logits selection: LogitsSelection) throws -> Logits
    /// `forward` followed by the argmax of each request's last-token logits (the first index on ties); a
    /// device model computes it on the device and copies back only the ids.
    func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32]
}

extension CausalModel {
    /// Host models pick tokens on the host.
    public var selectsOnDevice: Bool { false }

    /// `forward` with the logits of each request's last new token.
    public func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> Logits {
        try forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: .lastPerRequest)
    }

    /// The host argmax over `forward`'s logits.
    public func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32] {
        let logits = try forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: .lastPerRequest)
        return (0..<logits.rows).map { Int32(logits.argmax($0)) }
    }
}
