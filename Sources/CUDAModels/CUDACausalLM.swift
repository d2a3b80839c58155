import CCUDA
import Compute
import CUDA
import Foundation
import Models

/// A dense decoder-only LM resident on a CUDA device (DESIGN.md §6): weights, activations and the KV cache
/// in device memory (bf16, or fp32 for exact checks), GEMMs on cuBLASLt, every other op one of our NVRTC
/// kernels, decode replayed from CUDA graphs captured per padded batch size.
///
/// It speaks the runtime's `CausalModel` protocol: the scheduler keeps its host `ReqToTokenPool` and the slot
/// allocator of the `TokenToKVPool`; the pool's storage is this model's `CUDAKVCache`, and the table is
/// mirrored on the device (the rows the scheduler wrote copied before each forward, new slots recorded by a kernel).
///
/// With `--tp-size` N > 1 this object is rank 0 of N (DESIGN.md §4): every rank holds its slice of the weights
/// (`TensorParallelShard`) and KV heads on its own GPU, the scheduler talks to rank 0 only, and each forward runs
/// on all ranks at once, the row-parallel projections summed over the GPUs (NCCL, or our one-shot kernel for small
/// sums); rank 0 alone computes the logits.
///
/// `forward` is not reentrant; one lock serializes callers (the scheduler thread in practice).
public final class CUDACausalLM: CausalModel, @unchecked Sendable {
    // @unchecked: weights are immutable; all mutable state (workspace, graphs, staging) is guarded by `lock`
    // (a peer rank's by rank 0's, whose steps drive it).
    /// The decoded config (of the whole model, also on a tensor-parallel rank).
    public let config: ModelConfig
    /// This GPU's slice of the model.
    public let shard: TensorParallelShard
    /// The config of this GPU's slice: its heads and intermediate widths (`config` when not split).
    let local: ModelConfig
    /// The NCCL member of this rank; nil on one GPU.
    let communicator: NCCLCommunicator?
    /// Ranks 1..<N, driven by this one (rank 0); nil on one GPU and on the peers themselves.
    let group: CUDATensorParallelGroup?
    /// How the model runs.
    public let options: CUDAModelOptions
    /// The device context.
    public let context: CUDAContext
    /// Bytes of weights on the device.
    public let weightBytes: Int
    let stream: CUDAStream
    let kernels: CUDAKernels
    let blas: CUBLASLt
    let type: CUDAElementType
    let embedding: CUDADeviceBuffer
    let lmHead: CUDADeviceBuffer
    let finalNorm: CUDADeviceBuffer
    let layers: [CUDADecoderLayer]
    let inverseFrequencies: CUDADeviceBuffer
    let activationCode: Int32
    /// The initialization-time RoPE frequencies (used whenever the length does not call for others).
    let baseFrequencies: RopeFrequencies
    /// The padded decode batch sizes replayed from graphs (empty with `--disable-cuda-graph`).
    let graphBatchSizes: [Int]
    let lock = NSLock()

    // Mutable state, guarded by `lock`.
    var uploadedFrequencies: RopeFrequencies
    var workspace: CUDAWorkspace
    var inputs: CUDAStepInputs
    let logits: CUDAGrowableBuffer
    let partialOut: CUDAGrowableBuffer
    let partialLSE: CUDAGrowableBuffer
    /// Zeroed ints with which the tensor-core decode kernel merges its own splits (left zeroed after each launch).
    let splitCounters: CUDAGrowableBuffer
    /// Zeroed keys and counters of the many-block argmax (left zeroed after each launch).
    let argmaxScratch: CUDAGrowableBuffer
    /// The split sampler's meeting place (`CUDAKernels.sampleScratchBytes`), zeroed when allocated.
    let sampleScratch: CUDAGrowableBuffer
    var hostLogits: CUDAHostBuffer?
    var tableStaging: CUDAHostBuffer?
    /// Per-request settings of device sampling (made on first use).
    var samplingInputs: CUDASamplingInputs?
    /// Overlap scheduling's state between launched decode steps (made by the first `launchDecode`).
    var launchedSteps: CUDALaunchedSteps?
    /// Expert slot offsets read back for the per-expert cuBLASLt path of large batches.
    var moeOffsetsHost: CUDAHostBuffer?
    /// Eager batches with at least this many slots per expert on average run the experts as per-expert cuBLASLt
    /// GEMMs (tensor cores pay off); smaller ones, and every captured decode, use the grouped skinny kernel.
    var moeBLASMinRowsPerExpert = 16 {
        didSet { for peer in group?.peers ?? [] { peer.moeBLASMinRowsPerExpert = moeBLASMinRowsPerExpert } }
    }
    /// This rank's share of the one-shot all-reduce (small sums over NVLink); nil on one GPU, without peer access,
    /// or with `SGLANG_CUSTOM_ALLREDUCE=0` (NCCL then sums everything).
    var peerExchange: CUDAPeerExchange?
    /// The forward a tensor-parallel step staged on this rank, for its launch (set and read by the step alone).
    var stagedPlan: CUDAForwardPlan?
    /// Input-embedding overrides (image features) of the forward being encoded, staged in `overrideStaging`
    /// as runs of consecutive token rows.
    var overrideStaging: CUDAHostBuffer?
    var overrideRuns: [(token: Int, stagingRow: Int, rows: Int)] = []
    var graphs = CUDADecodeGraphs()
    /// Per-op timing of eager forwards (`SGLANG_CUDA_PROFILE`).
    let profiler: CUDAOpProfiler?
    /// Whether `encode` is being captured into a graph (no profiling marks then).
    var capturing = false

    /// Loads `config`'s weights from `weights` onto device `options.deviceOrdinal` — or, with
    /// `options.tensorParallelSize` N > 1, split over devices `deviceOrdinal..<deviceOrdinal + N`; nil `weights`
    /// fills every tensor with seeded uniform values on the device (`--load-format dummy`).
    /// - Throws: `CUDAError` when the driver, NVRTC, cuBLASLt (or for N > 1, NCCL) is missing (naming the library
    ///   and the fix), `CUDAModelError.unsupported` for a model this backend does not run, `ModelError.tensorParallel`
    ///   for a model that does not split over N GPUs, the loaders' errors for tensors.
    public convenience init(config: ModelConfig, weights: (any WeightSource)?,
                            options: CUDAModelOptions = CUDAModelOptions(), seed: UInt64 = 0) throws {
        let size = options.tensorParallelSize
        guard size > 1 else {
            try self.init(config: config, weights: weights, options: options, seed: seed,
                          context: CUDAContext(device: options.deviceOrdinal), shard: .whole, communicator: nil,
                          group: nil)
            return
        }
        try TensorParallelShard(rank: 0, size: size).validate(config)
        let visible = try CUDADevice.count()
        guard options.deviceOrdinal >= 0, options.deviceOrdinal + size <= visible else {
            throw CUDAModelError.unsupported(
                "--tp-size \(size) from GPU \(options.deviceOrdinal) needs GPUs \(options.deviceOrdinal)..<\(options.deviceOrdinal + size); \(visible) visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)")
        }
        let contexts = try (0..<size).map { try CUDAContext(device: options.deviceOrdinal + $0) }
        let communicators = try NCCLCommunicator.clique(contexts)
        let peers = try (1..<size).map {
            try CUDACausalLM(config: config, weights: weights, options: options, seed: seed, context: contexts[$0],
                             shard: TensorParallelShard(rank: $0, size: size), communicator: communicators[$0], group: nil)
        }
        try self.init(config: config, weights: weights, options: options, seed: seed, context: contexts[0],
                      shard: TensorParallelShard(rank: 0, size: size), communicator: communicators[0],
                      group: CUDATensorParallelGroup(peers: peers))
        let ranks = [self] + peers
        if let exchanges = try CUDAPeerExchange.group(contexts: ranks.map(\.context), streams: ranks.map(\.stream)) {
            for (rank, exchange) in zip(ranks, exchanges) { rank.peerExchange = exchange }
        }
    }

    /// Rank `shard.rank`'s slice on `context` (device `options.deviceOrdinal + shard.rank`).
    init(config: ModelConfig, weights: (any WeightSource)?, options: CUDAModelOptions, seed: UInt64,
         context: CUDAContext, shard: TensorParallelShard, communicator: NCCLCommunicator?,
         group: CUDATensorParallelGroup?) throws {
        let local = try shard.localConfig(config)
        try Self.checkSupported(local)
        self.config = config
        self.local = local
        self.shard = shard
        self.communicator = communicator
        self.group = group
        self.options = options
        type = options.dtype
        self.context = context
        stream = try CUDAStream(context: context)
        kernels = try CUDAKernels(context: context)
        blas = try CUBLASLt(context: context)
        // Each rank's dummy weights get their own values.
        var up = CUDAWeightUploader(context: context, kernels: kernels, stream: stream, type: type, source: weights,
                                    seed: seed &+ UInt64(shard.rank) &* 7_919, shard: shard)
        let h = config.hiddenSize
        let embeddingNames = StackedWeightNames(parts: ["model.embed_tokens.weight"], rows: [config.vocabSize], cols: h)
        embedding = try up.matrix(embeddingNames)
        layers = try (0..<config.numHiddenLayers).map {
            try CUDADecoderLayer.load(&up, config: config, local: local, layer: $0)
        }
        finalNorm = try up.vector("model.norm.weight", count: h, dummyCenter: config.traits.normAddsOne ? 0 : 1)
        lmHead = config.tieWordEmbeddings
            ? embedding
            : try up.matrix(StackedWeightNames(parts: ["lm_head.weight"], rows: [config.vocabSize], cols: h))
        weightBytes = up.bytes
        baseFrequencies = config.rope.frequencies()
        uploadedFrequencies = baseFrequencies
        graphBatchSizes = options.disableCUDAGraph ? [] : CUDAModelOptions.graphBatchSizes(upTo: options.cudaGraphMaxBatchSize)
        inverseFrequencies = try CUDADeviceBuffer(context: context, copying: uploadedFrequencies.inverseFrequencies)
        guard let act = CUDAKernels.activationCode(Self.kernelActivationName(config.hiddenActivation)) else {
            throw CUDAModelError.unsupported("activation \(config.hiddenActivation.rawValue)")
        }
        activationCode = act
        workspace = try CUDAWorkspace(context: context, config: local, tokens: max(16, options.initialWorkspaceTokens),
                                      type: type)
        inputs = try CUDAStepInputs(context: context, capacity: max(16, options.initialWorkspaceTokens))
        logits = CUDAGrowableBuffer(context: context)
        partialOut = CUDAGrowableBuffer(context: context)
        partialLSE = CUDAGrowableBuffer(context: context)
        splitCounters = CUDAGrowableBuffer(context: context)
        argmaxScratch = CUDAGrowableBuffer(context: context)
        sampleScratch = CUDAGrowableBuffer(context: context)
        profiler = CUDAOpProfiler.fromEnvironment(context: context)
        try stream.synchronize()
    }

    /// Families and shapes the CUDA path runs; anything else is a clear error before touching the device.
    static func checkSupported(_ config: ModelConfig) throws {
        if let moe = config.moe {
            let (h, inner) = (config.hiddenSize, moe.expertIntermediateSize)
            guard moe.numExperts <= CUDAKernels.moeMaxExperts else {
                throw CUDAModelError.unsupported(
                    "\(moe.numExperts) experts (the routing kernels take up to \(CUDAKernels.moeMaxExperts)); run it with --device cpu")
            }
            guard h % 8 == 0, inner % 8 == 0 else {
                throw CUDAModelError.unsupported(
                    "expert widths \(h)×\(inner) (the grouped GEMM needs multiples of 8); run it with --device cpu")
            }
        }
        let hd = config.headDim
        guard CUDAKernelCatalog.decodeHeadDims.contains(hd), CUDAKernelCatalog.extendHeadDims.contains(hd) else {
            throw CUDAModelError.unsupported(
                "head size \(hd) (kernels exist for \(CUDAKernelCatalog.decodeHeadDims.map(String.init).joined(separator: ", ")))")
        }
        guard config.numAttentionHeads % config.numKeyValueHeads == 0 else {
            throw CUDAModelError.unsupported("\(config.numAttentionHeads) query heads over \(config.numKeyValueHeads) KV heads")
        }
    }

    static func kernelActivationName(_ a: Activation) -> String {
        switch a {
        case .silu: "silu"
        case .geluTanh: "gelu_tanh"
        case .gelu: "gelu"
        }
    }

    /// `cuda:N (device name)`, or `cuda:N-M (device name, tp=K)` over a tensor-parallel group.
    public var deviceName: String {
        guard let group else { return "cuda:\(context.device.ordinal) (\(context.device.name))" }
        let last = context.device.ordinal + group.size - 1
        return "cuda:\(context.device.ordinal)-\(last) (\(context.device.name), tp=\(group.size))"
    }


    /// Greedy tokens are chosen on the GPU (only the ids come back).
    public var selectsOnDevice: Bool { true }

    /// Bytes of one KV slot over every layer on this GPU (its KV heads).
    public var kvBytesPerToken: Int { 2 * local.numHiddenLayers * local.numKeyValueHeads * local.headDim * type.size }

    /// SGLang's rule: `rest = free − total·(1 − fraction)` after the weights and workspace, in KV slots (the
    /// fewest any GPU of the group holds).
    public func kvCapacity(memFractionStatic fraction: Double) throws -> Int? {
        var slots = Int.max
        for rank in [self] + (group?.peers ?? []) {
            let (free, total) = try rank.context.memoryInfo()
            let rest = Double(free) - Double(total) * (1 - fraction)
            slots = min(slots, max(0, Int(rest) / rank.kvBytesPerToken))
        }
        return slots
    }

    /// A pool of `size` slots whose K/V storage is on this device (on every GPU of the group, each its KV heads).
    public func makeKVPool(size: Int) throws -> TokenToKVPool {
        let slots = max(2, size)
        let caches = try ([self] + (group?.peers ?? [])).map {
            try CUDAKVCache(context: $0.context, slots: slots, layers: local.numHiddenLayers,
                            slotElements: local.numKeyValueHeads * local.headDim, type: type)
        }
        let storage: any AnyObject & Sendable = group == nil ? caches[0] : CUDAKVCacheGroup(caches: caches)
        return TokenToKVPool(size: slots, layerCount: local.numHiddenLayers, kvHeads: local.numKeyValueHeads,
                             headDim: local.headDim, deviceStorage: storage)
    }

    public func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                        logits selection: LogitsSelection) throws -> Logits {
        lock.lock()
        defer { lock.unlock() }
        let rows = try logitRows(batch, selection)
        let vocab = config.vocabSize
        var values: [Float] = []
        // Rows go through the vocabulary projection in chunks, so prompt logprobs of a long prompt do not
        // need a `tokens × vocab` buffer.
        let chunk = max(1, min(rows.count, (256 << 20) / (vocab * 4)))
        var start = 0
        repeat {
            let part = Array(rows[start..<min(rows.count, start + chunk)])
            try run(batch, reqToToken: reqToToken, kvPool: kvPool, rows: part, selection: selection, skipLayers: start > 0)
            try ensureHostLogits(part.count * vocab * 4)
            guard let host = hostLogits else { break }
            try host.copy(fromDevice: logits.address, bytes: part.count * vocab * 4, on: stream)
            try stream.synchronize()
            values.append(contentsOf: UnsafeBufferPointer(start: host.pointer.assumingMemoryBound(to: Float.self),
                                                          count: part.count * vocab))
            start += part.count
        } while start < rows.count
        return Logits(rows: rows.count, vocabSize: vocab, values: values)
    }

    public func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32] {
        lock.lock()
        defer { lock.unlock() }
        let rows = try logitRows(batch, .lastPerRequest)
        try run(batch, reqToToken: reqToToken, kvPool: kvPool, rows: rows, selection: .lastPerRequest, skipLayers: false)
        try argmax(rows: rows.count)
        return try inputs.download(.outIds, count: rows.count, on: stream)
    }

    /// Whether decode draws are made on the device (`CUDAModelOptions.deviceSampling`).
    public var samplesOnDevice: Bool { options.deviceSampling }

    public func forwardSample(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                              sampling: [DeviceSampling?]) throws -> DeviceSampleResult {
        lock.lock()
        defer { lock.unlock() }
        let rows = try logitRows(batch, .lastPerRequest)
        guard sampling.count == rows.count else {
            throw ComputeError.invalidBatch("\(sampling.count) sampling settings for \(rows.count) requests")
        }
        try run(batch, reqToToken: reqToToken, kvPool: kvPool, rows: rows, selection: .lastPerRequest, skipLayers: false)
        let vocab = config.vocabSize
        var ids = [Int32?](repeating: nil, count: rows.count)
        if sampling.contains(where: { $0 != nil }) {
            // Rows the host samples get an argmax the scheduler ignores (and no edits: their logits go back raw).
            let settings = try stageSampling(sampling.map { $0 ?? .argmax })
            try draw(settings, rows: rows.count)
        }
        // The logit rows of the requests the host samples, copied row by row after the draws.
        let hostRows = sampling.indices.filter { sampling[$0] == nil }
        if !hostRows.isEmpty {
            try ensureHostLogits(hostRows.count * vocab * 4)
            guard let host = hostLogits else { return DeviceSampleResult(ids: ids, hostLogits: nil) }
            for (k, r) in hostRows.enumerated() {
                try host.copy(fromDevice: logits.address + CUdeviceptr(r * vocab * 4), offset: k * vocab * 4,
                              bytes: vocab * 4, on: stream)
            }
        }
        let drawn = try inputs.download(.outIds, count: rows.count, on: stream)
        for r in sampling.indices where sampling[r] != nil { ids[r] = drawn[r] }
        var rest: Logits?
        if !hostRows.isEmpty, let host = hostLogits {
            rest = Logits(rows: hostRows.count, vocabSize: vocab, values: Array(UnsafeBufferPointer(
                start: host.pointer.assumingMemoryBound(to: Float.self), count: hostRows.count * vocab)))
        }
        return DeviceSampleResult(ids: ids, hostLogits: rest)
    }

    /// Writes the draw settings of `settings.count` logit rows into the pinned block and queues their uploads.
    func stageSampling(_ settings: [DeviceSampling]) throws -> StagedSampling {
        if (samplingInputs?.capacity ?? 0) < settings.count {
            samplingInputs = try CUDASamplingInputs(context: context, capacity: max(settings.count, inputs.capacity))
        }
        guard let s = samplingInputs else { throw ComputeError.invalidBatch("no sampling inputs") }
        let edits = try s.stage(settings, on: stream)
        return StagedSampling(inputs: s, edits: edits, greedy: settings.allSatisfy(\.isGreedy))
    }

    /// Staged draw settings.
    struct StagedSampling {
        let inputs: CUDASamplingInputs
        let edits: Int
        let greedy: Bool
    }

    /// Draws the first `rows` logit rows by staged settings (logit edits, then argmax or the sampler) into
    /// `inputs`' `outIds`.
    func draw(_ staged: StagedSampling, rows: Int) throws {
        let s = staged.inputs, vocab = config.vocabSize
        if staged.edits > 0 {
            try kernels.logitEdits(logits: logits.address, rowStarts: s.address(.editStarts), edits: s.editsAddress,
                                   temperature: s.address(.editTemperature), rows: rows, vocab: vocab, stream: stream)
        }
        if staged.greedy {
            try argmax(rows: rows)
        } else {
            // Overwrites the sampled rows' logits with their probabilities; host rows stay as they are.
            if try sampleScratch.reserve(CUDAKernels.sampleScratchBytes(rows: rows)) {
                try sampleScratch.buffer?.fill(word: 0, on: stream)
            }
            try kernels.sample(logits: logits.address, temperature: s.address(.temperature), topK: s.address(.topK),
                               topP: s.address(.topP), minP: s.address(.minP), seeds: s.address(.seeds),
                               offsets: s.address(.steps), outIds: inputs.address(.outIds),
                               scratch: sampleScratch.address, rows: rows, vocab: vocab, stream: stream)
        }
    }

    /// The greedy ids of the first `rows` logit rows into `inputs`' `outIds`, many blocks a row.
    func argmax(rows: Int) throws {
        if try argmaxScratch.reserve(CUDAKernels.argmaxScratchBytes(rows: rows)) {
            try argmaxScratch.buffer?.fill(word: 0, on: stream)
        }
        try kernels.argmax(logits: logits.address, outIds: inputs.address(.outIds), scratch: argmaxScratch.address,
                           rows: rows, vocab: local.vocabSize, type: .float32, stream: stream)
    }

    /// The flat token rows whose logits `selection` asks for, checked.
    func logitRows(_ batch: ForwardBatch, _ selection: LogitsSelection) throws -> [Int] {
        switch selection {
        case .all: return Array(0..<batch.tokenCount)
        case .lastPerRequest: return zip(batch.extendStartLoc, batch.extendLens).map { $0 + $1 - 1 }
        case .rows(let picked):
            if let bad = picked.first(where: { $0 < 0 || $0 >= batch.tokenCount }) {
                throw ComputeError.invalidBatch("logits row \(bad) is outside the batch's \(batch.tokenCount) tokens")
            }
            return picked
        }
    }

    func ensureHostLogits(_ bytes: Int) throws {
        if let h = hostLogits, h.byteCount >= bytes { return }
        hostLogits = nil
        hostLogits = try CUDAHostBuffer(context: context, byteCount: bytes)
    }
}
