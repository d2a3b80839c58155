import CCUDA
import Foundation
import CKernelParams

/// Every kernel of `CUDAKernelCatalog`, compiled for the context's device (NVRTC, disk-cached) and loaded,
/// with typed launch functions. Device memory is passed as addresses (`CUdeviceptr`); callers keep the
/// buffers alive until the stream has finished with them.
public final class CUDAKernels: @unchecked Sendable {
    // @unchecked: immutable after init.
    /// The owning context.
    public let context: CUDAContext
    /// Kernels by entry-point name.
    public let functions: [String: CUDAFunction]
    /// How many sources came from the disk cache (the rest were compiled).
    public let cachedSources: Int

    /// Compiles (or loads from the cache) and loads every kernel source for `context`'s device.
    public init(context: CUDAContext, compiler: CUDAKernelCompiler? = nil) throws {
        self.context = context
        let compiler = try compiler ?? CUDAKernelCompiler()
        let cc = context.device.computeCapability
        let arch = cc.major * 10 + cc.minor
        var functions: [String: CUDAFunction] = [:]
        var cached = 0
        let pdl = Self.programmaticLaunchAvailable(context)
        for source in CUDAKernelCatalog.sources {
            let image = try compiler.compile(source, architecture: arch)
            if image.fromCache { cached += 1 }
            let module = try CUDAModule(context: context, image: image.bytes)
            for name in source.entryPoints { functions[name] = try module.function(name).programmatic(pdl) }
        }
        self.functions = functions
        cachedSources = cached
    }

    /// Whether kernels launch with programmatic dependent launch (sm_90+, a driver with `cuLaunchKernelEx`;
    /// `SGLANG_ENABLE_PDL=0` turns it off). With the fused norm GEMMs it took an H100's batch-1 decode step from
    /// 5.85 to 5.68 ms: each weight GEMM starts streaming while the kernel before it finishes.
    static func programmaticLaunchAvailable(_ context: CUDAContext) -> Bool {
        let on = processEnvironment()["SGLANG_ENABLE_PDL"].map { $0 != "0" && !$0.isEmpty } ?? true
        return on && context.device.computeCapability.major >= 9 && context.driver.api.pointee.cuLaunchKernelEx != nil
    }

    /// The kernel `name`.
    public func function(_ name: String) throws -> CUDAFunction {
        guard let f = functions[name] else { throw CUDAError.invalidArgument("no kernel named \(name)") }
        return f
    }

    static func blocks(_ n: Int, _ threads: Int, cap: Int = 65_535 * 8) -> Int {
        max(1, min(cap, (n + threads - 1) / threads))
    }

    func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw CUDAError.invalidArgument(message()) }
    }

    /// `out[t, :] = table[ids[t], :] (* scale)`.
    public func embedding(out: CUdeviceptr, table: CUdeviceptr, ids: CUdeviceptr, tokens: Int, dim: Int, vocab: Int,
                          scale: Float?, type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(tokens > 0 && dim > 0 && vocab > 0, "embedding of \(tokens)×\(dim) from \(vocab) rows")
        let p = SGLEmbeddingParams(
            out: out, table: table, ids: ids, tokens: Int32(tokens), dim: Int32(dim), vocab: Int32(vocab),
            scale: scale ?? 1, has_scale: scale == nil ? 0 : 1, pad0: 0)
        try function("sgl_embedding_\(type.rawValue)").launch(
            grid: (tokens, 1, 1), block: (min(256, max(32, dim)), 1, 1), stream: stream, params: p)
    }

    /// `out[i, :] = src[indices[i], :]` (rows of `dim`).
    public func gatherRows(src: CUdeviceptr, out: CUdeviceptr, indices: CUdeviceptr, count: Int, dim: Int,
                           type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(count > 0 && dim > 0, "gather of \(count) rows of \(dim)")
        let p = SGLGatherRowsParams(src: src, out: out, indices: indices, count: Int32(count), dim: Int32(dim))
        try function("sgl_gather_rows_\(type.rawValue)").launch(
            grid: (count, 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Fused `residual += delta` (when `delta` is given) and RMSNorm into `out`.
    public func addRMSNorm(residual: CUdeviceptr, delta: CUdeviceptr?, weight: CUdeviceptr, out: CUdeviceptr, rows: Int,
                           dim: Int, eps: Float, addOne: Bool, type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(rows > 0 && dim > 0, "RMSNorm of \(rows)×\(dim)")
        try require(delta == nil || out != residual, "add+RMSNorm cannot write its output over the residual")
        let p = SGLAddRMSNormParams(
            residual: residual, delta: delta ?? 0, weight: weight, out: out, rows: Int32(rows), dim: Int32(dim), eps: eps,
            add_one: addOne ? 1 : 0)
        // Rows that fit two 16-byte chunks per thread take the kernel's register-resident path.
        let vec = 16 / type.size, chunks = dim / vec
        let threads = dim % vec == 0 && chunks <= 2048
            ? max(32, ((chunks + 1) / 2 + 31) / 32 * 32)
            : min(1024, max(32, ((dim / 4) + 31) / 32 * 32))
        try function("sgl_add_rmsnorm_\(type.rawValue)").launch(
            grid: (rows, 1, 1), block: (threads, 1, 1), stream: stream, params: p)
    }

    /// RoPE of the q and k heads of a fused QKV buffer (in place) and the K/V store at `outLoc`.
    public func ropeStoreKV(qkv: CUdeviceptr, kCache: CUdeviceptr, vCache: CUdeviceptr, positions: CUdeviceptr,
                            outLoc: CUdeviceptr, inverseFrequencies: CUdeviceptr, rotaryHalf: Int, attentionFactor: Float,
                            tokens: Int, qHeads: Int, kvHeads: Int, headDim: Int, type: CUDAElementType,
                            stream: CUDAStream) throws
    {
        try require(tokens > 0 && qHeads > 0 && kvHeads > 0 && headDim > 0, "RoPE of \(tokens) tokens")
        try require(rotaryHalf >= 0 && 2 * rotaryHalf <= headDim, "rotary dimension \(2 * rotaryHalf) > head size \(headDim)")
        let p = SGLRopeStoreKVParams(
            qkv: qkv, k_cache: kCache, v_cache: vCache, positions: positions, out_loc: outLoc,
            inv_freq: inverseFrequencies, tokens: Int32(tokens), q_heads: Int32(qHeads), kv_heads: Int32(kvHeads),
            head_dim: Int32(headDim), rot_half: Int32(rotaryHalf), qkv_stride: Int32((qHeads + 2 * kvHeads) * headDim),
            attention_factor: attentionFactor, pad0: 0)
        let threads = min(128, max(32, (max(rotaryHalf, headDim / 2) + 31) / 32 * 32))
        try function("sgl_rope_store_kv_\(type.rawValue)").launch(
            grid: (tokens, qHeads + kvHeads, 1), block: (threads, 1, 1), stream: stream, params: p)
    }

    /// Activation codes of the kernels.
    public static func activationCode(_ a: String) -> Int32? {
        switch a {
        case "silu": Int32(SGL_ACT_SILU)
        case "gelu_tanh": Int32(SGL_ACT_GELU_TANH)
        case "gelu": Int32(SGL_ACT_GELU)
        default: nil
        }
    }

    /// `out[t, i] = act(gateUp[t, i]) · gateUp[t, inner + i]`; `activation` is `SGL_ACT_*`.
    public func gatedActivation(gateUp: CUdeviceptr, out: CUdeviceptr, tokens: Int, inner: Int, activation: Int32,
                                type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(tokens > 0 && inner > 0, "gated activation of \(tokens)×\(inner)")
        let p = SGLGatedActParams(
            gate_up: gateUp, out: out, tokens: Int32(tokens), inner: Int32(inner), activation: activation, pad0: 0)
        let width = inner % (16 / type.size) == 0 ? inner / (16 / type.size) : inner
        try function("sgl_gated_act_\(type.rawValue)").launch(
            grid: ((width + 255) / 256, min(tokens, 65_535), 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Decode-attention blocks wanted per multiprocessor (`SGLANG_DECODE_BLOCKS_PER_SM`, default 2; more measured slower on an H200): the kernel
    /// streams the KV cache, so enough blocks must be in flight to cover memory latency.
    public static let decodeBlocksPerSM: Int = {
        let env = processEnvironment()["SGLANG_DECODE_BLOCKS_PER_SM"].flatMap { Int($0) }
        return max(1, min(64, env ?? 2))
    }()

    /// Whether bf16 decode attention of head size 64 or 128 runs on tensor cores (`sgl_decode_attention_tc_*`;
    /// measured faster on an H100 at batch 1 and 64); `SGLANG_DECODE_TC=0` keeps the CUDA-core kernel.
    public static let decodeTensorCores: Bool = processEnvironment()["SGLANG_DECODE_TC"] != "0"

    /// Whether `decodeAttention` uses the tensor-core kernel for this element type and head size.
    public static func tensorCoreDecode(type: CUDAElementType, headDim: Int, enabled: Bool = decodeTensorCores) -> Bool {
        enabled && type == .bfloat16 && (headDim == 64 || headDim == 128)
    }

    /// A split count that gives about `decodeBlocksPerSM` blocks per multiprocessor for `batch` requests, each
    /// split covering at least 32 positions (one iteration of a block). For the tensor-core kernel
    /// (`tensorCoreHeadDim`), splits of at least 64 positions (a tile per warp), and the fewest that fill the last
    /// wave of resident blocks to 85 %: 512 blocks at 3 per SM would leave a second wave of 116 lone blocks
    /// (Llama-8B, batch 64 on an H100: 1 split 11.7 ms a step, 2 splits 9.87 ms, 3 / 4 / 6 / 8 splits 9.95 /
    /// 10.01 / 9.99 / 10.12 ms — past 2, the warps of a block get uneven tile counts).
    public func suggestedSplits(batch: Int, qHeads: Int, kvHeads: Int, maxSequence: Int, tensorCoreHeadDim: Int? = nil)
        -> Int
    {
        if let fixed = Self.decodeSplitsOverride { return max(1, min(64, fixed)) }
        let group = max(1, qHeads / max(1, kvHeads))
        if let headDim = tensorCoreHeadDim {
            return Self.tensorCoreSplits(
                blocksPerSplit: batch * kvHeads * ((group + 7) / 8), maxSequence: maxSequence,
                resident: Self.tensorCoreDecodeBlocksPerSM(headDim: headDim) * context.device.multiprocessors)
        }
        let blocksPerSplit = max(1, batch * kvHeads * ((group + 3) / 4))
        let wanted = (Self.decodeBlocksPerSM * context.device.multiprocessors + blocksPerSplit - 1) / blocksPerSplit
        return max(1, min(wanted, 64, (maxSequence + 31) / 32))
    }

    /// The tensor-core kernel's split count: of 1 up to one split per 64 positions (at most 64), the fewest whose
    /// grid fills the last wave of `resident` blocks to 85 %, else the one filling it best.
    static func tensorCoreSplits(blocksPerSplit: Int, maxSequence: Int, resident: Int) -> Int {
        var best = 1, bestFill = 0.0
        for splits in 1...max(1, min(64, (maxSequence + 63) / 64)) {
            let fill = waveFill(blocks: max(1, blocksPerSplit) * splits, resident: Double(max(1, resident)))
            if fill >= 0.85 { return splits }
            if fill > bestFill {
                best = splits
                bestFill = fill
            }
        }
        return best
    }

    /// `SGLANG_DECODE_SPLITS`: a fixed decode-attention split count (1-64), for measurements.
    static let decodeSplitsOverride: Int? = processEnvironment()["SGLANG_DECODE_SPLITS"].flatMap { Int($0) }

    /// Resident tensor-core decode blocks per multiprocessor, as shared memory allows (228 KiB per SM on Hopper,
    /// 1 KiB reserved per block): 3 at head size 128, 6 at 64.
    static func tensorCoreDecodeBlocksPerSM(headDim: Int) -> Int {
        max(1, (228 << 10) / (tensorCoreDecodeSharedBytes(headDim: headDim) + 1024))
    }

    /// Paged decode attention: split-K stage 1 into `partialOut` (`batch·qHeads·splits·headDim` floats) and
    /// `partialLSE` (`batch·qHeads·splits` floats), then the merge into `out` (`batch` rows of `qHeads·headDim`):
    /// by the tensor-core kernel itself when `splitCounters` is given (`decodeSplitCounters` zeroed ints, left
    /// zeroed), else by the merge kernel.
    public func decodeAttention(q: CUdeviceptr, qStride: Int, kCache: CUdeviceptr, vCache: CUdeviceptr,
                                reqToToken: CUdeviceptr, reqToTokenStride: Int, reqPoolIndices: CUdeviceptr,
                                seqLens: CUdeviceptr, out: CUdeviceptr, partialOut: CUdeviceptr, partialLSE: CUdeviceptr,
                                batch: Int, qHeads: Int, kvHeads: Int, headDim: Int, splits: Int, scale: Float,
                                softcap: Float?, window: Int?, type: CUDAElementType, tensorCores: Bool? = nil,
                                splitCounters: CUdeviceptr? = nil, stream: CUDAStream) throws
    {
        try require(batch > 0 && kvHeads > 0 && qHeads % kvHeads == 0, "decode attention: \(qHeads) heads over \(kvHeads) KV heads")
        try require(CUDAKernelCatalog.decodeHeadDims.contains(headDim), "decode attention has no kernel for head size \(headDim)")
        try require(splits > 0 && splits <= 64, "decode attention takes 1-64 splits, not \(splits)")
        let group = qHeads / kvHeads
        let onTensorCores = Self.tensorCoreDecode(type: type, headDim: headDim,
                                                  enabled: tensorCores ?? Self.decodeTensorCores)
        // The tensor-core kernel merges its own splits when it has counters.
        let counters = onTensorCores ? splitCounters ?? 0 : 0
        let p = SGLDecodeAttentionParams(
            q: q, k_cache: kCache, v_cache: vCache, req_to_token: reqToToken, req_pool_indices: reqPoolIndices,
            seq_lens: seqLens, partial_out: partialOut, partial_lse: partialLSE, out: out, split_counters: counters,
            batch: Int32(batch), q_heads: Int32(qHeads), kv_heads: Int32(kvHeads), q_stride: Int32(qStride),
            req_to_token_stride: Int32(reqToTokenStride), num_splits: Int32(splits), scale: scale,
            softcap: softcap ?? 0, window: Int32(window ?? 0), out_stride: Int32(qHeads * headDim))
        if onTensorCores {
            let f = try function("sgl_decode_attention_tc_bf16_hd\(headDim)")
            let shared = Self.tensorCoreDecodeSharedBytes(headDim: headDim)
            if shared > 48 << 10 { try f.setMaxDynamicSharedMemory(shared) }
            try f.launch(grid: (splits, kvHeads * ((group + 7) / 8), batch), block: (128, 1, 1), sharedBytes: shared,
                         stream: stream, params: p)
            if counters != 0 { return }
        } else {
            try function("sgl_decode_attention_\(type.rawValue)_hd\(headDim)").launch(
                grid: (splits, kvHeads * ((group + 3) / 4), batch), block: (128, 1, 1), stream: stream, params: p)
        }
        let c = SGLAttentionCombineParams(
            partial_out: partialOut, partial_lse: partialLSE, out: out, batch: Int32(batch), q_heads: Int32(qHeads),
            head_dim: Int32(headDim), num_splits: Int32(splits), out_stride: Int32(qHeads * headDim), pad0: 0)
        try function("sgl_attention_combine_\(type.rawValue)").launch(
            grid: (qHeads, batch, 1), block: (min(256, headDim), 1, 1), stream: stream, params: c)
    }

    /// `SGLANG_DECODE_FUSED_MERGE=1`: the tensor-core decode kernel merges its own splits (the last block of each
    /// request and KV head to finish; no merge kernel). Opt-in: measured slower than the merge kernel on an H100
    /// (batch 1 / 64: 6.20 / 9.90 ms against 5.65 / 9.78 ms).
    public static let decodeFusedMerge: Bool = processEnvironment()["SGLANG_DECODE_FUSED_MERGE"] == "1"

    /// Split counters the tensor-core decode kernel needs for `batch` requests (one per request, KV head and
    /// block of 8 query heads; at most one per query head).
    public static func decodeSplitCounters(batch: Int, qHeads: Int) -> Int { batch * qHeads }

    /// Dynamic shared memory of the tensor-core decode kernel (`DecodeTCConfig`): four warps, each two stages of
    /// a 16-token K and V tile plus a 16×8 bf16 P tile.
    public static func tensorCoreDecodeSharedBytes(headDim: Int) -> Int { 4 * (4 * 16 * headDim + 128) * 2 }

    /// Sets logits of tokens whose bit is clear in `bitmask` (`rows × ceil(vocab/32)` words) to -inf.
    public func applyBitmask(logits: CUdeviceptr, bitmask: CUdeviceptr, rows: Int, vocab: Int, type: CUDAElementType,
                             stream: CUDAStream) throws
    {
        try require(rows > 0 && vocab > 0, "bitmask of \(rows)×\(vocab)")
        let p = SGLBitmaskParams(logits: logits, bitmask: bitmask, rows: Int32(rows), vocab: Int32(vocab))
        try function("sgl_apply_bitmask_\(type.rawValue)").launch(
            grid: (Self.blocks(rows * vocab, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// `outIds[r] = argmax(logits[r, :])`, several blocks a row; `scratch` (`argmaxScratchBytes`, zeroed before the
    /// first call) is left zeroed.
    public func argmax(logits: CUdeviceptr, outIds: CUdeviceptr, scratch: CUdeviceptr, rows: Int, vocab: Int,
                       type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(rows > 0 && vocab > 0, "argmax of \(rows)×\(vocab)")
        let chunk = Self.argmaxChunk(rows: rows, vocab: vocab, multiprocessors: context.device.multiprocessors)
        let p = SGLArgmaxParams(logits: logits, out_ids: outIds, keys: scratch, counters: scratch + CUdeviceptr(rows * 8),
                                rows: Int32(rows), vocab: Int32(vocab), chunk: Int32(chunk), reserved: 0)
        try function("sgl_argmax_\(type.rawValue)").launch(
            grid: ((vocab + chunk - 1) / chunk, rows, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Bytes of the argmax scratch for `rows` rows (a 64-bit key and a 32-bit counter each), to be zeroed once.
    public static func argmaxScratchBytes(rows: Int) -> Int { rows * 12 }

    /// Logits per argmax block: about eight 256-thread blocks per multiprocessor over all rows (a full SM of threads,
    /// four loads in flight each), a multiple of 1024 (and at least that: four loads for each thread).
    static func argmaxChunk(rows: Int, vocab: Int, multiprocessors: Int) -> Int {
        let blocksPerRow = max(1, (8 * multiprocessors) / max(1, rows))
        let chunk = (vocab + blocksPerRow - 1) / blocksPerRow
        return max(1024, (chunk + 1023) / 1024 * 1024)
    }

    /// Per-row temperature / top-k / top-p / min-p sampling from fp32 logits (see `SGLSamplingParams`); a sampled
    /// row's logits are overwritten with its unnormalized probabilities. `slices` blocks draw each row (default
    /// `sampleSlices`); more than one needs `scratch` (`sampleScratchBytes`, zeroed before the first call; left
    /// zeroed).
    public func sample(logits: CUdeviceptr, temperature: CUdeviceptr, topK: CUdeviceptr, topP: CUdeviceptr,
                       minP: CUdeviceptr, seeds: CUdeviceptr, offsets: CUdeviceptr, outIds: CUdeviceptr,
                       scratch: CUdeviceptr, rows: Int, vocab: Int, slices: Int? = nil, stream: CUDAStream) throws
    {
        try require(rows > 0 && vocab > 0, "sampling of \(rows)×\(vocab)")
        let wanted = slices ?? Self.sampleSlices(rows: rows, vocab: vocab, multiprocessors: context.device.multiprocessors)
        try require(wanted >= 1 && wanted <= 32, "sampling over \(wanted) blocks a row (1-32)")
        let (slice, blocks) = Self.sampleLayout(vocab: vocab, slices: wanted)
        try require(blocks == 1 || scratch != 0, "split sampling without a scratch buffer")
        try require(blocks == 1 || blocks * rows <= context.device.multiprocessors,
                    "\(blocks) sampling blocks for each of \(rows) rows exceed the \(context.device.multiprocessors) multiprocessors")
        let p = SGLSamplingParams(
            logits: logits, temperature: temperature, top_k: topK, top_p: topP, min_p: minP, seeds: seeds,
            offsets: offsets, out_ids: outIds, scratch: blocks == 1 ? 0 : scratch, rows: Int32(rows),
            vocab: Int32(vocab), slice: Int32(slice), reserved: 0)
        try function("sgl_sample").launch(grid: (blocks, rows, 1), block: (1024, 1, 1), stream: stream, params: p)
    }

    /// Blocks that draw each row: as many as keep the whole grid resident at one 1024-thread block per
    /// multiprocessor (the blocks of a row wait for each other), at least 2048 tokens each, at most 32.
    /// `SGLANG_SAMPLE_SPLIT=0` keeps one block a row.
    public static func sampleSlices(rows: Int, vocab: Int, multiprocessors: Int) -> Int {
        guard sampleSplit else { return 1 }
        return max(1, min(32, multiprocessors / max(rows, 1), vocab / 2048))
    }

    /// Tokens per block and blocks per row for `slices` wanted: a multiple of four tokens a slice when split
    /// (16-byte loads), and no empty slice.
    static func sampleLayout(vocab: Int, slices: Int) -> (slice: Int, blocks: Int) {
        let slice = slices <= 1 ? vocab : ((vocab + slices - 1) / slices + 3) / 4 * 4
        return (slice, (vocab + slice - 1) / slice)
    }

    static let sampleSplit: Bool = processEnvironment()["SGLANG_SAMPLE_SPLIT"] != "0"

    /// Bytes of the split sampler's scratch for `rows` rows.
    public static func sampleScratchBytes(rows: Int) -> Int { rows * Int(SGL_SAMPLE_SCRATCH_WORDS) * 4 }

    /// Sparse logit edits in place (see `SGLLogitEditParams`): bias, penalties, stop-id masking and repetition
    /// penalty of the tokens listed for each row, as seen at the row's temperature.
    public func logitEdits(logits: CUdeviceptr, rowStarts: CUdeviceptr, edits: CUdeviceptr, temperature: CUdeviceptr,
                           rows: Int, vocab: Int, stream: CUDAStream) throws
    {
        try require(rows > 0 && vocab > 0, "logit edits of \(rows)×\(vocab)")
        let p = SGLLogitEditParams(logits: logits, row_starts: rowStarts, edits: edits, temperature: temperature,
                                   rows: Int32(rows), vocab: Int32(vocab))
        try function("sgl_logit_edits").launch(grid: (rows, 1, 1), block: (128, 1, 1), stream: stream, params: p)
    }

    /// Dynamic shared memory of the bf16 extend-attention kernel for `headDim` (its `ExtendConfig`: a 64-row
    /// Q tile and two buffers each of K and V tiles of 64 keys, 32 for head size 256).
    public static func extendAttentionSharedBytes(headDim: Int) -> Int {
        let blockN = headDim <= 128 ? 64 : 32
        return (64 + 4 * blockN) * headDim * 2
    }

    /// New tokens per CTA of the extend-attention kernel (bf16: the Q tile; fp32: one warp per token).
    public static func extendAttentionTokensPerBlock(_ type: CUDAElementType) -> Int { type == .bfloat16 ? 64 : 4 }

    /// Paged prefill/extend attention (see `SGLExtendAttentionParams`): the `extendLens[b]` new tokens of each
    /// request (query rows from `extendStarts[b]` of `q`, `qStride` elements apart) attend causally over the
    /// request's `prefixLens[b]` cached keys and the new keys up to their own position, read through
    /// `reqToToken`; the new tokens' K/V must already be in the cache. Per-request arrays are device `Int32`s;
    /// `maxExtend` bounds `extendLens` (it sizes the grid). bf16 runs on tensor cores; fp32 is a simple kernel.
    public func extendAttention(q: CUdeviceptr, qStride: Int, kCache: CUdeviceptr, vCache: CUdeviceptr, out: CUdeviceptr,
                                outStride: Int, reqToToken: CUdeviceptr, reqToTokenStride: Int,
                                reqPoolIndices: CUdeviceptr, prefixLens: CUdeviceptr, extendLens: CUdeviceptr,
                                extendStarts: CUdeviceptr, batch: Int, maxExtend: Int, qHeads: Int, kvHeads: Int,
                                headDim: Int, scale: Float, softcap: Float?, window: Int?, type: CUDAElementType,
                                stream: CUDAStream) throws
    {
        try require(batch > 0 && maxExtend > 0, "extend attention of \(batch) requests of up to \(maxExtend) tokens")
        try require(kvHeads > 0 && qHeads % kvHeads == 0, "extend attention: \(qHeads) heads over \(kvHeads) KV heads")
        try require(CUDAKernelCatalog.extendHeadDims.contains(headDim), "extend attention has no kernel for head size \(headDim)")
        try require(qStride >= qHeads * headDim && outStride >= qHeads * headDim,
                    "extend attention: row strides \(qStride)/\(outStride) below \(qHeads)×\(headDim)")
        // bf16 rows are read 16 bytes at a time and written 4 bytes at a time.
        try require(type == .float32 || (qStride % 8 == 0 && outStride % 2 == 0),
                    "bf16 extend attention needs q rows of a multiple of 8 elements (got \(qStride))")
        try require(window.map { $0 > 0 } ?? true, "sliding window \(window ?? 0) must be positive")
        let p = SGLExtendAttentionParams(
            q: q, k_cache: kCache, v_cache: vCache, out: out, req_to_token: reqToToken, req_pool_indices: reqPoolIndices,
            prefix_lens: prefixLens, extend_lens: extendLens, extend_starts: extendStarts, batch: Int32(batch),
            q_heads: Int32(qHeads), kv_heads: Int32(kvHeads), q_stride: Int32(qStride), out_stride: Int32(outStride),
            req_to_token_stride: Int32(reqToTokenStride), scale: scale, softcap: softcap ?? 0,
            window: Int32(window ?? 0), pad0: 0)
        let perBlock = Self.extendAttentionTokensPerBlock(type)
        let grid = ((maxExtend + perBlock - 1) / perBlock, qHeads, batch)
        let f = try function("sgl_extend_attention_\(type.rawValue)_hd\(headDim)")
        if type == .bfloat16 {
            let shared = Self.extendAttentionSharedBytes(headDim: headDim)
            if shared > 48 << 10 { try f.setMaxDynamicSharedMemory(shared) }
            try f.launch(grid: grid, block: (128, 1, 1), sharedBytes: shared, stream: stream, params: p)
        } else {
            try f.launch(grid: grid, block: (32 * perBlock, 1, 1), stream: stream, params: p)
        }
    }
}
