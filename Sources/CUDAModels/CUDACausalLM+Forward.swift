import CCUDA
import Compute
import CUDA
import Models

/// The shape of one encoded forward: what the kernels are launched for.
struct CUDAForwardShape {
    /// Token rows (padded to the graph's batch size for a replayed decode).
    var tokens: Int
    /// Requests (padded likewise).
    var batch: Int
    var mode: ForwardMode
    /// Longest new-token run of a request (extend attention's grid).
    var maxExtend: Int
    /// Split-K count of decode attention.
    var splits: Int
    /// Logit rows, and whether they are gathered through `logitRows` (else rows `0..<logitCount` of the
    /// final hidden states, as in decode).
    var logitCount: Int
    var gather: Bool
}

/// A staged forward: the shape to encode, and the graph's batch size when it replays one.
struct CUDAForwardPlan {
    var graphBatch: Int?
    var shape: CUDAForwardShape
}

/// The host side of a forward, prepared once on the scheduler's thread and read by every rank's device side.
struct CUDAHostStep: @unchecked Sendable {
    // @unchecked: `pool` is only read while the ranks run (the scheduler waits for the step).
    let batch: ForwardBatch
    /// Logit rows (rank 0 computes them).
    let rows: [Int]
    let selection: LogitsSelection
    /// What the scheduler wrote into the host table since the last forward, to copy to every device table.
    let written: [(row: Int, positions: Range<Int>)]
    let pool: ReqToTokenPool
}

extension CUDACausalLM {
    var blasType: CUBLASLt.DataType { type == .bfloat16 ? .bfloat16 : .float32 }

    /// Runs `batch` and leaves fp32 logits of `rows` in `logits` (rows in order). With `skipLayers` only the
    /// vocabulary projection of `rows` runs, over the final hidden states of the previous call. Under tensor
    /// parallelism the host side is done here once and every rank runs the device side at the same time.
    /// `beforeLaunch` (one GPU only) runs between the step's uploads and its layers.
    func run(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool, rows: [Int],
             selection: LogitsSelection, skipLayers: Bool, beforeLaunch: (() throws -> Void)? = nil) throws {
        try context.bind()
        if skipLayers {
            try head(rows: rows)
            return
        }
        try batch.validate()
        for (i, len) in batch.seqLens.enumerated() where len > reqToToken.maxContext {
            throw ComputeError.invalidBatch("request \(i) reaches \(len) tokens; the context limit is \(reqToToken.maxContext)")
        }
        if let bad = batch.outCacheLoc.first(where: { $0 <= 0 || Int($0) >= kvPool.size }) {
            throw ComputeError.invalidBatch("KV slot \(bad) is outside 1..<\(kvPool.size)")
        }
        let caches = try rankCaches(kvPool)
        let tables = try deviceTables(for: reqToToken)
        try reqToToken.record(batch)
        // The written rows stay pending until every rank has queued their copies: a step that fails before
        // (out of memory growing a buffer) leaves them for the next one.
        let step = CUDAHostStep(batch: batch, rows: rows, selection: selection, written: reqToToken.writtenRanges,
                                pool: reqToToken)
        guard let group, let communicator else {
            let plan = try stage(step, table: tables[0])
            reqToToken.clearWrittenRanges()
            try beforeLaunch?()
            try launch(plan, table: tables[0], cache: caches[0])
            return
        }
        guard beforeLaunch == nil else {
            throw ComputeError.invalidBatch("a step launched ahead runs on one GPU only (tensor parallelism waits for each step)")
        }
        try communicator.exclusively {
            // Everything that can fail for want of memory happens on every rank before any rank queues a
            // collective: a rank that stopped halfway would leave the others waiting in an all-reduce for good.
            try group.run(lead: self, waitForStreams: false) { rank in
                rank.stagedPlan = try rank.stage(step, table: tables[rank.shard.rank])
            }
            reqToToken.clearWrittenRanges()
            try group.run(lead: self, waitForStreams: true) { rank in
                guard let plan = rank.stagedPlan else { return }
                rank.stagedPlan = nil
                try rank.launch(plan, table: tables[rank.shard.rank], cache: caches[rank.shard.rank])
            }
        }
    }

    /// Every rank's K/V storage in `pool` (index = rank).
    func rankCaches(_ pool: TokenToKVPool) throws -> [CUDAKVCache] {
        let ranks = group?.size ?? 1
        let caches: [CUDAKVCache]
        if let group = pool.deviceStorage as? CUDAKVCacheGroup {
            caches = group.caches
        } else if let cache = pool.deviceStorage as? CUDAKVCache {
            caches = [cache]
        } else {
            caches = []
        }
        guard caches.count == ranks, caches.allSatisfy({ $0.keys.count == layers.count }) else {
            throw ComputeError.shapeMismatch("the KV pool was not made by this CUDA model (use its makeKVPool)")
        }
        return caches
    }

    /// The first half of a forward's device side on this rank: grows buffers, then uploads the step's metadata and
    /// the table rows the scheduler wrote. Queues no collective.
    func stage(_ step: CUDAHostStep, table: CUDAReqToTokenTable) throws -> CUDAForwardPlan {
        try context.bind()
        // A step launched ahead may not have sent its pinned staging yet.
        try launchedSteps?.waitForUploads()
        let batch = step.batch, rows = step.rows
        try updateFrequencies(longest: batch.seqLens.max() ?? 0)

        let n = batch.tokenCount
        let isDecode = batch.mode == .decode && batch.extendLens.allSatisfy { $0 == 1 }
        let graphBatch = isDecode && step.selection == .lastPerRequest ? graphBatchSizes.first { $0 >= n } : nil
        let padded = graphBatch ?? n
        try reserve(tokens: max(padded, rows.count, batch.batchSize), logitRows: max(padded, rows.count),
                    decodeBatch: isDecode ? padded : 0, graphs: graphBatch != nil)

        // Per-step metadata into the pinned block; padded rows write no KV (slot -1) and read one position.
        inputs.set(.inputIds, batch.inputIds, count: padded)
        inputs.set(.positions, batch.positions, count: padded)
        inputs.set(.outLoc, batch.outCacheLoc, count: padded, pad: -1)
        var tokenRows: [Int32] = []
        tokenRows.reserveCapacity(n)
        for (r, len) in zip(batch.reqPoolIndices, batch.extendLens) {
            tokenRows.append(contentsOf: repeatElement(r, count: len))
        }
        inputs.set(.tokenRows, tokenRows, count: padded)
        let bs = isDecode ? padded : batch.batchSize
        inputs.set(.reqPoolIndices, batch.reqPoolIndices, count: bs)
        inputs.set(.seqLens, batch.seqLens.map { Int32($0) }, count: bs, pad: 1)
        inputs.set(.prefixLens, batch.prefixLens.map { Int32($0) })
        inputs.set(.extendLens, batch.extendLens.map { Int32($0) })
        inputs.set(.extendStarts, batch.extendStartLoc.map { Int32($0) })
        inputs.set(.logitRows, rows.map { Int32($0) })
        try copyWrittenRows(step.written, from: step.pool, table: table)
        try stageOverrides(batch)
        try inputs.upload(on: stream)
        if let graphBatch {
            let splits = decodeSplits(batch: graphBatch, maxSequence: table.maxContext)
            return CUDAForwardPlan(graphBatch: graphBatch, shape: CUDAForwardShape(
                tokens: graphBatch, batch: graphBatch, mode: .decode, maxExtend: 1, splits: splits, logitCount: graphBatch,
                gather: false))
        }
        let splits = isDecode ? decodeSplits(batch: n, maxSequence: batch.seqLens.max() ?? 1) : 1
        return CUDAForwardPlan(graphBatch: nil, shape: CUDAForwardShape(
            tokens: n, batch: batch.batchSize, mode: isDecode ? .decode : .extend, maxExtend: batch.extendLens.max() ?? 1,
            splits: splits, logitCount: rows.count, gather: true))
    }

    /// The second half: queues the layers of a staged forward on this rank's stream (or replays its graph).
    func launch(_ plan: CUDAForwardPlan, table: CUDAReqToTokenTable, cache: CUDAKVCache) throws {
        try context.bind()
        let shape = plan.shape
        if let graphBatch = plan.graphBatch {
            let key = CUDADecodeGraphs.Binding(table: table.buffer.address,
                                               cache: cache.keys.map(\.address) + cache.values.map(\.address))
            let graph = try graphs.graph(batch: graphBatch, binding: key) {
                capturing = true
                defer { capturing = false }
                return try stream.capture { try encode(shape, table: table, cache: cache) }
            }
            try graph.launch(on: stream)
        } else {
            try encode(shape, table: table, cache: cache)
            try profiler?.finish(on: stream)
        }
    }

    /// Starts timing the op `label` when profiling an eager forward.
    @inline(__always)
    func mark(_ label: String) throws {
        if let profiler, !capturing { try profiler.mark(label, on: stream) }
    }

    /// Split-K count of decode attention for `batch` requests up to `maxSequence` tokens.
    func decodeSplits(batch: Int, maxSequence: Int) -> Int {
        kernels.suggestedSplits(batch: batch, qHeads: local.numAttentionHeads, kvHeads: local.numKeyValueHeads,
                                maxSequence: maxSequence,
                                tensorCoreHeadDim: CUDAKernels.tensorCoreDecode(type: type, headDim: local.headDim)
                                    ? local.headDim : nil)
    }

    /// Queues every kernel of one forward on the stream (also the body of a graph capture: no allocation, no
    /// synchronization, no host reads of device data in here).
    func encode(_ s: CUDAForwardShape, table: CUDAReqToTokenTable, cache: CUDAKVCache) throws {
        let ws = workspace
        let h = local.hiddenSize, hd = local.headDim
        let qHeads = local.numAttentionHeads, kvHeads = local.numKeyValueHeads
        let qkvWidth = (qHeads + 2 * kvHeads) * hd
        let eps = Float(local.rmsNormEps)
        let addOne = local.traits.normAddsOne
        let t = s.tokens
        try mark("record+embedding")
        try kernels.recordSlots(
            reqToToken: table.buffer.address, stride: table.maxContext, tokenRows: inputs.address(.tokenRows),
            positions: inputs.address(.positions), outLoc: inputs.address(.outLoc), tokens: t, stream: stream)
        var scale = local.embeddingScale.map { Float($0) }
        // transformers multiplies by the normalizer as a tensor of the model's dtype.
        if type == .bfloat16, let s = scale { scale = BFloat16Conversion.round(s) }
        try kernels.embedding(out: ws.hidden.address, table: embedding.address, ids: inputs.address(.inputIds), tokens: t,
                              dim: h, vocab: local.vocabSize, scale: scale, type: type, stream: stream)
        for run in overrideRuns {
            let rowBytes = h * type.size
            try overrideStaging?.copy(toDevice: ws.hidden.address + CUdeviceptr(run.token * rowBytes),
                                      offset: run.stagingRow * rowBytes, bytes: run.rows * rowBytes, on: stream)
        }
        let attentionScale = Float(local.attentionScale)
        let softcap = local.attentionLogitSoftcap.map { Float($0) }
        // With fused norms (one bf16 row; `SGLANG_FUSED_NORM=0` turns them off) a residual add + RMSNorm runs inside the skinny
        // GEMM that reads it, and the residual moves between two buffers (that GEMM's blocks all read the old one).
        let fuse = CUDAKernels.fusedNorm && type == .bfloat16 && CUDAKernels.gemvServes(rows: t, k: h, type: type)
        var residual = ws.hidden, spare = ws.hiddenSpare
        let rotHalf = uploadedFrequencies.inverseFrequencies.count
        for (i, layer) in layers.enumerated() {
            // The QKV GEMM also rotates and stores K/V when nothing comes between (no q/k norms) and the rotary
            // covers whole heads.
            let fuseRope = fuse && layer.qNorm == nil && 2 * rotHalf == hd
            if fuse {
                try mark(fuseRope ? "norm+qkv proj+rope+kv store" : "norm+qkv proj")
                let rope = fuseRope ? CUDAKernels.GemvRope(
                    positions: inputs.address(.positions), outLoc: inputs.address(.outLoc),
                    inverseFrequencies: inverseFrequencies.address, kCache: cache.keys[i].address,
                    vCache: cache.values[i].address, qHeads: qHeads, kvHeads: kvHeads, headDim: hd,
                    attentionFactor: Float(uploadedFrequencies.attentionFactor)) : nil
                try kernels.gemvNorm(
                    residual: residual.address, delta: i == 0 ? nil : ws.delta.address, residualOut: spare.address,
                    normWeight: layer.inputNorm.address, eps: eps, addOne: addOne, w: layer.qkv.address, y: ws.qkv.address,
                    bias: layer.qkvBias?.address, n: qkvWidth, k: h, rope: rope, stream: stream)
                swap(&residual, &spare)
            } else {
                try mark("norms")
                try kernels.addRMSNorm(residual: residual.address, delta: i == 0 ? nil : ws.delta.address,
                                       weight: layer.inputNorm.address, out: ws.normed.address, rows: t, dim: h, eps: eps,
                                       addOne: addOne, type: type, stream: stream)
                try mark("qkv proj")
                try linear(ws.normed, layer.qkv, layer.qkvBias, ws.qkv, rows: t, out: qkvWidth, inner: h)
            }
            if !fuseRope {
                try mark("rope+kv store")
                if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                    try kernels.headRMSNorm(ws.qkv.address, weight: qNorm.address, tokens: t, heads: qHeads, headDim: hd,
                                            stride: qkvWidth, offset: 0, eps: eps, type: type, stream: stream)
                    try kernels.headRMSNorm(ws.qkv.address, weight: kNorm.address, tokens: t, heads: kvHeads, headDim: hd,
                                            stride: qkvWidth, offset: qHeads * hd, eps: eps, type: type, stream: stream)
                }
                try kernels.ropeStoreKV(
                    qkv: ws.qkv.address, kCache: cache.keys[i].address, vCache: cache.values[i].address,
                    positions: inputs.address(.positions), outLoc: inputs.address(.outLoc),
                    inverseFrequencies: inverseFrequencies.address, rotaryHalf: rotHalf,
                    attentionFactor: Float(uploadedFrequencies.attentionFactor), tokens: t, qHeads: qHeads,
                    kvHeads: kvHeads, headDim: hd, type: type, stream: stream)
            }
            try mark("attention")
            if s.mode == .decode {
                try kernels.decodeAttention(
                    q: ws.qkv.address, qStride: qkvWidth, kCache: cache.keys[i].address, vCache: cache.values[i].address,
                    reqToToken: table.buffer.address, reqToTokenStride: table.maxContext,
                    reqPoolIndices: inputs.address(.reqPoolIndices), seqLens: inputs.address(.seqLens),
                    out: ws.attention.address, partialOut: partialOut.address, partialLSE: partialLSE.address,
                    batch: s.batch, qHeads: qHeads, kvHeads: kvHeads, headDim: hd, splits: s.splits, scale: attentionScale,
                    softcap: softcap, window: layer.window, type: type,
                    splitCounters: CUDAKernels.decodeFusedMerge ? splitCounters.address : nil, stream: stream)
            } else {
                try kernels.extendAttention(
                    q: ws.qkv.address, qStride: qkvWidth, kCache: cache.keys[i].address, vCache: cache.values[i].address,
                    out: ws.attention.address, outStride: qHeads * hd, reqToToken: table.buffer.address,
                    reqToTokenStride: table.maxContext, reqPoolIndices: inputs.address(.reqPoolIndices),
                    prefixLens: inputs.address(.prefixLens), extendLens: inputs.address(.extendLens),
                    extendStarts: inputs.address(.extendStarts), batch: s.batch, maxExtend: s.maxExtend, qHeads: qHeads,
                    kvHeads: kvHeads, headDim: hd, scale: attentionScale, softcap: softcap, window: layer.window, type: type,
                    stream: stream)
            }
            try mark("o proj")
            try linear(ws.attention, layer.output, layer.outputBias, ws.delta, rows: t, out: h, inner: qHeads * hd)
            try sumOverGroup(ws.delta, rows: t)
            if fuse, layer.preFeedForwardNorm == nil, case .dense(let mlp) = layer.feedForward {
                try mark("norm+gate-up proj+activation")
                try kernels.gemvNorm(
                    residual: residual.address, delta: ws.delta.address, residualOut: spare.address,
                    normWeight: layer.postAttentionNorm.address, eps: eps, addOne: addOne, w: mlp.gateUp.address,
                    y: ws.gateUp.address, bias: mlp.gateUpBias?.address, n: 2 * mlp.inner, k: h,
                    activated: ws.activated.address, activation: activationCode, stream: stream)
                swap(&residual, &spare)
                try downProjection(mlp, output: ws.delta, rows: t)
            } else {
                try mark("norms")
                if let preFF = layer.preFeedForwardNorm {
                    // Gemma 2: normalize the attention output, then add it and normalize for the MLP.
                    try kernels.addRMSNorm(residual: ws.delta.address, delta: nil, weight: layer.postAttentionNorm.address,
                                           out: ws.delta.address, rows: t, dim: h, eps: eps, addOne: addOne, type: type,
                                           stream: stream)
                    try kernels.addRMSNorm(residual: residual.address, delta: ws.delta.address, weight: preFF.address,
                                           out: ws.normed.address, rows: t, dim: h, eps: eps, addOne: addOne, type: type,
                                           stream: stream)
                } else {
                    try kernels.addRMSNorm(residual: residual.address, delta: ws.delta.address,
                                           weight: layer.postAttentionNorm.address, out: ws.normed.address, rows: t, dim: h,
                                           eps: eps, addOne: addOne, type: type, stream: stream)
                }
                switch layer.feedForward {
                case .dense(let mlp): try gatedMLP(mlp, input: ws.normed, output: ws.delta, rows: t)
                case .moe(let moe): try mixtureOfExperts(moe, tokens: t)
                }
            }
            try sumOverGroup(ws.delta, rows: t)
            try mark("norms")
            if let postFF = layer.postFeedForwardNorm {
                try kernels.addRMSNorm(residual: ws.delta.address, delta: nil, weight: postFF.address, out: ws.delta.address,
                                       rows: t, dim: h, eps: eps, addOne: addOne, type: type, stream: stream)
            }
        }
        // Only rank 0 computes logits.
        guard shard.rank == 0 else { return }
        try mark("final norm+lm head")
        // The last residual add folds into the final norm, over every row (cheap next to the layers).
        try kernels.addRMSNorm(residual: residual.address, delta: ws.delta.address, weight: finalNorm.address,
                               out: ws.normed.address, rows: t, dim: h, eps: eps, addOne: addOne, type: type, stream: stream)
        if s.gather {
            try kernels.gatherRows(src: ws.normed.address, out: ws.delta.address, indices: inputs.address(.logitRows),
                                   count: s.logitCount, dim: h, type: type, stream: stream)
            try projectVocabulary(ws.delta, rows: s.logitCount)
        } else {
            try projectVocabulary(ws.normed, rows: s.logitCount)
        }
    }

    /// Sums this rank's partial `rows × hidden` output of a row-parallel projection over the tensor-parallel group,
    /// in place (nothing on one GPU). Sums up to `CUDAPeerExchange.halfBytes` go through our one-shot kernel (peer
    /// access), larger ones through NCCL.
    func sumOverGroup(_ buffer: CUDADeviceBuffer, rows: Int) throws {
        guard let communicator else { return }
        try mark("all-reduce")
        let count = rows * local.hiddenSize
        if let exchange = peerExchange, count * type.size <= exchange.halfBytes, (count * type.size) % 16 == 0 {
            try kernels.allReduce(buffer.address, count: count, exchange: exchange, type: type, stream: stream)
        } else {
            try communicator.allReduceSum(buffer.address, count: count, type: type, stream: stream)
        }
    }

    /// `output = down(act(gate(x)) · up(x))` for `rows` rows (through the workspace's gate/up buffers).
    func gatedMLP(_ mlp: CUDAGatedMLP, input: CUDADeviceBuffer, output: CUDADeviceBuffer, rows: Int) throws {
        let ws = workspace, h = local.hiddenSize
        try mark("gate-up proj")
        try linear(input, mlp.gateUp, mlp.gateUpBias, ws.gateUp, rows: rows, out: 2 * mlp.inner, inner: h)
        try mark("activation")
        try kernels.gatedActivation(gateUp: ws.gateUp.address, out: ws.activated.address, tokens: rows, inner: mlp.inner,
                                    activation: activationCode, type: type, stream: stream)
        try downProjection(mlp, output: output, rows: rows)
    }

    /// `output = down(activated)`: the last GEMM of a gated MLP, over the workspace's activation buffer.
    func downProjection(_ mlp: CUDAGatedMLP, output: CUDADeviceBuffer, rows: Int) throws {
        try mark("down proj")
        try linear(workspace.activated, mlp.down, mlp.downBias, output, rows: rows, out: local.hiddenSize, inner: mlp.inner)
    }

    /// `delta = moe(normed)`: router GEMM (fp32 logits; the shared expert's gate is its last live row), top-k
    /// routing, grouping by expert, the experts' gate/up → activation → down, and the weighted combine.
    func mixtureOfExperts(_ m: CUDAMoE, tokens t: Int) throws {
        let ws = workspace, h = local.hiddenSize
        guard let mw = ws.moe else { throw CUDAModelError.unsupported("a mixture-of-experts layer without MoE buffers") }
        let slots = t * m.topK
        try mark("moe route")
        if CUDAKernels.gemvServes(rows: t, k: h, type: type) {
            try kernels.gemv(x: ws.normed.address, w: m.router.address, y: mw.routerLogits.address, bias: nil, rows: t,
                             n: m.routerRows, k: h, type: type, outputFloat32: true, stream: stream)
        } else {
            try blas.matmul(x: ws.normed.address, w: m.router.address, y: mw.routerLogits.address, m: t, n: m.routerRows,
                            k: h, input: blasType, output: .float32, stream: stream)
        }
        try kernels.moeRoute(logits: mw.routerLogits.address, stride: m.routerRows, topkIds: mw.topkIds.address,
                             topkWeights: mw.topkWeights.address, tokens: t, experts: m.experts, topK: m.topK,
                             normalize: m.normalize, stream: stream)
        try kernels.moeAlign(topkIds: mw.topkIds.address, offsets: mw.offsets.address, slotRows: mw.slotRows.address,
                             pairSlots: mw.pairSlots.address, pairs: slots, experts: m.experts, topK: m.topK,
                             stream: stream)
        try mark("moe experts")
        // Enough rows per expert for tensor cores to pay: read the offsets back (eager only) and run one cuBLASLt
        // GEMM per expert over its contiguous slots. Otherwise the grouped skinny kernel, sized on the device.
        if !capturing && slots / m.experts >= moeBLASMinRowsPerExpert {
            try expertsWithBLAS(m, mw, slots: slots)
        } else {
            try kernels.moeGemm(x: ws.normed.address, xRows: mw.slotRows.address, w: m.gateUp.address,
                                y: mw.gateUp.address, offsets: mw.offsets.address, experts: m.experts, n: 2 * m.inner, k: h,
                                type: type, stream: stream)
            try kernels.gatedActivation(gateUp: mw.gateUp.address, out: mw.activated.address, tokens: slots, inner: m.inner,
                                        activation: activationCode, type: type, stream: stream)
            try kernels.moeGemm(x: mw.activated.address, xRows: nil, w: m.down.address, y: mw.expertOut.address,
                                offsets: mw.offsets.address, experts: m.experts, n: h, k: m.inner, type: type, stream: stream)
        }
        if let shared = m.shared, let out = mw.sharedOut {
            try gatedMLP(shared, input: ws.normed, output: out, rows: t)
        }
        try mark("moe combine")
        let sharedGate = m.shared == nil ? nil : mw.routerLogits.address + CUdeviceptr(m.experts * 4)
        try kernels.moeCombine(expertOut: mw.expertOut.address, pairSlots: mw.pairSlots.address,
                               topkWeights: mw.topkWeights.address, sharedOut: m.shared == nil ? nil : mw.sharedOut?.address,
                               sharedGate: sharedGate, gateStride: m.routerRows, out: ws.delta.address, tokens: t, dim: h,
                               topK: m.topK, type: type, stream: stream)
    }

    /// The experts of a large batch as one cuBLASLt GEMM per expert over its slots (gathered into slot order).
    func expertsWithBLAS(_ m: CUDAMoE, _ mw: CUDAMoEWorkspace, slots: Int) throws {
        let h = local.hiddenSize, size = type.size
        let bytes = (m.experts + 1) * 4
        if (moeOffsetsHost?.byteCount ?? 0) < bytes { moeOffsetsHost = try CUDAHostBuffer(context: context, byteCount: bytes) }
        guard let host = moeOffsetsHost else { return }
        try host.copy(fromDevice: mw.offsets.address, bytes: bytes, on: stream)
        try kernels.gatherRows(src: workspace.normed.address, out: mw.gathered.address, indices: mw.slotRows.address,
                               count: slots, dim: h, type: type, stream: stream)
        try stream.synchronize()
        let offsets = Array(UnsafeBufferPointer(start: host.pointer.assumingMemoryBound(to: Int32.self), count: m.experts + 1))
        func each(_ body: (_ expert: Int, _ start: Int, _ rows: Int) throws -> Void) throws {
            for e in 0..<m.experts where offsets[e + 1] > offsets[e] {
                try body(e, Int(offsets[e]), Int(offsets[e + 1] - offsets[e]))
            }
        }
        let gateUpWidth = 2 * m.inner
        try each { e, start, rows in
            try blas.matmul(x: mw.gathered.address + CUdeviceptr(start * h * size),
                            w: m.gateUp.address + CUdeviceptr(e * gateUpWidth * h * size),
                            y: mw.gateUp.address + CUdeviceptr(start * gateUpWidth * size), m: rows, n: gateUpWidth, k: h,
                            input: blasType, output: blasType, stream: stream)
        }
        try kernels.gatedActivation(gateUp: mw.gateUp.address, out: mw.activated.address, tokens: slots, inner: m.inner,
                                    activation: activationCode, type: type, stream: stream)
        try each { e, start, rows in
            try blas.matmul(x: mw.activated.address + CUdeviceptr(start * m.inner * size),
                            w: m.down.address + CUdeviceptr(e * h * m.inner * size),
                            y: mw.expertOut.address + CUdeviceptr(start * h * size), m: rows, n: h, k: m.inner,
                            input: blasType, output: blasType, stream: stream)
        }
    }

    /// `logits[rows, vocab] = x · lm_headᵀ` in fp32, soft-capped where the model caps.
    func projectVocabulary(_ x: CUDADeviceBuffer, rows: Int) throws {
        if CUDAKernels.gemvServes(rows: rows, k: local.hiddenSize, type: type) {
            try kernels.gemv(x: x.address, w: lmHead.address, y: logits.address, bias: nil, rows: rows,
                             n: local.vocabSize, k: local.hiddenSize, type: type, outputFloat32: true, stream: stream)
        } else {
            try blas.matmul(x: x.address, w: lmHead.address, y: logits.address, m: rows, n: local.vocabSize,
                            k: local.hiddenSize, input: blasType, output: .float32, stream: stream)
        }
        if let cap = local.finalLogitSoftcap {
            try kernels.softcap(logits.address, count: rows * local.vocabSize, cap: Float(cap), stream: stream)
        }
    }

    /// The vocabulary projection of more rows of the last forward's final hidden states.
    func head(rows: [Int]) throws {
        try reserve(tokens: rows.count, logitRows: rows.count, decodeBatch: 0, graphs: false)
        inputs.set(.logitRows, rows.map { Int32($0) })
        try inputs.copyToDevice(.logitRows, count: rows.count, on: stream)
        try kernels.gatherRows(src: workspace.normed.address, out: workspace.delta.address,
                               indices: inputs.address(.logitRows), count: rows.count, dim: local.hiddenSize, type: type,
                               stream: stream)
        try projectVocabulary(workspace.delta, rows: rows.count)
    }

    /// `y = x · Wᵀ (+ bias)` for `rows` rows: our skinny GEMM for decode batches of up to 4 rows (cuBLASLt's
    /// kernels read small weight matrices well below copy bandwidth there), cuBLASLt otherwise.
    func linear(_ x: CUDADeviceBuffer, _ w: CUDADeviceBuffer, _ bias: CUDADeviceBuffer?, _ y: CUDADeviceBuffer, rows: Int,
                out: Int, inner: Int) throws {
        if CUDAKernels.gemvServes(rows: rows, k: inner, type: type) {
            try kernels.gemv(x: x.address, w: w.address, y: y.address, bias: bias?.address, rows: rows, n: out, k: inner,
                             type: type, outputFloat32: false, stream: stream)
            return
        }
        try blas.matmul(x: x.address, w: w.address, y: y.address, m: rows, n: out, k: inner, input: blasType,
                        output: blasType, stream: stream)
        if let bias { try kernels.addBias(y.address, bias: bias.address, rows: rows, cols: out, type: type, stream: stream) }
    }

    /// Grows the workspace and staging to `tokens` rows, the logits to `logitRows` rows and the decode-attention
    /// partials to a decode of `decodeBatch` requests; with `graphs`, to what every graph batch size needs, so
    /// replays never see a reallocated buffer. Any reallocation drops the captured graphs.
    func reserve(tokens: Int, logitRows: Int, decodeBatch: Int, graphs forGraphs: Bool) throws {
        let graphSizes = forGraphs ? graphBatchSizes : []
        let graphMax = graphSizes.last ?? 0
        let need = max(tokens, graphMax)
        var changed = false
        if workspace.tokens < need {
            workspace = try CUDAWorkspace(context: context, config: config, tokens: need, type: type)
            changed = true
        }
        if inputs.capacity < need {
            inputs = try CUDAStepInputs(context: context, capacity: need)
            changed = true
        }
        if try logits.reserve(max(logitRows, graphMax) * local.vocabSize * 4) { changed = true }
        // Decode partials: batch × splits rows, at the largest split count any length can ask for.
        var partialRows = decodeBatch * decodeSplits(batch: max(1, decodeBatch), maxSequence: 1 << 20)
        for b in graphSizes { partialRows = max(partialRows, b * decodeSplits(batch: b, maxSequence: 1 << 20)) }
        let qHeads = local.numAttentionHeads
        if try partialOut.reserve(max(1, partialRows) * qHeads * local.headDim * 4) { changed = true }
        if try partialLSE.reserve(max(1, partialRows) * qHeads * 4) { changed = true }
        let counters = CUDAKernels.decodeSplitCounters(batch: max(1, decodeBatch, graphMax), qHeads: qHeads)
        if try splitCounters.reserve(counters * 4) {
            try splitCounters.buffer?.fill(word: 0, on: stream)
            changed = true
        }
        if changed { graphs.removeAll() }
    }

    /// The device mirrors of `pool`'s table on every rank (index = rank), made on first use and attached to the
    /// pool.
    func deviceTables(for pool: ReqToTokenPool) throws -> [CUDAReqToTokenTable] {
        if let group, let set = pool.deviceMirror as? CUDAReqToTokenTableGroup, set.tables.count == group.size,
           set.tables[0].buffer.context === context
        {
            return set.tables
        }
        if group == nil, let t = pool.deviceMirror as? CUDAReqToTokenTable, t.buffer.context === context { return [t] }
        let ranks = [self] + (group?.peers ?? [])
        let tables = try ranks.map { rank in
            let t = try CUDAReqToTokenTable(context: rank.context, maxRequests: pool.maxRequests, maxContext: pool.maxContext)
            try t.buffer.fill(word: 0, on: rank.stream)
            return t
        }
        try context.bind()
        pool.deviceMirror = group == nil ? tables[0] : CUDAReqToTokenTableGroup(tables: tables)
        return tables
    }

    /// Copies what the scheduler wrote into the host table since the last forward (cached prefixes of admitted
    /// requests, and the radix cache's canonical slots that replace a request's own after its prefill — those
    /// slots are freed and handed out again, so a stale mirror would read another token's KV) to the device
    /// table. Every mode: the canonical slots arrive between a prefill and the request's first decode step.
    func copyWrittenRows(_ ranges: [(row: Int, positions: Range<Int>)], from reqToToken: ReqToTokenPool,
                         table: CUDAReqToTokenTable) throws {
        let total = ranges.reduce(0) { $0 + $1.positions.count }
        guard total > 0 else { return }
        if (tableStaging?.byteCount ?? 0) < total * 4 {
            // The previous staging block may still feed a queued copy.
            try stream.synchronize()
            tableStaging = try CUDAHostBuffer(context: context, byteCount: total * 4)
        }
        guard let staging = tableStaging else { return }
        let dst = staging.pointer.assumingMemoryBound(to: Int32.self)
        var offset = 0
        for (row, positions) in ranges {
            let first = row * reqToToken.maxContext + positions.lowerBound
            (dst + offset).update(from: reqToToken.table + first, count: positions.count)
            try staging.copy(toDevice: table.buffer.address + CUdeviceptr((row * table.maxContext + positions.lowerBound) * 4),
                             offset: offset * 4, bytes: positions.count * 4, on: stream)
            offset += positions.count
        }
    }

    /// Stages the batch's input-embedding overrides (in the element type) for `encode` to copy over the
    /// looked-up rows. Decode batches never carry them, so graphs never see these copies.
    func stageOverrides(_ batch: ForwardBatch) throws {
        overrideRuns = []
        guard let o = batch.embeddingOverrides, !o.isEmpty else { return }
        let h = local.hiddenSize
        try o.validate(tokenCount: batch.tokenCount, hiddenSize: h)
        let rows = o.tokenIndices.count
        if (overrideStaging?.byteCount ?? 0) < rows * h * type.size {
            try stream.synchronize()
            overrideStaging = try CUDAHostBuffer(context: context, byteCount: rows * h * type.size)
        }
        guard let staging = overrideStaging else { return }
        o.values.withUnsafeBufferPointer { src in
            switch type {
            case .float32:
                if let base = src.baseAddress { staging.pointer.copyMemory(from: base, byteCount: rows * h * 4) }
            case .bfloat16:
                let dst = staging.pointer.assumingMemoryBound(to: UInt16.self)
                for i in 0..<(rows * h) { dst[i] = BFloat16Conversion.bits(src[i]) }
            }
        }
        for (i, token) in o.tokenIndices.enumerated() {
            if let last = overrideRuns.last, last.token + last.rows == token, last.stagingRow + last.rows == i {
                overrideRuns[overrideRuns.count - 1].rows += 1
            } else {
                overrideRuns.append((token: token, stagingRow: i, rows: 1))
            }
        }
    }

    /// Uploads length-dependent RoPE frequencies (dynamic NTK, LongRoPE) when they change.
    func updateFrequencies(longest: Int) throws {
        let wanted = local.rope.lengthDependentFrequencies(longest: longest) ?? baseFrequencies
        guard wanted != uploadedFrequencies else { return }
        try inverseFrequencies.upload(wanted.inverseFrequencies, on: stream)
        uploadedFrequencies = wanted
        // attention_factor is a launch parameter baked into captured graphs.
        graphs.removeAll()
    }
}
