import CCUDA
import CKernelParams

/// Launchers of the small kernels of a model forward (`model_aux.cu`).
extension CUDAKernels {
    /// `reqToToken[tokenRows[t] · stride + positions[t]] = outLoc[t]` for every new token (`outLoc < 0`: skipped).
    public func recordSlots(reqToToken: CUdeviceptr, stride: Int, tokenRows: CUdeviceptr, positions: CUdeviceptr,
                            outLoc: CUdeviceptr, tokens: Int, stream: CUDAStream) throws
    {
        try require(tokens > 0 && stride > 0, "slot record of \(tokens) tokens")
        let p = SGLRecordSlotsParams(
            req_to_token: reqToToken, token_rows: tokenRows, positions: positions, out_loc: outLoc,
            tokens: Int32(tokens), stride: Int32(stride))
        try function("sgl_record_slots").launch(
            grid: (Self.blocks(tokens, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// `inputIds[i] = previousIds[carried[i]]` for the first `count` ids whose `carried[i]` is in
    /// `0..<previousCount` (overlap scheduling: ids drawn by the step before, which the host has not read yet).
    public func takeCarried(inputIds: CUdeviceptr, carried: CUdeviceptr, previousIds: CUdeviceptr, count: Int,
                            previousCount: Int, stream: CUDAStream) throws
    {
        try require(count > 0 && previousCount >= 0, "carried ids of \(count) rows")
        let p = SGLTakeCarriedParams(input_ids: inputIds, carried: carried, previous_ids: previousIds, count: Int32(count),
                                     previous_count: Int32(previousCount))
        try function("sgl_take_carried").launch(
            grid: (Self.blocks(count, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// `x[r, :] += bias` for `rows` rows of `cols`.
    public func addBias(_ x: CUdeviceptr, bias: CUdeviceptr, rows: Int, cols: Int, type: CUDAElementType,
                        stream: CUDAStream) throws
    {
        try require(rows > 0 && cols > 0, "bias add of \(rows)×\(cols)")
        let p = SGLAddBiasParams(x: x, bias: bias, rows: Int32(rows), cols: Int32(cols))
        try function("sgl_add_bias_\(type.rawValue)").launch(
            grid: (Self.blocks(rows * cols, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Per-head RMSNorm in place of `heads` heads at element `offset` of each `stride`-wide row.
    public func headRMSNorm(_ x: CUdeviceptr, weight: CUdeviceptr, tokens: Int, heads: Int, headDim: Int, stride: Int,
                            offset: Int, eps: Float, type: CUDAElementType, stream: CUDAStream) throws
    {
        try require(tokens > 0 && heads > 0 && headDim > 0, "head RMSNorm of \(tokens)×\(heads)×\(headDim)")
        try require(offset + heads * headDim <= stride, "head RMSNorm: heads end past the row")
        let p = SGLHeadRMSNormParams(
            x: x, weight: weight, tokens: Int32(tokens), heads: Int32(heads), head_dim: Int32(headDim),
            stride: Int32(stride), offset: Int32(offset), eps: eps)
        let warps = tokens * heads
        try function("sgl_head_rmsnorm_\(type.rawValue)").launch(
            grid: ((warps + 7) / 8, 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Largest row count the model sends to the skinny GEMM (measured on an H200: at 2-4 rows cuBLASLt is
    /// faster; the kernel itself serves up to 4).
    public static let gemvMaxRows = 1

    /// Whether the model should use `gemv` for this shape (`rows` ≤ `gemvMaxRows`, `k` a multiple of 16 bytes).
    public static func gemvServes(rows: Int, k: Int, type: CUDAElementType) -> Bool {
        rows >= 1 && rows <= gemvMaxRows && k % (16 / type.size) == 0
    }

    /// Skinny GEMM `y[r, :] = x[r, :] · wᵀ (+ bias)` for 1-4 rows (decode), weights `[n, k]`; `y` is fp32
    /// when `outputFloat32` (logits), else the element type; `split` warps per column (nil: chosen by shape).
    public func gemv(x: CUdeviceptr, w: CUdeviceptr, y: CUdeviceptr, bias: CUdeviceptr?, rows: Int, n: Int, k: Int,
                     type: CUDAElementType, outputFloat32: Bool, split: Int? = nil, stream: CUDAStream) throws
    {
        try require(rows >= 1 && rows <= 4 && k % (16 / type.size) == 0 && n > 0, "GEMV of \(rows)×\(n)×\(k)")
        try require(split.map { [1, 2, 4, 8].contains($0) } ?? true, "GEMV split \(split ?? 0) (1, 2, 4 or 8)")
        let name: String
        switch (type, outputFloat32) {
        case (.float32, _): name = "sgl_gemv_f32_f32"
        case (.bfloat16, true): name = "sgl_gemv_bf16_f32"
        case (.bfloat16, false): name = "sgl_gemv_bf16_bf16"
        }
        let split = split ?? gemvSplit(n: n, k: k)
        let p = SGLGemvParams(x: x, w: w, y: y, bias: bias ?? 0, m: Int32(rows), n: Int32(n), k: Int32(k),
                              ksplit: Int32(split))
        try function(name).launch(grid: ((n * split + 7) / 8, 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// The RoPE + K/V store a fused QKV GEMM applies to its row (see `SGLGemvNormParams`).
    public struct GemvRope {
        public var positions: CUdeviceptr, outLoc: CUdeviceptr, inverseFrequencies: CUdeviceptr
        public var kCache: CUdeviceptr, vCache: CUdeviceptr
        public var qHeads: Int, kvHeads: Int, headDim: Int, attentionFactor: Float

        /// The settings (full rotary: `headDim / 2` frequencies).
        public init(positions: CUdeviceptr, outLoc: CUdeviceptr, inverseFrequencies: CUdeviceptr, kCache: CUdeviceptr,
                    vCache: CUdeviceptr, qHeads: Int, kvHeads: Int, headDim: Int, attentionFactor: Float) {
            self.positions = positions
            self.outLoc = outLoc
            self.inverseFrequencies = inverseFrequencies
            self.kCache = kCache
            self.vCache = vCache
            self.qHeads = qHeads
            self.kvHeads = kvHeads
            self.headDim = headDim
            self.attentionFactor = attentionFactor
        }
    }

    /// Residual add + RMSNorm + skinny GEMM for one bf16 decode row (see `SGLGemvNormParams`): `residualOut =
    /// residual + delta` (a buffer other than `residual`), `y = rmsnorm(residualOut) · wᵀ (+ bias)`; with
    /// `activated` (a gated MLP's `[gate | up]` weights, `n` = 2 · inner) `activated = act(gate) · up` instead of `y`;
    /// with `rope` (a fused QKV) `y`'s q and k heads rotated and the key and value stored in the cache.
    public func gemvNorm(residual: CUdeviceptr, delta: CUdeviceptr?, residualOut: CUdeviceptr, normWeight: CUdeviceptr,
                         eps: Float, addOne: Bool, w: CUdeviceptr, y: CUdeviceptr, bias: CUdeviceptr?, n: Int, k: Int,
                         activated: CUdeviceptr? = nil, activation: Int32 = 0, rope: GemvRope? = nil, split: Int? = nil,
                         stream: CUDAStream) throws
    {
        try require(n > 0 && k > 0 && k % 8 == 0 && k * 2 <= 48 << 10, "fused norm + GEMV of \(n)×\(k)")
        try require(residual != residualOut, "the fused norm's residual output must be another buffer")
        try require(activated == nil || rope == nil, "a fused GEMV is gated or rotates, not both")
        try require(activated == nil || n % 2 == 0, "a gated GEMV needs [gate | up] rows, not \(n)")
        if let r = rope {
            try require(r.headDim % 2 == 0 && n == (r.qHeads + 2 * r.kvHeads) * r.headDim,
                        "a rotating GEMV needs (q + 2·kv heads) × head size rows, not \(n)")
        }
        let limit = activated == nil && rope == nil ? 8 : 4
        try require(split.map { [1, 2, 4, 8].contains($0) && $0 <= limit } ?? true,
                    "GEMV split \(split ?? 0) (1, 2, 4 or 8; at most 4 gated or rotating)")
        let split = min(split ?? gemvSplit(n: n, k: k), limit)
        var blocks = (n * split + 7) / 8
        if let r = rope {
            let pairs = (r.qHeads + r.kvHeads) * r.headDim / 2, perBlock = 4 / split
            blocks = (pairs + perBlock - 1) / perBlock + (r.kvHeads * r.headDim * split + 7) / 8
        }
        let p = SGLGemvNormParams(
            w: w, y: y, bias: bias ?? 0, residual: residual, delta: delta ?? 0, residual_out: residualOut,
            norm_weight: normWeight, act_out: activated ?? 0, positions: rope?.positions ?? 0, out_loc: rope?.outLoc ?? 0,
            inv_freq: rope?.inverseFrequencies ?? 0, k_cache: rope?.kCache ?? 0, v_cache: rope?.vCache ?? 0,
            n: Int32(n), k: Int32(k), ksplit: Int32(split), eps: eps, add_one: addOne ? 1 : 0, activation: activation,
            q_heads: Int32(rope?.qHeads ?? 0), kv_heads: Int32(rope?.kvHeads ?? 0), head_dim: Int32(rope?.headDim ?? 0),
            rot_half: Int32((rope?.headDim ?? 0) / 2), attention_factor: rope?.attentionFactor ?? 1, groups: Int32(blocks))
        // Persistent: one wave of resident blocks (four a multiprocessor) shares the column groups out, so each
        // normalizes the row once.
        try function("sgl_gemv_norm_bf16").launch(
            grid: (min(blocks, 4 * context.device.multiprocessors), 1, 1), block: (256, 1, 1), sharedBytes: k * 2,
            stream: stream, params: p)
    }

    /// Decode rows of bf16 models fuse each residual add + RMSNorm into the skinny GEMM that reads it, a dense MLP's
    /// activation behind its gate-up GEMM, and the RoPE + K/V store behind the QKV one (full rotary, no q/k norms):
    /// 6 kernels a layer instead of 10 (`SGLANG_FUSED_NORM=0` keeps them apart).
    public static let fusedNorm: Bool = processEnvironment()["SGLANG_FUSED_NORM"] != "0"

    /// `SGLANG_GEMV_SPLIT`: a fixed number of warps per skinny-GEMM column (1, 2, 4 or 8) instead of the choice
    /// by shape, for measurements.
    static let gemvSplitOverride: Int? = {
        guard let v = processEnvironment()["SGLANG_GEMV_SPLIT"].flatMap({ Int($0) }), [1, 2, 4, 8].contains(v) else {
            return nil
        }
        return v
    }()

    /// Warps per output column of the skinny GEMM on this device (see the static rule).
    func gemvSplit(n: Int, k: Int) -> Int {
        Self.gemvSplitOverride ?? Self.gemvSplit(n: n, k: k, multiprocessors: context.device.multiprocessors)
    }

    /// Warps per output column of the skinny GEMM: of 1, 2 and 4 (parts of at least 1024 elements), the fewest
    /// whose grid fills the last wave of resident blocks (four per multiprocessor) clearly best. A grid of 1.45
    /// waves (the 6144 columns of Llama-8B's QKV on 132 SMs) leaves most multiprocessors idle for its second half.
    static func gemvSplit(n: Int, k: Int, multiprocessors: Int) -> Int {
        let slots = Double(4 * max(1, multiprocessors))
        var best = 1, bestFill = 0.0
        for split in [1, 2, 4] where split == 1 || k / split >= 1024 {
            let fill = waveFill(blocks: (n * split + 7) / 8, resident: slots)
            if fill > bestFill + 0.05 {
                best = split
                bestFill = fill
            }
        }
        return best
    }

    /// How full the grid's waves are: `blocks / resident` for less than one wave, else the mean fill of the
    /// waves (1 when the last one is full).
    static func waveFill(blocks: Int, resident: Double) -> Double {
        let waves = Double(blocks) / resident
        return waves >= 1 ? waves / waves.rounded(.up) : waves
    }

    /// `x = cap · tanh(x / cap)` over `count` fp32 values.
    public func softcap(_ x: CUdeviceptr, count: Int, cap: Float, stream: CUDAStream) throws {
        try require(count > 0 && cap > 0, "softcap of \(count) values by \(cap)")
        let p = SGLSoftcapParams(x: x, count: UInt64(count), cap: cap, pad0: 0)
        try function("sgl_softcap_f32").launch(
            grid: (Self.blocks(count, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Sums `count` elements of `data` (16-byte aligned, a whole number of 16-byte vectors) over the GPUs of
    /// `exchange` in place (one-shot, through peer access); every rank of the group launches it with the same count.
    public func allReduce(_ data: CUdeviceptr, count: Int, exchange: CUDAPeerExchange, type: CUDAElementType,
                          stream: CUDAStream) throws {
        try require(count > 0 && count * type.size <= exchange.halfBytes && (count * type.size) % 16 == 0,
                    "all-reduce of \(count) elements")
        func table(_ a: [CUdeviceptr]) -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
            let v = a.map { UInt64($0) } + Array(repeating: 0, count: max(0, 8 - a.count))
            return (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
        }
        let p = SGLAllReduceParams(
            data: data, exchange: table(exchange.exchanges), flags: table(exchange.flags), counters: exchange.counters,
            count: UInt64(count), half_bytes: UInt64(exchange.halfBytes), rank: Int32(exchange.rank),
            size: Int32(exchange.size), max_blocks: Int32(exchange.maxBlocks), pad0: 0)
        try function("sgl_allreduce_\(type.rawValue)").launch(
            grid: (exchange.maxBlocks, 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }

    /// Fills `count` elements with seeded uniform values in `[low, high)`.
    public func fillUniform(_ x: CUdeviceptr, count: Int, seed: UInt64, low: Float, high: Float, type: CUDAElementType,
                            stream: CUDAStream) throws
    {
        guard count > 0 else { return }
        let p = SGLFillUniformParams(x: x, count: UInt64(count), seed: seed, low: low, high: high)
        try function("sgl_fill_uniform_\(type.rawValue)").launch(
            grid: (Self.blocks(count, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
    }
}
