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

    /// `x = cap · tanh(x / cap)` over `count` fp32 values.
    public func softcap(_ x: CUdeviceptr, count: Int, cap: Float, stream: CUDAStream) throws {
        try require(count > 0 && cap > 0, "softcap of \(count) values by \(cap)")
        let p = SGLSoftcapParams(x: x, count: UInt64(count), cap: cap, pad0: 0)
        try function("sgl_softcap_f32").launch(
            grid: (Self.blocks(count, 256), 1, 1), block: (256, 1, 1), stream: stream, params: p)
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
