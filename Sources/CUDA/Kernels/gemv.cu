// Skinny GEMM for decode batches of up to 4 rows: the weights are read once, at close to copy bandwidth.
// One warp per output column: lanes stream the column's weight row in 16-byte loads that bypass L1 (read once),
// four to eight loads in flight per lane, against the 1-4 input rows (small, L1/L2-resident); a warp reduction finishes
// each dot product in fp32.
#include "common.cuh"

#define SGL_GEMV_MAX_M 4
#define SGL_GEMV_UNROLL 4

template <typename T, typename O> __device__ void gemv(const SGLGemvParams &p) {
    constexpr int VEC = 16 / sizeof(T);
    const int col = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    const bool active = col < p.n;
    const T *w = (const T *)p.w + (size_t)(active ? col : 0) * p.k;
    const T *x = (const T *)p.x;
    const int step = 32 * VEC, block = SGL_GEMV_UNROLL * step;
    int c = lane * VEC;
    // Weights are never written by a predecessor kernel: the first loads go out before the grid-dependency
    // wait, so with programmatic launch the stream of weights starts while the previous kernel finishes.
    uint4 wv[SGL_GEMV_UNROLL];
    if (active && c + (SGL_GEMV_UNROLL - 1) * step < p.k) {
#pragma unroll
        for (int u = 0; u < SGL_GEMV_UNROLL; ++u) wv[u] = load_stream16(w + c + u * step);
    }
    sgl_pdl_wait();
    sgl_pdl_launch_dependents();
    if (!active) return;
    float acc[SGL_GEMV_MAX_M];
#pragma unroll
    for (int r = 0; r < SGL_GEMV_MAX_M; ++r) acc[r] = 0.f;
    // Main loop, software-pipelined: the next UNROLL loads are issued before this block's are used.
    for (; c + (SGL_GEMV_UNROLL - 1) * step < p.k; c += block) {
        uint4 cur[SGL_GEMV_UNROLL];
#pragma unroll
        for (int u = 0; u < SGL_GEMV_UNROLL; ++u) cur[u] = wv[u];
        if (c + block + (SGL_GEMV_UNROLL - 1) * step < p.k) {
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
    for (; c < p.k; c += step) {
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
    const float b = p.bias ? to_float(((const T *)p.bias)[col]) : 0.f;
#pragma unroll
    for (int r = 0; r < SGL_GEMV_MAX_M; ++r) {
        if (r >= p.m) break;
        float v = warp_sum(acc[r]);
        if (lane == 0) {
            // The GEMM result is rounded to the output type before the bias, as a separate bias add does.
            ((O *)p.y)[(size_t)r * p.n + col] = from_float<O>(p.bias ? round_to<O>(v) + b : v);
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) sgl_gemv_f32_f32(const __grid_constant__ SGLGemvParams p) { gemv<float, float>(p); }
extern "C" __global__ void __launch_bounds__(256) sgl_gemv_bf16_bf16(const __grid_constant__ SGLGemvParams p) { gemv<bf16, bf16>(p); }
extern "C" __global__ void __launch_bounds__(256) sgl_gemv_bf16_f32(const __grid_constant__ SGLGemvParams p) { gemv<bf16, float>(p); }
