import CCUDA
import CKernelParams
import CUDA
import Models

/// Activation buffers of a forward, sized for `tokens` new tokens; the decode graphs capture their
/// addresses, so the model recaptures after the workspace grows.
final class CUDAWorkspace {
    let tokens: Int
    let hidden: CUDADeviceBuffer
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

/// The per-step metadata of a forward: `Int32` arrays packed in one pinned host block and one device block
/// of the same layout, so a step's inputs go over in a single asynchronous copy.
final class CUDAStepInputs {
    /// The arrays, each `capacity` values.
    enum Field: Int, CaseIterable {
        case inputIds, positions, outLoc, tokenRows, reqPoolIndices, seqLens, prefixLens, extendLens, extendStarts,
             logitRows, outIds
    }

    let capacity: Int
    let host: CUDAHostBuffer
    let device: CUDADeviceBuffer

    init(context: CUDAContext, capacity: Int) throws {
        self.capacity = capacity
        let bytes = Field.allCases.count * capacity * 4
        host = try CUDAHostBuffer(context: context, byteCount: bytes)
        device = try CUDADeviceBuffer(context: context, byteCount: bytes)
    }

    /// Byte offset of `field` in either block.
    func offset(_ field: Field) -> Int { field.rawValue * capacity * 4 }

    /// The device address of `field`.
    func address(_ field: Field) -> CUdeviceptr { device.address + CUdeviceptr(offset(field)) }

    /// The host values of `field`.
    func hostValues(_ field: Field) -> UnsafeMutablePointer<Int32> {
        (host.pointer + offset(field)).assumingMemoryBound(to: Int32.self)
    }

    /// Queues the copy of the first `count` host values of `field` to the device.
    func copyToDevice(_ field: Field, count: Int, on stream: CUDAStream) throws {
        try host.copy(toDevice: address(field), offset: offset(field), bytes: count * 4, on: stream)
    }

    /// Copies the first `count` device values of `field` back, waits, and returns them.
    func download(_ field: Field, count: Int, on stream: CUDAStream) throws -> [Int32] {
        try host.copy(fromDevice: address(field), offset: offset(field), bytes: count * 4, on: stream)
        try stream.synchronize()
        return Array(UnsafeBufferPointer(start: hostValues(field), count: count))
    }

    /// Writes `values` into `field` (at most `capacity`), padding the rest of `count` with `pad`.
    func set(_ field: Field, _ values: some Collection<Int32>, count: Int? = nil, pad: Int32 = 0) {
        let p = hostValues(field)
        var i = 0
        for v in values {
            p[i] = v
            i += 1
        }
        let n = count ?? i
        while i < n {
            p[i] = pad
            i += 1
        }
    }

    /// Queues the copy of the input fields (everything before `outIds`) to the device.
    func upload(on stream: CUDAStream) throws {
        try host.copy(toDevice: device.address, bytes: offset(.outIds), on: stream)
    }
}

/// The per-request settings of `sgl_sample` and `sgl_logit_edits` (seeds and steps as 64-bit words first, then
/// the 32-bit fields, then `capacity + 1` row starts into the edit list), one pinned host block and one device
/// block of the same layout, sent with one copy; the edits themselves in a second pair of blocks that grows.
final class CUDASamplingInputs {
    enum Field: Int, CaseIterable {
        case seeds, steps, temperature, topK, topP, minP, editTemperature, editStarts
    }

    let capacity: Int
    let host: CUDAHostBuffer
    let device: CUDADeviceBuffer
    private let context: CUDAContext
    private var editCapacity = 0
    private var editHost: CUDAHostBuffer?
    private var editDevice: CUDADeviceBuffer?

    init(context: CUDAContext, capacity: Int) throws {
        self.context = context
        self.capacity = capacity
        host = try CUDAHostBuffer(context: context, byteCount: Self.bytes(capacity))
        device = try CUDADeviceBuffer(context: context, byteCount: Self.bytes(capacity))
    }

    static func bytes(_ capacity: Int) -> Int { capacity * (2 * 8 + 6 * 4) + 4 }

    /// Byte offset of `field` in either block.
    func offset(_ field: Field) -> Int {
        field.rawValue <= Field.steps.rawValue ? field.rawValue * capacity * 8 : 2 * capacity * 8 + (field.rawValue - 2) * capacity * 4
    }

    /// The device address of `field`.
    func address(_ field: Field) -> CUdeviceptr { device.address + CUdeviceptr(offset(field)) }

    /// The device address of the staged edits (valid after a `stage` that had some).
    var editsAddress: CUdeviceptr { editDevice?.address ?? 0 }

    /// Writes `settings` (at most `capacity`) into the pinned blocks and queues their copies to the device;
    /// returns the number of logit edits staged.
    func stage(_ settings: [DeviceSampling], on stream: CUDAStream) throws -> Int {
        let n = min(settings.count, capacity)
        let total = settings.prefix(n).reduce(0) { $0 + $1.edits.count }
        if total > editCapacity {
            // Pinned memory is re-registered only when a step needs more than ever before (with headroom).
            let grown = max(total, 2 * editCapacity, 1024)
            editHost = nil
            editDevice = nil
            editHost = try CUDAHostBuffer(context: context, byteCount: grown * MemoryLayout<SGLLogitEdit>.stride)
            editDevice = try CUDADeviceBuffer(context: context, byteCount: grown * MemoryLayout<SGLLogitEdit>.stride)
            editCapacity = grown
        }
        let base = host.pointer
        let seeds = (base + offset(.seeds)).assumingMemoryBound(to: UInt64.self)
        let steps = (base + offset(.steps)).assumingMemoryBound(to: UInt64.self)
        let temperature = (base + offset(.temperature)).assumingMemoryBound(to: Float.self)
        let topK = (base + offset(.topK)).assumingMemoryBound(to: Int32.self)
        let topP = (base + offset(.topP)).assumingMemoryBound(to: Float.self)
        let minP = (base + offset(.minP)).assumingMemoryBound(to: Float.self)
        let editTemperature = (base + offset(.editTemperature)).assumingMemoryBound(to: Float.self)
        let starts = (base + offset(.editStarts)).assumingMemoryBound(to: Int32.self)
        let edits = editHost.map { $0.pointer.assumingMemoryBound(to: SGLLogitEdit.self) }
        var next = 0
        for (i, s) in settings.prefix(n).enumerated() {
            seeds[i] = s.seed
            steps[i] = s.step
            temperature[i] = s.temperature
            topK[i] = s.topK
            topP[i] = s.topP
            minP[i] = s.minP
            editTemperature[i] = s.editTemperature > 0 ? s.editTemperature : 1
            starts[i] = Int32(next)
            if let edits {
                for e in s.edits {
                    edits[next] = SGLLogitEdit(token: e.token, masked: e.masked ? 1 : 0, bias: e.bias, penalty: e.penalty,
                                               repetition: e.repetition)
                    next += 1
                }
            }
        }
        starts[n] = Int32(next)
        try host.copy(toDevice: device.address, bytes: Self.bytes(capacity), on: stream)
        if next > 0, let editHost, let editDevice {
            try editHost.copy(toDevice: editDevice.address, bytes: next * MemoryLayout<SGLLogitEdit>.stride, on: stream)
        }
        return next
    }
}
