// Fused residual add + RMSNorm (Llama and Gemma variants); one block per row.
#include "common.cuh"

#define SGL_NORM_ITEMS 2

/// The row held in registers, 16-byte loads and stores (rows of up to SGL_NORM_ITEMS chunks per thread): one
/// read of the residual, delta and weight, all issued before the reduction.
template <typename T> __device__ void add_rmsnorm_vec(const SGLAddRMSNormParams &p) {
    constexpr int VEC = 16 / sizeof(T);
    const int r = blockIdx.x;
    if (r >= p.rows) return;
    T *residual = (T *)p.residual + (size_t)r * p.dim;
    const T *delta = p.delta ? (const T *)p.delta + (size_t)r * p.dim : nullptr;
    const T *w = (const T *)p.weight;
    T *out = (T *)p.out + (size_t)r * p.dim;
    const int chunks = p.dim / VEC;
    float v[SGL_NORM_ITEMS][VEC], wf[SGL_NORM_ITEMS][VEC];
    float ss = 0.f;
#pragma unroll
    for (int i = 0; i < SGL_NORM_ITEMS; ++i) {
        const int c = threadIdx.x + i * blockDim.x;
        if (c >= chunks) continue;
        load16(residual + c * VEC, v[i]);
        load16(w + c * VEC, wf[i]);
        if (delta) {
            float d[VEC];
            load16(delta + c * VEC, d);
            // The norm reads the residual rounded to the element type, as transformers does.
#pragma unroll
            for (int e = 0; e < VEC; ++e) v[i][e] = round_to<T>(v[i][e] + d[e]);
            store16(residual + c * VEC, v[i]);
        }
#pragma unroll
        for (int e = 0; e < VEC; ++e) ss += v[i][e] * v[i][e];
    }
    ss = block_sum(ss);
    const float inv = 1.f / sqrtf(ss / (float)p.dim + p.eps);
#pragma unroll
    for (int i = 0; i < SGL_NORM_ITEMS; ++i) {
        const int c = threadIdx.x + i * blockDim.x;
        if (c >= chunks) continue;
        float o[VEC];
#pragma unroll
        for (int e = 0; e < VEC; ++e) {
            const float x = v[i][e] * inv;
            // Llama casts the normalized value to the model dtype before the weight; Gemma scales in fp32.
            o[e] = p.add_one ? x * (1.f + wf[i][e]) : round_to<T>(x) * wf[i][e];
        }
        store16(out + c * VEC, o);
    }
}

template <typename T> __device__ void add_rmsnorm(const SGLAddRMSNormParams &p) {
    constexpr int VEC = 16 / sizeof(T);
    if (p.dim % VEC == 0 && p.dim <= SGL_NORM_ITEMS * VEC * (int)blockDim.x) {
        add_rmsnorm_vec<T>(p);
        return;
    }
    int r = blockIdx.x;
    if (r >= p.rows) return;
    T *residual = (T *)p.residual + (size_t)r * p.dim;
    const T *delta = p.delta ? (const T *)p.delta + (size_t)r * p.dim : nullptr;
    const T *w = (const T *)p.weight;
    T *out = (T *)p.out + (size_t)r * p.dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) {
        float v = to_float(residual[i]);
        if (delta) {
            // The norm reads the residual rounded to the element type, as transformers does.
            T s = from_float<T>(v + to_float(delta[i]));
            residual[i] = s;
            v = to_float(s);
        }
        ss += v * v;
    }
    ss = block_sum(ss);
    float inv = 1.f / sqrtf(ss / (float)p.dim + p.eps);
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) {
        float v = to_float(residual[i]) * inv;
        float wi = to_float(w[i]);
        // Llama casts the normalized value to the model dtype before the weight; Gemma scales in fp32.
        out[i] = from_float<T>(p.add_one ? v * (1.f + wi) : round_to<T>(v) * wi);
    }
}

extern "C" __global__ void sgl_add_rmsnorm_f32(const __grid_constant__ SGLAddRMSNormParams p) { sgl_pdl_begin(); add_rmsnorm<float>(p); }
extern "C" __global__ void sgl_add_rmsnorm_bf16(const __grid_constant__ SGLAddRMSNormParams p) { sgl_pdl_begin(); add_rmsnorm<bf16>(p); }
