// Embedding gather and row gather (last-token logits).
#include "common.cuh"

template <typename T> __device__ void embedding(const SGLEmbeddingParams &p) {
    int t = blockIdx.x;
    if (t >= p.tokens) return;
    int id = p.ids[t];
    bool valid = id >= 0 && id < p.vocab;
    const T *row = (const T *)p.table + (size_t)(valid ? id : 0) * p.dim;
    T *out = (T *)p.out + (size_t)t * p.dim;
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) {
        float v = valid ? to_float(row[i]) : 0.f;
        if (p.has_scale) v *= p.scale;
        out[i] = from_float<T>(v);
    }
}

extern "C" __global__ void sgl_embedding_f32(const __grid_constant__ SGLEmbeddingParams p) { sgl_pdl_begin(); embedding<float>(p); }
extern "C" __global__ void sgl_embedding_bf16(const __grid_constant__ SGLEmbeddingParams p) { sgl_pdl_begin(); embedding<bf16>(p); }

template <typename T> __device__ void gather_rows(const SGLGatherRowsParams &p) {
    int r = blockIdx.x;
    if (r >= p.count) return;
    const T *src = (const T *)p.src + (size_t)p.indices[r] * p.dim;
    T *out = (T *)p.out + (size_t)r * p.dim;
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) out[i] = src[i];
}

extern "C" __global__ void sgl_gather_rows_f32(const __grid_constant__ SGLGatherRowsParams p) { sgl_pdl_begin(); gather_rows<float>(p); }
extern "C" __global__ void sgl_gather_rows_bf16(const __grid_constant__ SGLGatherRowsParams p) { sgl_pdl_begin(); gather_rows<bf16>(p); }
