// Mixture-of-experts feed-forward: routing (softmax + top-k), grouping of the (token, choice) pairs by expert,
// a grouped skinny GEMM over the experts' stacked weights, and the weighted combine (with Qwen2-MoE's gated
// shared expert). Every size is read on the device, so a decode step captured in a graph replays for any
// routing. Large prefills take the host path instead (offsets read back, one cuBLASLt GEMM per expert).
#include "common.cuh"

#define SGL_MOE_MAX_EXPERTS 1024
#define SGL_MOE_ROUTE_WARPS 8
#define SGL_MOE_ROWS 8
#define SGL_MOE_UNROLL 2

// One warp per token: probabilities in shared memory, top-k by repeated warp argmax (ties: lower index).
extern "C" __global__ void __launch_bounds__(256) sgl_moe_route(const __grid_constant__ SGLMoERouteParams p) {
    sgl_pdl_begin();
    __shared__ float probs[SGL_MOE_ROUTE_WARPS][SGL_MOE_MAX_EXPERTS];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int t = blockIdx.x * SGL_MOE_ROUTE_WARPS + warp;
    if (t >= p.tokens) return;
    const float *row = p.logits + (size_t)t * p.stride;
    float *pr = probs[warp];
    float m = -__int_as_float(0x7f800000);
    for (int e = lane; e < p.experts; e += 32) m = fmaxf(m, row[e]);
    m = warp_max(m);
    float s = 0.f;
    for (int e = lane; e < p.experts; e += 32) {
        float v = expf(row[e] - m);
        pr[e] = v;
        s += v;
    }
    const float inv = 1.f / warp_sum(s);
    __syncwarp();
    float chosen = 0.f;
    const size_t out = (size_t)t * p.top_k;
    for (int j = 0; j < p.top_k; ++j) {
        float best = -1.f;
        int bi = -1;
        // Each lane scans ascending indices, so its first maximum is its lowest index.
        for (int e = lane; e < p.experts; e += 32) {
            float v = pr[e];
            if (v > best) {
                best = v;
                bi = e;
            }
        }
        warp_argmax(best, bi);
        // NaN logits leave nothing to pick: expert 0 with weight 0 keeps every id in range.
        const float w = bi >= 0 ? best * inv : 0.f;
        if (lane == 0) {
            p.topk_ids[out + j] = bi >= 0 ? bi : 0;
            p.topk_weights[out + j] = w;
        }
        chosen += w;
        if (bi >= 0 && (bi & 31) == lane) pr[bi] = -1.f;
        __syncwarp();
    }
    if (p.normalize && lane == 0 && chosen > 0.f) {
        for (int j = 0; j < p.top_k; ++j) p.topk_weights[out + j] /= chosen;
    }
}

// One block: counts by shared atomics, offsets by a serial scan, then one warp per expert lays its pairs out
// in pair order (ballot + prefix popcount), so the layout never depends on atomic timing.
extern "C" __global__ void __launch_bounds__(1024) sgl_moe_align(const __grid_constant__ SGLMoEAlignParams p) {
    sgl_pdl_begin();
    __shared__ int counts[SGL_MOE_MAX_EXPERTS];
    __shared__ int starts[SGL_MOE_MAX_EXPERTS + 1];
    for (int e = threadIdx.x; e < p.experts; e += blockDim.x) counts[e] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < p.pairs; i += blockDim.x) {
        int id = p.topk_ids[i];
        if (id >= 0 && id < p.experts) atomicAdd(&counts[id], 1);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int run = 0;
        for (int e = 0; e < p.experts; ++e) {
            starts[e] = run;
            run += counts[e];
        }
        starts[p.experts] = run;
    }
    __syncthreads();
    for (int e = threadIdx.x; e <= p.experts; e += blockDim.x) p.offsets[e] = starts[e];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    for (int e = warp; e < p.experts; e += warps) {
        if (counts[e] == 0) continue;
        int base = starts[e];
        for (int i0 = 0; i0 < p.pairs; i0 += 32) {
            const int i = i0 + lane;
            const bool hit = i < p.pairs && p.topk_ids[i] == e;
            const unsigned mask = __ballot_sync(0xffffffffu, hit);
            if (hit) {
                const int slot = base + __popc(mask & ((1u << lane) - 1u));
                p.slot_rows[slot] = i / p.top_k;
                p.pair_slots[i] = slot;
            }
            base += __popc(mask);
        }
    }
}

// Grid (column blocks, experts); one warp per output column streams that column's weight row of its expert
// once per group of up to 8 slots (a decode step's few rows per expert take one pass).
template <typename T> __device__ void moe_gemm(const SGLMoEGemmParams &p) {
    constexpr int VEC = 16 / sizeof(T);
    const int e = blockIdx.y;
    const int begin = p.offsets[e], end = p.offsets[e + 1];
    const int col = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (begin >= end || col >= p.n) return;
    const T *w = (const T *)p.w + ((size_t)e * p.n + col) * p.k;
    const T *x = (const T *)p.x;
    const int step = 32 * VEC;
    for (int s0 = begin; s0 < end; s0 += SGL_MOE_ROWS) {
        const int rows = min(SGL_MOE_ROWS, end - s0);
        const T *xr[SGL_MOE_ROWS];
#pragma unroll
        for (int r = 0; r < SGL_MOE_ROWS; ++r) {
            const int s = s0 + min(r, rows - 1);
            xr[r] = x + (size_t)(p.x_rows ? p.x_rows[s] : s) * p.k;
        }
        float acc[SGL_MOE_ROWS];
#pragma unroll
        for (int r = 0; r < SGL_MOE_ROWS; ++r) acc[r] = 0.f;
        int c = lane * VEC;
        for (; c + (SGL_MOE_UNROLL - 1) * step < p.k; c += SGL_MOE_UNROLL * step) {
            uint4 wv[SGL_MOE_UNROLL];
#pragma unroll
            for (int u = 0; u < SGL_MOE_UNROLL; ++u) wv[u] = load_stream16(w + c + u * step);
#pragma unroll
            for (int u = 0; u < SGL_MOE_UNROLL; ++u) {
                float wf[VEC];
                unpack16(wv[u], (const T *)nullptr, wf);
#pragma unroll
                for (int r = 0; r < SGL_MOE_ROWS; ++r) {
                    if (r >= rows) break;
                    float xf[VEC];
                    load16(xr[r] + c + u * step, xf);
#pragma unroll
                    for (int v = 0; v < VEC; ++v) acc[r] += wf[v] * xf[v];
                }
            }
        }
        for (; c < p.k; c += step) {
            float wf[VEC];
            unpack16(load_stream16(w + c), (const T *)nullptr, wf);
#pragma unroll
            for (int r = 0; r < SGL_MOE_ROWS; ++r) {
                if (r >= rows) break;
                float xf[VEC];
                load16(xr[r] + c, xf);
#pragma unroll
                for (int v = 0; v < VEC; ++v) acc[r] += wf[v] * xf[v];
            }
        }
#pragma unroll
        for (int r = 0; r < SGL_MOE_ROWS; ++r) {
            if (r >= rows) break;
            const float v = warp_sum(acc[r]);
            if (lane == 0) ((T *)p.y)[(size_t)(s0 + r) * p.n + col] = from_float<T>(v);
        }
    }
}

template <typename T> __device__ void moe_combine(const SGLMoECombineParams &p) {
    const size_t total = (size_t)p.tokens * p.dim;
    const T *eo = (const T *)p.expert_out;
    const T *so = (const T *)p.shared_out;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += (size_t)gridDim.x * blockDim.x) {
        const size_t t = idx / p.dim, c = idx - t * p.dim;
        float acc = 0.f;
        for (int j = 0; j < p.top_k; ++j) {
            const size_t pair = t * p.top_k + j;
            acc += p.topk_weights[pair] * to_float(eo[(size_t)p.pair_slots[pair] * p.dim + c]);
        }
        if (so) {
            const float g = p.shared_gate ? 1.f / (1.f + expf(-p.shared_gate[t * p.gate_stride])) : 1.f;
            acc += g * to_float(so[idx]);
        }
        ((T *)p.out)[idx] = from_float<T>(acc);
    }
}

extern "C" __global__ void __launch_bounds__(256) sgl_moe_gemm_f32(const __grid_constant__ SGLMoEGemmParams p) { sgl_pdl_begin(); moe_gemm<float>(p); }
extern "C" __global__ void __launch_bounds__(256) sgl_moe_gemm_bf16(const __grid_constant__ SGLMoEGemmParams p) { sgl_pdl_begin(); moe_gemm<bf16>(p); }
extern "C" __global__ void sgl_moe_combine_f32(const __grid_constant__ SGLMoECombineParams p) { sgl_pdl_begin(); moe_combine<float>(p); }
extern "C" __global__ void sgl_moe_combine_bf16(const __grid_constant__ SGLMoECombineParams p) { sgl_pdl_begin(); moe_combine<bf16>(p); }
