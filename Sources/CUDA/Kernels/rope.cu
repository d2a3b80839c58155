// Rotate-half RoPE of a fused QKV row fused with the KV-cache store; one block per token.
#include "common.cuh"

template <typename T> __device__ void rope_store_kv(const SGLRopeStoreKVParams &p) {
    int t = blockIdx.x;
    if (t >= p.tokens) return;
    T *row = (T *)p.qkv + (size_t)t * p.qkv_stride;
    float pos = (float)p.positions[t];
    int slot = p.out_loc[t];
    int hd = p.head_dim, half = p.rot_half, kv_width = p.kv_heads * hd;
    T *kc = slot >= 0 ? (T *)p.k_cache + (size_t)slot * kv_width : nullptr;
    T *vc = slot >= 0 ? (T *)p.v_cache + (size_t)slot * kv_width : nullptr;
    int heads = p.q_heads + p.kv_heads;
    for (int idx = threadIdx.x; idx < heads * half; idx += blockDim.x) {
        int h = idx / half, i = idx - h * half;
        // Angles in fp32 (inv_freq · position) with accurate cos/sin, as the CPU backend computes them.
        float angle = p.inv_freq[i] * pos;
        float c = cosf(angle) * p.attention_factor, s = sinf(angle) * p.attention_factor;
        T *x = row + h * hd;
        float x1 = to_float(x[i]), x2 = to_float(x[i + half]);
        T o1 = from_float<T>(x1 * c - x2 * s), o2 = from_float<T>(x2 * c + x1 * s);
        x[i] = o1;
        x[i + half] = o2;
        if (kc && h >= p.q_heads) {
            T *k = kc + (h - p.q_heads) * hd;
            k[i] = o1;
            k[i + half] = o2;
        }
    }
    if (!kc) return;
    const T *k_src = row + p.q_heads * hd, *v_src = k_src + kv_width;
    for (int idx = threadIdx.x; idx < kv_width; idx += blockDim.x) {
        int d = idx % hd;
        if (d >= 2 * half) kc[idx] = k_src[idx];  // channels past the rotary dimension are not rotated
        vc[idx] = v_src[idx];
    }
}

extern "C" __global__ void sgl_rope_store_kv_f32(const __grid_constant__ SGLRopeStoreKVParams p) { sgl_pdl_begin(); rope_store_kv<float>(p); }
extern "C" __global__ void sgl_rope_store_kv_bf16(const __grid_constant__ SGLRopeStoreKVParams p) { sgl_pdl_begin(); rope_store_kv<bf16>(p); }
