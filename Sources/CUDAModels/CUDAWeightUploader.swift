import CUDA
import Models

/// Moves checkpoint tensors to the device in the model's element type, or — for `--load-format dummy` —
/// fills device buffers with seeded uniform values without touching host memory. Under tensor parallelism it
/// keeps only this GPU's slice of each split matrix.
struct CUDAWeightUploader {
    typealias Split = TensorParallelShard.Split

    let context: CUDAContext
    let kernels: CUDAKernels
    let stream: CUDAStream
    let type: CUDAElementType
    /// The source of real weights; nil for dummy weights.
    let source: (any WeightSource)?
    /// The dummy weights' seed.
    let seed: UInt64
    /// This GPU's slice of the model.
    let shard: TensorParallelShard
    /// Dummy weights are uniform in ±`dummyRange` (SGLang's dummy loader uses ±1e-3).
    let dummyRange: Float = 1e-3
    /// Counts dummy tensors so each gets its own stream of values.
    private var dummyIndex: UInt64 = 0
    /// Device bytes uploaded so far.
    private(set) var bytes = 0

    init(context: CUDAContext, kernels: CUDAKernels, stream: CUDAStream, type: CUDAElementType,
         source: (any WeightSource)?, seed: UInt64, shard: TensorParallelShard = .whole) {
        self.context = context
        self.kernels = kernels
        self.stream = stream
        self.type = type
        self.source = source
        self.seed = seed
        self.shard = shard
    }

    /// The fused matrix of `names` (this GPU's slice of it under `split`), row-major, then zero rows up to
    /// `paddedRows`. Parts go up one at a time, so a stack of experts never needs its whole fp32 copy in host
    /// memory.
    mutating func matrix(_ names: StackedWeightNames, split: Split = .whole, paddedRows: Int? = nil) throws
        -> CUDADeviceBuffer
    {
        let kept = shard.kept(names, split)
        let localRows = kept.rows.reduce(0) { $0 + $1.count }, cols = kept.columns.count
        let rows = max(paddedRows ?? 0, localRows)
        let buffer = try CUDADeviceBuffer(context: context, byteCount: rows * cols * type.size)
        if rows > localRows { try buffer.fill(word: 0, on: stream) }
        guard let source else {
            try fillDummy(buffer, count: localRows * cols, low: -dummyRange, high: dummyRange)
            return buffer
        }
        var row = 0
        try source.forEachShardedPart(names, split: split, shard: shard) { values in
            try store(values, in: buffer, byteOffset: row * cols * type.size)
            row += values.count / cols
        }
        return buffer
    }

    /// The fused bias of `names` (this GPU's slice under `split`), nil when it has none — and on every rank
    /// but 0 for a row-parallel matrix, whose bias is added once before the group's sum.
    mutating func bias(_ names: StackedWeightNames, split: Split = .whole) throws -> CUDADeviceBuffer? {
        guard names.biases != nil else { return nil }
        guard let source else {
            if case .columns = split, shard.rank != 0 { return nil }
            return try dummy(count: shard.kept(names, split).rows.reduce(0) { $0 + $1.count }, low: -dummyRange,
                             high: dummyRange)
        }
        return try source.shardedBiases(names, split: split, shard: shard).map { try upload($0) }
    }

    /// A vector of `count` values (norm weights; dummy norms are near 1 so activations keep their scale).
    mutating func vector(_ name: String, count: Int, dummyCenter: Float = 1) throws -> CUDADeviceBuffer {
        guard let source else { return try dummy(count: count, low: dummyCenter - dummyRange, high: dummyCenter + dummyRange) }
        return try upload(source.vectorFloats(name, count: count))
    }

    /// `values` converted to the element type, on the device.
    mutating func upload(_ values: [Float]) throws -> CUDADeviceBuffer {
        let buffer = try CUDADeviceBuffer(context: context, byteCount: values.count * type.size)
        try store(values, in: buffer, byteOffset: 0)
        return buffer
    }

    /// Converts `values` to the element type and copies them into `buffer` at `byteOffset` (waits for the copy).
    private mutating func store(_ values: [Float], in buffer: CUDADeviceBuffer, byteOffset: Int) throws {
        bytes += values.count * type.size
        switch type {
        case .float32:
            try buffer.upload(values, byteOffset: byteOffset, on: stream)
        case .bfloat16:
            let bits = [UInt16](unsafeUninitializedCapacity: values.count) { out, n in
                values.withUnsafeBufferPointer { src in
                    for i in src.indices { out[i] = BFloat16Conversion.bits(src[i]) }
                }
                n = values.count
            }
            try buffer.upload(bits, byteOffset: byteOffset, on: stream)
        }
    }

    private mutating func dummy(count: Int, low: Float, high: Float) throws -> CUDADeviceBuffer {
        let buffer = try CUDADeviceBuffer(context: context, byteCount: count * type.size)
        try fillDummy(buffer, count: count, low: low, high: high)
        return buffer
    }

    private mutating func fillDummy(_ buffer: CUDADeviceBuffer, count: Int, low: Float, high: Float) throws {
        dummyIndex += 1
        try kernels.fillUniform(buffer.address, count: count, seed: seed &* 1_000_003 &+ dummyIndex, low: low, high: high,
                                type: type, stream: stream)
        bytes += count * type.size
    }
}

/// One decoder layer's weights on the device.
struct CUDADecoderLayer {
    let qkv: CUDADeviceBuffer
    let qkvBias: CUDADeviceBuffer?
    let output: CUDADeviceBuffer
    let outputBias: CUDADeviceBuffer?
    let qNorm: CUDADeviceBuffer?
    let kNorm: CUDADeviceBuffer?
    let inputNorm: CUDADeviceBuffer
    let postAttentionNorm: CUDADeviceBuffer
    let preFeedForwardNorm: CUDADeviceBuffer?
    let postFeedForwardNorm: CUDADeviceBuffer?
    let feedForward: CUDAFeedForward
    /// Sliding window of this layer (nil: full causal attention).
    let window: Int?

    /// Uploads (this GPU's slice of) layer `layer` of `config`; `local` is the slice's config.
    static func load(_ up: inout CUDAWeightUploader, config: ModelConfig, local: ModelConfig, layer: Int) throws
        -> CUDADecoderLayer
    {
        let names = config.layerWeightNames(layer)
        let h = config.hiddenSize, hd = config.headDim
        // Gemma's norms scale by (1 + w): their dummy weights center on 0.
        let normCenter: Float = config.traits.normAddsOne ? 0 : 1
        let qkvSplit = CUDAWeightUploader.Split.rows(DecoderLayerWeightNames.qkvSegments(config))
        return CUDADecoderLayer(
            qkv: try up.matrix(names.qkv, split: qkvSplit), qkvBias: try up.bias(names.qkv, split: qkvSplit),
            output: try up.matrix(names.output, split: .columns), outputBias: try up.bias(names.output, split: .columns),
            qNorm: try names.qNorm.map { try up.vector($0, count: hd) },
            kNorm: try names.kNorm.map { try up.vector($0, count: hd) },
            inputNorm: try up.vector(names.inputNorm, count: h, dummyCenter: normCenter),
            postAttentionNorm: try up.vector(names.postAttentionNorm, count: h, dummyCenter: normCenter),
            preFeedForwardNorm: try names.preFeedForwardNorm.map { try up.vector($0, count: h, dummyCenter: normCenter) },
            postFeedForwardNorm: try names.postFeedForwardNorm.map { try up.vector($0, count: h, dummyCenter: normCenter) },
            feedForward: try CUDAFeedForward.load(&up, config: config, local: local, layer: layer, names: names),
            window: config.slidingWindow(forLayer: layer))
    }
}

/// A gated MLP's fused gate/up and down projections on the device.
struct CUDAGatedMLP {
    let gateUp: CUDADeviceBuffer
    let gateUpBias: CUDADeviceBuffer?
    let down: CUDADeviceBuffer
    let downBias: CUDADeviceBuffer?
    /// The hidden width between the projections.
    let inner: Int

    /// Loads a gated MLP of width `down.cols` (this GPU's slice of it: whole gate/up rows, down columns).
    static func load(_ up: inout CUDAWeightUploader, gateUp: StackedWeightNames, down: StackedWeightNames) throws
        -> CUDAGatedMLP
    {
        let split = CUDAWeightUploader.Split.rows(DecoderLayerWeightNames.gateUpSegments(inner: down.cols))
        return CUDAGatedMLP(gateUp: try up.matrix(gateUp, split: split), gateUpBias: try up.bias(gateUp, split: split),
                            down: try up.matrix(down, split: .columns), downBias: try up.bias(down, split: .columns),
                            inner: up.shard.keptColumns(down.cols).count)
    }
}

/// A mixture-of-experts block on the device: the router (with the shared expert's gate as an extra row, so
/// one GEMM gives both), every expert's stacked projections, and the optional shared expert.
struct CUDAMoE {
    /// `[routerRows, hidden]`: `experts` router rows, the shared gate row, zero rows up to a multiple of 8.
    let router: CUDADeviceBuffer
    let routerRows: Int
    /// `[experts, 2 · inner, hidden]`.
    let gateUp: CUDADeviceBuffer
    /// `[experts, hidden, inner]`.
    let down: CUDADeviceBuffer
    let shared: CUDAGatedMLP?
    let experts: Int
    let topK: Int
    let inner: Int
    let normalize: Bool

    static func load(_ up: inout CUDAWeightUploader, config: ModelConfig, moe: MoEConfig, names: MoELayerWeightNames)
        throws -> CUDAMoE
    {
        let routerRows = (names.router.totalRows + 7) / 8 * 8
        var shared: CUDAGatedMLP?
        if let gu = names.sharedGateUp, let d = names.sharedDown { shared = try CUDAGatedMLP.load(&up, gateUp: gu, down: d) }
        let inner = moe.expertIntermediateSize
        let gateUpSplit = CUDAWeightUploader.Split.rows(
            DecoderLayerWeightNames.gateUpSegments(inner: inner, experts: moe.numExperts))
        return CUDAMoE(
            router: try up.matrix(names.router, paddedRows: routerRows), routerRows: routerRows,
            gateUp: try up.matrix(names.expertGateUp, split: gateUpSplit),
            down: try up.matrix(names.expertDown, split: .columns), shared: shared,
            experts: moe.numExperts, topK: moe.numExpertsPerToken, inner: up.shard.keptColumns(inner).count,
            normalize: moe.normalizeTopKProbabilities)
    }
}

/// A layer's feed-forward block: a dense gated MLP or a mixture of experts.
enum CUDAFeedForward {
    case dense(CUDAGatedMLP)
    case moe(CUDAMoE)

    static func load(_ up: inout CUDAWeightUploader, config: ModelConfig, local: ModelConfig, layer: Int,
                     names: DecoderLayerWeightNames) throws -> CUDAFeedForward
    {
        if let gateUp = names.gateUp, let down = names.down {
            return .dense(try CUDAGatedMLP.load(&up, gateUp: gateUp, down: down))
        }
        guard let moe = config.moe, let moeNames = config.moeWeightNames(layer) else {
            throw CUDAModelError.unsupported("\(config.family) layer \(layer) has neither a dense MLP nor experts")
        }
        return .moe(try CUDAMoE.load(&up, config: config, moe: moe, names: moeNames))
    }
}
