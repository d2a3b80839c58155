// Small kernels a model forward needs around the big ones: the req-to-token record of new slots, the input ids
// carried over from the previous decode step (overlap scheduling), bias add,
// per-head q/k RMSNorm, final-logit soft-capping, and seeded uniform fill for dummy weights.
#include "common.cuh"

extern "C" __global__ void sgl_record_slots(const __grid_constant__ SGLRecordSlotsParams p) {
    sgl_pdl_begin();
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < p.tokens; t += gridDim.x * blockDim.x) {
        int loc = p.out_loc[t];
        if (loc < 0) continue;
        p.req_to_token[(size_t)p.token_rows[t] * p.stride + p.positions[t]] = loc;
    }
}

extern "C" __global__ void sgl_take_carried(const __grid_constant__ SGLTakeCarriedParams p) {
    sgl_pdl_begin();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.count) return;
    int c = p.carried[i];
    // An index past the previous step's rows is the host's error; the id stays as uploaded rather than read wild.
    if (c >= 0 && c < p.previous_count) p.input_ids[i] = p.previous_ids[c];
}

template <typename T> __device__ void add_bias(const SGLAddBiasParams &p) {
    size_t total = (size_t)p.rows * p.cols;
    T *x = (T *)p.x;
    const T *b = (const T *)p.bias;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        x[i] = from_float<T>(to_float(x[i]) + to_float(b[i % p.cols]));
    }
}

extern "C" __global__ void sgl_add_bias_f32(const __grid_constant__ SGLAddBiasParams p) { sgl_pdl_begin(); add_bias<float>(p); }
extern "C" __global__ void sgl_add_bias_bf16(const __grid_constant__ SGLAddBiasParams p) { sgl_pdl_begin(); add_bias<bf16>(p); }

// One warp per (token, head).
template <typename T> __device__ void head_rmsnorm(const SGLHeadRMSNormParams &p) {
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (warp >= p.tokens * p.heads) return;
    int t = warp / p.heads, h = warp - t * p.heads;
    T *x = (T *)p.x + (size_t)t * p.stride + p.offset + (size_t)h * p.head_dim;
    const T *w = (const T *)p.weight;
    float ss = 0.f;
    for (int i = lane; i < p.head_dim; i += 32) {
        float v = to_float(x[i]);
        ss += v * v;
    }
    ss = warp_sum(ss);
    float inv = 1.f / sqrtf(ss / (float)p.head_dim + p.eps);
    for (int i = lane; i < p.head_dim; i += 32) {
        x[i] = from_float<T>(round_to<T>(to_float(x[i]) * inv) * to_float(w[i]));
    }
}

extern "C" __global__ void sgl_head_rmsnorm_f32(const __grid_constant__ SGLHeadRMSNormParams p) { sgl_pdl_begin(); head_rmsnorm<float>(p); }
extern "C" __global__ void sgl_head_rmsnorm_bf16(const __grid_constant__ SGLHeadRMSNormParams p) { sgl_pdl_begin(); head_rmsnorm<bf16>(p); }

extern "C" __global__ void sgl_softcap_f32(const __grid_constant__ SGLSoftcapParams p) {
    sgl_pdl_begin();
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.count; i += (size_t)gridDim.x * blockDim.x) {
        p.x[i] = p.cap * tanhf(p.x[i] / p.cap);
    }
}

/// A 64-bit mix (splitmix64's finalizer) of the seed and the index.
__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

template <typename T> __device__ void fill_uniform(const SGLFillUniformParams &p) {
    T *x = (T *)p.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < p.count; i += (size_t)gridDim.x * blockDim.x) {
        unsigned long long r = mix64(p.seed * 0x9e3779b97f4a7c15ull + i + 1);
        float u = (float)(r >> 40) * (1.f / 16777216.f);
        x[i] = from_float<T>(p.low + (p.high - p.low) * u);
    }
}

extern "C" __global__ void sgl_fill_uniform_f32(const __grid_constant__ SGLFillUniformParams p) { sgl_pdl_begin(); fill_uniform<float>(p); }
extern "C" __global__ void sgl_fill_uniform_bf16(const __grid_constant__ SGLFillUniformParams p) { sgl_pdl_begin(); fill_uniform<bf16>(p); }
