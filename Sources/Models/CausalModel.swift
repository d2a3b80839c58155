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
    /// Whether `forwardSample` draws tokens where the logits are; the scheduler then uses it for every decode
    /// step, giving settings to the requests that need only temperature / top-k / top-p / min-p.
    var samplesOnDevice: Bool { get }
    /// `forward`, then for each request with settings one draw from its last-token logits (only the id comes
    /// back); the last-token logits of the requests without settings come back in order, for the host.
    func forwardSample(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                       sampling: [DeviceSampling?]) throws -> DeviceSampleResult
}

/// What `forwardSample` returns.
public struct DeviceSampleResult: Sendable {
    /// The drawn token of each request that had settings; nil for the others.
    public var ids: [Int32?]
    /// The last-token logits of the requests without settings, in batch order; nil when every one was drawn.
    public var hostLogits: Logits?

    /// A result.
    public init(ids: [Int32?], hostLogits: Logits?) {
        self.ids = ids
        self.hostLogits = hostLogits
    }
}

/// One request's settings for a token drawn on the device: SGLang's filters in order (softmax at
/// `temperature`, top-k, top-p, min-p) and a counter-based random stream, so (seed, step) fixes the draw.
public struct DeviceSampling: Sendable, Hashable {
    /// ≤ 0: the argmax.
    public var temperature: Float
    /// ≤ 0: no top-k cut.
    public var topK: Int32
    /// ≥ 1: no top-p cut.
    public var topP: Float
    /// ≤ 0: no min-p cut.
    public var minP: Float
    /// The request's random stream.
    public var seed: UInt64
    /// The output step the draw is for.
    public var step: UInt64

    /// The argmax (seed and step do not matter).
    public static let argmax = DeviceSampling(temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0)

    /// Settings for one draw.
    public init(temperature: Float, topK: Int32, topP: Float, minP: Float, seed: UInt64, step: UInt64) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
        self.step = step
    }
}

extension CausalModel {
    /// Host models pick tokens on the host.
    public var selectsOnDevice: Bool { false }

    /// Host models sample on the host (the scheduler's `RequestSampler`).
    public var samplesOnDevice: Bool { false }

    /// Host models do not draw tokens themselves; the scheduler never calls this when `samplesOnDevice` is false.
    public func forwardSample(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                              sampling: [DeviceSampling?]) throws -> DeviceSampleResult {
        throw ComputeError.invalidBatch("\(deviceName) samples on the host; use forward and the request samplers")
    }

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
