import CCUDA

/// One timed configuration of the extend-attention kernel.
public struct CUDAExtendAttentionTiming: Sendable {
    /// Requests in the launch, each of `tokens` new tokens over an empty prefix.
    public var requests: Int
    /// New tokens per request.
    public var tokens: Int
    /// Query heads, KV heads, head size.
    public var qHeads: Int, kvHeads: Int, headDim: Int
    /// Mean milliseconds per launch (CUDA events around back-to-back launches).
    public var milliseconds: Double
    /// Attention FLOPs per launch: `4·q·k·d / 2` per head and request (causal: half of the q×k square).
    public var flops: Double
    /// `flops / time` in TFLOP/s.
    public var teraflops: Double { flops / (milliseconds * 1e-3) / 1e12 }
}

/// Device timings: the bf16 extend-attention kernel at a model-sized shape and the cuBLASLt bf16 GEMM rate of
/// the same device as its tensor-core ceiling.
public enum CUDAAttentionBenchmark {
    /// Uniform values in [-1, 1) as bf16 bits, from a fixed-seed SplitMix64 (cheap for tens of millions).
    static func bf16Values(_ n: Int, seed: UInt64) -> [UInt16] {
        var state = seed
        return (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return BFloat16Conversion.bits(Float(z >> 40) * 0x1.0p-23 - 1)
        }
    }

    /// Times causal bf16 prefill (prefix 0) of `requests` × `tokens` with a fused QKV input, KV slots scattered
    /// over the pool through a shuffled `req_to_token` table.
    public static func extendAttention(kernels: CUDAKernels, stream: CUDAStream, requests: Int, tokens: Int, qHeads: Int,
                                       kvHeads: Int, headDim: Int, iterations: Int) throws -> CUDAExtendAttentionTiming
    {
        guard requests > 0, tokens > 0, iterations > 0, kvHeads > 0, qHeads % kvHeads == 0 else {
            throw CUDAError.invalidArgument("benchmark of \(requests)×\(tokens) tokens, \(qHeads)/\(kvHeads) heads")
        }
        let context = kernels.context
        let total = requests * tokens
        let width = (qHeads + 2 * kvHeads) * headDim
        let slots = total + 1
        var order = Array(1..<Int32(slots))
        var rng = CheckRandom(seed: 42)
        order.shuffle(using: &rng)
        let qkv = try CUDADeviceBuffer(context: context, copying: bf16Values(total * width, seed: 1))
        let k = try CUDADeviceBuffer(context: context, copying: bf16Values(slots * kvHeads * headDim, seed: 2))
        let v = try CUDADeviceBuffer(context: context, copying: bf16Values(slots * kvHeads * headDim, seed: 3))
        let out = try CUDADeviceBuffer(context: context, byteCount: total * qHeads * headDim * 2)
        let table = try CUDADeviceBuffer(context: context, copying: order)
        let rows = try CUDADeviceBuffer(context: context, copying: (0..<requests).map { Int32($0) })
        let prefix = try CUDADeviceBuffer(context: context, copying: [Int32](repeating: 0, count: requests))
        let lens = try CUDADeviceBuffer(context: context, copying: [Int32](repeating: Int32(tokens), count: requests))
        let starts = try CUDADeviceBuffer(context: context, copying: (0..<requests).map { Int32($0 * tokens) })
        func launch() throws {
            try kernels.extendAttention(
                q: qkv.address, qStride: width, kCache: k.address, vCache: v.address, out: out.address,
                outStride: qHeads * headDim, reqToToken: table.address, reqToTokenStride: tokens,
                reqPoolIndices: rows.address, prefixLens: prefix.address, extendLens: lens.address,
                extendStarts: starts.address, batch: requests, maxExtend: tokens, qHeads: qHeads, kvHeads: kvHeads,
                headDim: headDim, scale: 1 / Float(headDim).squareRoot(), softcap: nil, window: nil, type: .bfloat16,
                stream: stream)
        }
        let ms = try time(context: context, stream: stream, iterations: iterations, launch)
        let flops = Double(requests * qHeads) * 4 * Double(tokens) * Double(tokens) * Double(headDim) / 2
        return CUDAExtendAttentionTiming(requests: requests, tokens: tokens, qHeads: qHeads, kvHeads: kvHeads,
                                         headDim: headDim, milliseconds: ms, flops: flops)
    }

    /// Milliseconds and TFLOP/s of a square bf16 cuBLASLt GEMM (fp32 accumulate, bf16 out) of size `n`.
    public static func gemm(context: CUDAContext, stream: CUDAStream, n: Int, iterations: Int) throws
        -> (milliseconds: Double, teraflops: Double)
    {
        let blas = try CUBLASLt(context: context)
        let x = try CUDADeviceBuffer(context: context, copying: bf16Values(n * n, seed: 4))
        let w = try CUDADeviceBuffer(context: context, copying: bf16Values(n * n, seed: 5))
        let y = try CUDADeviceBuffer(context: context, byteCount: n * n * 2)
        let ms = try time(context: context, stream: stream, iterations: iterations) {
            try blas.matmul(x: x.address, w: w.address, y: y.address, m: n, n: n, k: n, input: .bfloat16,
                            output: .bfloat16, stream: stream)
        }
        return (ms, 2 * Double(n) * Double(n) * Double(n) / (ms * 1e-3) / 1e12)
    }

    /// Mean milliseconds of `body` over `iterations` back-to-back launches, after three warm-up launches.
    static func time(context: CUDAContext, stream: CUDAStream, iterations: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<3 { try body() }
        let start = try CUDAEvent(context: context), end = try CUDAEvent(context: context)
        try stream.synchronize()
        try start.record(on: stream)
        for _ in 0..<iterations { try body() }
        try end.record(on: stream)
        try end.synchronize()
        return Double(try end.elapsed(since: start)) / Double(iterations)
    }
}
