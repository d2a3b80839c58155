// Skinny GEMM for decode batches of up to 4 rows: the weights are read once, at close to copy bandwidth.
// `ksplit` warps per output column: lanes stream one part of the column's weight row in 16-byte loads that bypass
// L1 (read once), four loads in flight per lane, against the 1-4 input rows (small, L1/L2-resident); warp
// reductions, then the parts in order through shared memory, finish each dot product in fp32. Splitting fills the
// last wave of resident blocks when there are few columns (64 registers: four 256-thread blocks per SM).
#include "common.cuh"

#define SGL_GEMV_MAX_M 4
#define SGL_GEMV_UNROLL 4

/// The gated epilogue's output: `act(gate) · up` of each pair of rows `i`, `n / 2 + i`, into `out`.
struct GemvGate {
    void *out;
    int activation;
};

/// The skinny GEMM over `x` (global or shared memory); `prologue()` runs once the first weight loads are in
/// flight, with every thread of the block (it may fill `x` and synchronize). GATED (one row, split ≤ 4): a
/// block's columns are gate rows and the matching up rows, and `gate.out` gets `act(gate) · up` instead of `y`.
template <typename T, typename O, bool GATED, typename Prologue>
__device__ void gemv_core(const SGLGemvParams &p, Prologue prologue, GemvGate gate = {nullptr, 0}) {
    constexpr int VEC = 16 / sizeof(T);
    const int split = p.ksplit;
    const int warp = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5);
    int col = warp / split, part = warp - col * split;
    // GATED: of the block's 8 / split columns, the first half are gate rows `pair`, the second the up rows.
    const int half = 4 / split, local = (threadIdx.x >> 5) / split;
    const int pair = blockIdx.x * half + local % half;
    if constexpr (GATED) col = pair < p.n / 2 ? (local < half ? pair : p.n / 2 + pair) : p.n;
    const int lane = threadIdx.x & 31;
    const bool active = col < p.n;
    const int step = 32 * VEC, block = SGL_GEMV_UNROLL * step;
    // Part boundaries on whole steps, so every part but the last is all full 16-byte loads.
    const int chunk = (p.k + split * step - 1) / (split * step) * step;
    const int end = min(p.k, (part + 1) * chunk);
    const T *w = (const T *)p.w + (size_t)(active ? col : 0) * p.k;
    const T *x = (const T *)p.x;
    int c = part * chunk + lane * VEC;
    // Weights are never written by a predecessor kernel: the first loads go out before the grid-dependency
    // wait, so with programmatic launch the stream of weights starts while the previous kernel finishes.
    uint4 wv[SGL_GEMV_UNROLL];
    if (active && c + (SGL_GEMV_UNROLL - 1) * step < end) {
#pragma unroll
        for (int u = 0; u < SGL_GEMV_UNROLL; ++u) wv[u] = load_stream16(w + c + u * step);
    }
    sgl_pdl_wait();
    sgl_pdl_launch_dependents();
    prologue();
    if (!active && split == 1 && !GATED) return;
    float acc[SGL_GEMV_MAX_M];
#pragma unroll
    for (int r = 0; r < SGL_GEMV_MAX_M; ++r) acc[r] = 0.f;
    // Main loop, software-pipelined: the next UNROLL loads are issued before this block's are used.
    for (; active && c + (SGL_GEMV_UNROLL - 1) * step < end; c += block) {
        uint4 cur[SGL_GEMV_UNROLL];
#pragma unroll
        for (int u = 0; u < SGL_GEMV_UNROLL; ++u) cur[u] = wv[u];
        if (c + block + (SGL_GEMV_UNROLL - 1) * step < end) {
#pragma unroll
            for (int u = 0; u < SGL_GEMV_UNROLL; ++u) wv[u] = load_stream16(w + c + block + u * step);
        }
#pragma unroll
        for (int u = 0; u < SGL_GEMV_UNROLL; ++u) {
            float wf[VEC];
            unpack16(cur[u], (const T *)nullptr, wf);
#pragma unroll
            for (int r = 0; r < SGL_GEMV_MAX_M; ++r) {
                if (r >= p.m) break;
                float xf[VEC];
                load16(x + (size_t)r * p.k + c + u * step, xf);
#pragma unroll
                for (int e = 0; e < VEC; ++e) acc[r] += wf[e] * xf[e];
            }
        }
    }
    for (; active && c < end; c += step) {
        float wf[VEC];
        unpack16(load_stream16(w + c), (const T *)nullptr, wf);
#pragma unroll
        for (int r = 0; r < SGL_GEMV_MAX_M; ++r) {
            if (r >= p.m) break;
            float xf[VEC];
            load16(x + (size_t)r * p.k + c, xf);
#pragma unroll
            for (int e = 0; e < VEC; ++e) acc[r] += wf[e] * xf[e];
        }
    }
#pragma unroll
    for (int r = 0; r < SGL_GEMV_MAX_M; ++r) acc[r] = warp_sum(acc[r]);
    if (split > 1 || GATED) {
        // Parts of a column are adjacent warps of one block (split divides the block's 8 warps).
        __shared__ float partial[8][SGL_GEMV_MAX_M];
        const int wib = threadIdx.x >> 5;
        if (lane == 0) {
#pragma unroll
            for (int r = 0; r < SGL_GEMV_MAX_M; ++r) partial[wib][r] = acc[r];
        }
        __syncthreads();
        if constexpr (GATED) {
            // The gate warps finish: both sums rounded as the GEMM's stored outputs, the activation rounded before
            // the product (as sgl_gated_act).
            if (part != 0 || local >= half || !active || lane != 0) return;
            float g = 0.f, u = 0.f;
            for (int s = 0; s < split; ++s) {
                g += partial[wib + s][0];
                u += partial[wib + half * split + s][0];
            }
            const int inner = p.n / 2;
            if (p.bias) {
                g = round_to<O>(g) + to_float(((const T *)p.bias)[pair]);
                u = round_to<O>(u) + to_float(((const T *)p.bias)[inner + pair]);
            }
            const float a = round_to<O>(activate(round_to<O>(g), gate.activation));
            ((O *)gate.out)[pair] = from_float<O>(a * round_to<O>(u));
            return;
        }
        if (part != 0 || !active) return;
#pragma unroll
        for (int r = 0; r < SGL_GEMV_MAX_M; ++r) {
            float v = 0.f;
            for (int s = 0; s < split; ++s) v += partial[wib + s][r];
            acc[r] = v;
        }
    }
    const float b = p.bias ? to_float(((const T *)p.bias)[col]) : 0.f;
#pragma unroll
    for (int r = 0; r < SGL_GEMV_MAX_M; ++r) {
        if (r >= p.m) break;
        if (lane == 0) {
            // The GEMM result is rounded to the output type before the bias, as a separate bias add does.
            ((O *)p.y)[(size_t)r * p.n + col] = from_float<O>(p.bias ? round_to<O>(acc[r]) + b : acc[r]);
        }
    }
}

template <typename T, typename O> __device__ void gemv(const SGLGemvParams &p) { gemv_core<T, O, false>(p, [] {}); }

extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_f32_f32(const __grid_constant__ SGLGemvParams p) { gemv<float, float>(p); }
extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_bf16_bf16(const __grid_constant__ SGLGemvParams p) { gemv<bf16, bf16>(p); }
extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_bf16_f32(const __grid_constant__ SGLGemvParams p) { gemv<bf16, float>(p); }

// Residual add + RMSNorm fused in front of the skinny GEMM (one bf16 row): each block normalizes the row into
// shared memory itself (a few KB from L2, while its first weight loads are in flight), which saves the norm
// kernel between the two; for a gated MLP's gate-up (`act_out`) the activation is fused behind it too. Same rounding as sgl_add_rmsnorm: the sum rounded to bf16, Llama's normalized value
// rounded before the weight, Gemma's `1 + w` in fp32.
extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_norm_bf16(const __grid_constant__ SGLGemvNormParams p) {
    extern __shared__ __align__(16) unsigned char x_raw[];
    bf16 *x_s = reinterpret_cast<bf16 *>(x_raw);
    const SGLGemvParams g = {(const void *)x_s, p.w, p.y, p.bias, 1, p.n, p.k, p.ksplit};
    auto normalize = [&] {
        const bf16 *residual = (const bf16 *)p.residual, *delta = (const bf16 *)p.delta;
        const int chunks = p.k / 8;
        float ss = 0.f;
        for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
            float v[8];
            load16(residual + c * 8, v);
            if (delta) {
                float d[8];
                load16(delta + c * 8, d);
#pragma unroll
                for (int e = 0; e < 8; ++e) v[e] = round_to<bf16>(v[e] + d[e]);
            }
#pragma unroll
            for (int e = 0; e < 8; ++e) ss += v[e] * v[e];
            if (blockIdx.x == 0) store16((bf16 *)p.residual_out + c * 8, v);
            store16(x_s + c * 8, v);  // exact: v is a bf16 value
        }
        ss = block_sum(ss);
        const float inv = 1.f / sqrtf(ss / (float)p.k + p.eps);
        // Each thread rewrites the chunks it wrote above, so no barrier between the passes.
        for (int c = threadIdx.x; c < chunks; c += blockDim.x) {
            float v[8], w[8];
            load16(x_s + c * 8, v);
            load16((const bf16 *)p.norm_weight + c * 8, w);
#pragma unroll
            for (int e = 0; e < 8; ++e) {
                const float x = v[e] * inv;
                v[e] = p.add_one ? x * (1.f + w[e]) : round_to<bf16>(x) * w[e];
            }
            store16(x_s + c * 8, v);
        }
        __syncthreads();
    };
    if (p.act_out) gemv_core<bf16, bf16, true>(g, normalize, GemvGate{p.act_out, p.activation});
    else gemv_core<bf16, bf16, false>(g, normalize);
}
