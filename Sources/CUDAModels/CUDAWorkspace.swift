import CCUDA
import CUDA
import Models

/// Activation buffers of a forward, sized for `tokens` new tokens; the decode graphs capture their
/// addresses, so the model recaptures after the workspace grows.
final class CUDAWorkspace {
    let tokens: Int
    let hidden: CUDADeviceBuffer
    /// One more residual row: a fused norm + GEMM writes the residual sum here while its blocks read `hidden`.
    let hiddenSpare: CUDADeviceBuffer
    let normed: CUDADeviceBuffer
    let delta: CUDADeviceBuffer
    let qkv: CUDADeviceBuffer
    let attention: CUDADeviceBuffer
    /// The dense MLP's (or shared expert's) gate/up output and activation.
    let gateUp: CUDADeviceBuffer
    let activated: CUDADeviceBuffer
    /// Mixture-of-experts buffers; nil for a dense model.
    let moe: CUDAMoEWorkspace?

    init(context: CUDAContext, config: ModelConfig, tokens: Int, type: CUDAElementType) throws {
        self.tokens = tokens
        let e = type.size
        let h = config.hiddenSize
        func buffer(_ width: Int) throws -> CUDADeviceBuffer {
            try CUDADeviceBuffer(context: context, byteCount: tokens * width * e)
        }
        hidden = try buffer(h)
        hiddenSpare = try CUDADeviceBuffer(context: context, byteCount: h * e)
        normed = try buffer(h)
        delta = try buffer(h)
        qkv = try buffer((config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim)
        attention = try buffer(config.numAttentionHeads * config.headDim)
        // Dense layers use intermediate_size; MoE layers only their shared expert's width.
        let denseInner = (0..<config.numHiddenLayers).map {
            config.isDenseFeedForward($0) ? config.intermediateSize : config.moe?.sharedExpertIntermediateSize ?? 0
        }.max() ?? 0
        gateUp = try buffer(2 * max(1, denseInner))
        activated = try buffer(max(1, denseInner))
        moe = try config.moe.map { try CUDAMoEWorkspace(context: context, moe: $0, hidden: h, tokens: tokens, type: type) }
    }
}

/// The routing tables and per-slot activations of a mixture-of-experts layer for `tokens` tokens (`tokens ·
/// top_k` slots).
final class CUDAMoEWorkspace {
    /// fp32 router logits `[tokens, routerRows]` (routed experts, then the shared expert's gate).
    let routerLogits: CUDADeviceBuffer
    let topkIds: CUDADeviceBuffer
    let topkWeights: CUDADeviceBuffer
    /// `experts + 1` slot offsets.
    let offsets: CUDADeviceBuffer
    let slotRows: CUDADeviceBuffer
    let pairSlots: CUDADeviceBuffer
    /// Token rows gathered into slot order (the per-expert cuBLASLt path).
    let gathered: CUDADeviceBuffer
    let gateUp: CUDADeviceBuffer
    let activated: CUDADeviceBuffer
    let expertOut: CUDADeviceBuffer
    /// The shared expert's output `[tokens, hidden]`.
    let sharedOut: CUDADeviceBuffer?

    init(context: CUDAContext, moe: MoEConfig, hidden h: Int, tokens: Int, type: CUDAElementType) throws {
        let slots = tokens * moe.numExpertsPerToken, inner = moe.expertIntermediateSize
        func bytes(_ n: Int) throws -> CUDADeviceBuffer { try CUDADeviceBuffer(context: context, byteCount: n) }
        routerLogits = try bytes(tokens * ((moe.numExperts + 1 + 7) / 8 * 8) * 4)
        topkIds = try bytes(slots * 4)
        topkWeights = try bytes(slots * 4)
        offsets = try bytes((moe.numExperts + 1) * 4)
        slotRows = try bytes(slots * 4)
        pairSlots = try bytes(slots * 4)
        gathered = try bytes(slots * h * type.size)
        gateUp = try bytes(slots * 2 * inner * type.size)
        activated = try bytes(slots * inner * type.size)
        expertOut = try bytes(slots * h * type.size)
        sharedOut = moe.sharedExpertIntermediateSize == nil ? nil : try bytes(tokens * h * type.size)
    }
}

/// A growable device buffer (logits, attention partials): reallocated when a larger size is needed.
final class CUDAGrowableBuffer {
    let context: CUDAContext
    private(set) var buffer: CUDADeviceBuffer?

    init(context: CUDAContext) { self.context = context }

    /// A buffer of at least `bytes` bytes (the old contents are not kept). Returns whether it was reallocated.
    @discardableResult
    func reserve(_ bytes: Int) throws -> Bool {
        if let b = buffer, b.byteCount >= bytes { return false }
        buffer = nil
        buffer = try CUDADeviceBuffer(context: context, byteCount: max(bytes, 256))
        return true
    }

    /// The device address (0 before the first `reserve`).
    var address: CUdeviceptr { buffer?.address ?? 0 }
}
