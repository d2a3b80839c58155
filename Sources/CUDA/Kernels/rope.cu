// Rotate-half RoPE of a fused QKV row fused with the KV-cache store; grid (tokens, q_heads + kv_heads), one
// block per head, so a decode step spreads over many SMs instead of looping in one block.
#include "common.cuh"

template <typename T> __device__ void rope_store_kv(const SGLRopeStoreKVParams &p) {
    const int t = blockIdx.x, h = blockIdx.y;
    if (t >= p.tokens || h >= p.q_heads + p.kv_heads) return;
    T *row = (T *)p.qkv + (size_t)t * p.qkv_stride;
    const float pos = (float)p.positions[t];
    const int slot = p.out_loc[t];
    const int hd = p.head_dim, half = p.rot_half, kv_width = p.kv_heads * hd;
    const bool is_k = h >= p.q_heads;
    T *kc = slot >= 0 && is_k ? (T *)p.k_cache + (size_t)slot * kv_width + (size_t)(h - p.q_heads) * hd : nullptr;
    T *x = row + (size_t)h * hd;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        // Angles in fp32 (inv_freq · position) with accurate cos/sin, as the CPU backend computes them.
        const float angle = p.inv_freq[i] * pos;
        const float c = cosf(angle) * p.attention_factor, s = sinf(angle) * p.attention_factor;
        const float x1 = to_float(x[i]), x2 = to_float(x[i + half]);
        const T o1 = from_float<T>(x1 * c - x2 * s), o2 = from_float<T>(x2 * c + x1 * s);
        x[i] = o1;
        x[i + half] = o2;
        if (kc) {
            kc[i] = o1;
            kc[i + half] = o2;
        }
    }
    if (!kc) return;
    // This K head's channels past the rotary dimension, and the matching V head.
    const int kv = h - p.q_heads;
    const T *v_src = row + (size_t)(p.q_heads + p.kv_heads + kv) * hd;
    T *vc = (T *)p.v_cache + (size_t)slot * kv_width + (size_t)kv * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        if (d >= 2 * half) kc[d] = x[d];
        vc[d] = v_src[d];
    }
}

extern "C" __global__ void sgl_rope_store_kv_f32(const __grid_constant__ SGLRopeStoreKVParams p) { sgl_pdl_begin(); rope_store_kv<float>(p); }
extern "C" __global__ void sgl_rope_store_kv_bf16(const __grid_constant__ SGLRopeStoreKVParams p) { sgl_pdl_begin(); rope_store_kv<bf16>(p); }
