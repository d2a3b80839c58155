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
    /// Runs the batch as `forward` does and returns the final hidden state (after the last norm, before the
    /// vocabulary projection) of each request's last new token: what embedding models pool (spec §9.3).
    func forwardHidden(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> HiddenStates
    /// `forward` followed by the argmax of each request's last-token logits (the first index on ties); a
    /// device model computes it on the device and copies back only the ids.
    func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32]
    /// Whether `forwardSample` draws tokens where the logits are; the scheduler then uses it for every decode
    /// step, giving settings (filters and sparse logit edits) to every request that needs no logprobs or grammar.
    var samplesOnDevice: Bool { get }
    /// `forward`, then for each request with settings one draw from its last-token logits (only the id comes
    /// back); the last-token logits of the requests without settings come back in order, for the host.
    func forwardSample(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                       sampling: [DeviceSampling?]) throws -> DeviceSampleResult
    /// Whether `launchDecode` queues a step and returns before it ran, so the scheduler can prepare the next step
    /// while the device computes this one (overlap scheduling, spec §7.13).
    var launchesAhead: Bool { get }
    /// Queues a decode step whose every request is drawn on the device, and returns without waiting for it.
    /// Where `carried[i] ≥ 0`, request i's input token is row `carried[i]` of the ids drawn by the previous
    /// `launchDecode` (which the host may not have read yet) instead of `batch.inputIds[i]`. At most two launched
    /// steps are outstanding: read each with `drawnIds` before launching the one after its successor.
    func launchDecode(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                      sampling: [DeviceSampling], carried: [Int32]) throws -> LaunchedDecode
    /// Waits for a launched step and returns the ids it drew, in batch order.
    func drawnIds(_ step: LaunchedDecode) throws -> [Int32]
}

/// A decode step queued by `CausalModel.launchDecode`.
public struct LaunchedDecode: Sendable, Hashable {
    /// The model's count of launched steps when this one was queued (names its result slot).
    public var sequence: Int
    /// Requests in the step.
    public var rows: Int

    /// A handle.
    public init(sequence: Int, rows: Int) {
        self.sequence = sequence
        self.rows = rows
    }
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
    /// Sparse edits of the logits before the draw (distinct tokens): logit bias, penalties, stop-id masking.
    public var edits: [DeviceLogitEdit]
    /// The temperature the edits see (SGLang edits `logits / T`; a greedy request's is 1, or its temperature when
    /// greedy came from top_k = 1).
    public var editTemperature: Float

    /// Whether the draw is the argmax (no positive temperature, or top-k of 1), as the device sampler decides.
    public var isGreedy: Bool { !(temperature > 0) || topK == 1 }

    /// The argmax (seed and step do not matter).
    public static let argmax = DeviceSampling(temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0)

    /// Settings for one draw.
    public init(temperature: Float, topK: Int32, topP: Float, minP: Float, seed: UInt64, step: UInt64,
                edits: [DeviceLogitEdit] = [], editTemperature: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
        self.step = step
        self.edits = edits
        self.editTemperature = editTemperature
    }

    /// Applies `edits` to a row of raw logits in place, as the device does: `x ← T · edit(x / T)`.
    public func applyEdits(to row: UnsafeMutableBufferPointer<Float>) {
        let t = editTemperature, inverse = 1 / editTemperature
        for e in edits where e.token >= 0 && Int(e.token) < row.count {
            row[Int(e.token)] = e.apply(row[Int(e.token)] * inverse) * t
        }
    }
}

/// One sparse edit of a logit for a device draw, in SGLang's order after `logits / T`: `+ bias`, `- penalty`
/// (frequency · count + presence), `-inf` when masked (min_new_tokens stop ids), then the repetition penalty.
public struct DeviceLogitEdit: Sendable, Hashable {
    /// The vocabulary id.
    public var token: Int32
    /// logit_bias.
    public var bias: Float
    /// frequency_penalty · count + presence_penalty.
    public var penalty: Float
    /// Masked to -inf (a stop id before min_new_tokens).
    public var masked: Bool
    /// repetition_penalty (1: none): positive logits divided by it, finite negative ones multiplied.
    public var repetition: Float

    /// An edit of `token` that changes nothing yet.
    public init(token: Int32, bias: Float = 0, penalty: Float = 0, masked: Bool = false, repetition: Float = 1) {
        self.token = token
        self.bias = bias
        self.penalty = penalty
        self.masked = masked
        self.repetition = repetition
    }

    /// The edited value of a logit already divided by the temperature.
    public func apply(_ x: Float) -> Float {
        var v = (x + bias) - penalty
        if masked { v = -.infinity }
        if repetition != 1 {
            if v > 0 {
                v /= repetition
            } else if v > -.infinity {
                v *= repetition
            }
        }
        return v
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

    /// Host models compute a step when asked to: the scheduler never launches ahead on them.
    public var launchesAhead: Bool { false }

    /// Host models have no queue to launch into; the scheduler never calls this when `launchesAhead` is false.
    public func launchDecode(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                             sampling: [DeviceSampling], carried: [Int32]) throws -> LaunchedDecode {
        throw ComputeError.invalidBatch("\(deviceName) runs each step when asked; it cannot launch one ahead")
    }

    /// See `launchDecode`.
    public func drawnIds(_ step: LaunchedDecode) throws -> [Int32] {
        throw ComputeError.invalidBatch("\(deviceName) launched no step ahead")
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
