// Fused residual add + RMSNorm (Llama and Gemma variants); one block per row.
#include "common.cuh"

template <typename T> __device__ void add_rmsnorm(const SGLAddRMSNormParams &p) {
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
