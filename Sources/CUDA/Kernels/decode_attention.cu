// Paged decode attention, split-K ("flash decoding"), GQA grouped.
//
// Stage 1: grid (num_splits, kv_heads × head_blocks, batch). A block serves up to HB query heads that share one
// KV head, so each K/V row is read once for all of them. Threads form groups of TX lanes; a group handles one
// token at a time, each lane loading 16 bytes of K and V per chunk; scores are reduced across the group's lanes
// by shuffles, and every group keeps an online softmax (m, l, o) that the block merges at the end. The split
// count is a launch constant; the sequence length is read from device memory and empty splits only write
// lse = -inf, so the launch is graph-capturable at a fixed split count.
// Stage 2 merges the splits by their log-sum-exp.
#include "common.cuh"

template <typename T, int HEAD_DIM> struct DecodeConfig {
    static constexpr int VEC = 16 / sizeof(T);               // elements per 16-byte load
    static constexpr int CHUNKS = HEAD_DIM / VEC;             // 16-byte chunks per head row
    static constexpr int TX = CHUNKS < 32 ? CHUNKS : 32;      // lanes per token
    static constexpr int NV = CHUNKS / TX;                    // chunks per lane
    static constexpr int THREADS = 128;
    static constexpr int GROUPS = THREADS / TX;               // tokens in flight per block
    static constexpr int HB = 4;                              // query heads per block
    static constexpr int TOK = NV == 1 ? 4 : 2;               // tokens per group per iteration
    static_assert(HEAD_DIM % VEC == 0, "head_dim must be a multiple of 16 bytes");
    static_assert((TX & (TX - 1)) == 0 && CHUNKS % TX == 0, "16-byte chunks per head must be a power of two or a multiple of 32");
};

template <typename T, int HEAD_DIM> __device__ void decode_attention(const SGLDecodeAttentionParams &p) {
    using C = DecodeConfig<T, HEAD_DIM>;
    constexpr int VEC = C::VEC, TX = C::TX, NV = C::NV, GROUPS = C::GROUPS, HB = C::HB;
    __shared__ float q_s[HB][HEAD_DIM];
    __shared__ float m_s[GROUPS][HB];
    __shared__ float l_s[GROUPS][HB];
    __shared__ float o_s[GROUPS][HB][HEAD_DIM];

    const int split = blockIdx.x, b = blockIdx.z;
    const int group_size = p.q_heads / p.kv_heads;
    const int head_blocks = (group_size + HB - 1) / HB;
    const int kv_head = blockIdx.y / head_blocks, hb = blockIdx.y - kv_head * head_blocks;
    const int h0 = kv_head * group_size + hb * HB;
    const int nh = min(HB, group_size - hb * HB);
    if (b >= p.batch) return;

    int s0, s1;
    decode_split_range(p, b, split, s0, s1);
    const size_t partial_row = (size_t)b * p.q_heads;

    if (s0 >= s1) {
        if (threadIdx.x < nh) p.partial_lse[(partial_row + h0 + threadIdx.x) * p.num_splits + split] = -__int_as_float(0x7f800000);
        return;
    }

    const T *q = (const T *)p.q + (size_t)b * p.q_stride;
    for (int idx = threadIdx.x; idx < HB * HEAD_DIM; idx += blockDim.x) {
        int h = idx / HEAD_DIM, d = idx - h * HEAD_DIM;
        q_s[h][d] = h < nh ? to_float(q[(h0 + h) * HEAD_DIM + d]) : 0.f;
    }
    __syncthreads();

    const int group = threadIdx.x / TX, lane = threadIdx.x - group * TX;
    float qr[HB][NV * VEC];
#pragma unroll
    for (int h = 0; h < HB; ++h)
#pragma unroll
        for (int j = 0; j < NV; ++j)
#pragma unroll
            for (int e = 0; e < VEC; ++e) qr[h][j * VEC + e] = q_s[h][(lane + j * TX) * VEC + e];

    float m[HB], l[HB], acc[HB][NV * VEC];
#pragma unroll
    for (int h = 0; h < HB; ++h) {
        m[h] = -__int_as_float(0x7f800000);
        l[h] = 0.f;
#pragma unroll
        for (int e = 0; e < NV * VEC; ++e) acc[h][e] = 0.f;
    }

    const int *table = p.req_to_token + (size_t)p.req_pool_indices[b] * p.req_to_token_stride;
    const size_t row_stride = (size_t)p.kv_heads * HEAD_DIM;
    constexpr int TOK = C::TOK, STEP = GROUPS * TOK;
    // Each group takes TOK tokens per iteration (positions base + t·GROUPS + group), all their K/V loads issued
    // before any use, and the next iteration's slot indices are fetched while this one computes: enough bytes
    // in flight per block to stream the cache at full bandwidth. Every lane runs the same number of iterations
    // so the group shuffles stay convergent.
    int slots[TOK];
#pragma unroll
    for (int t = 0; t < TOK; ++t) {
        const int pos = s0 + t * GROUPS + group;
        slots[t] = table[pos < s1 ? pos : s0];
    }
    for (int base = s0; base < s1; base += STEP) {
        uint4 kraw[TOK][NV], vraw[TOK][NV];
#pragma unroll
        for (int t = 0; t < TOK; ++t) {
            const T *k = (const T *)p.k_cache + (size_t)slots[t] * row_stride + (size_t)kv_head * HEAD_DIM;
            const T *v = (const T *)p.v_cache + (size_t)slots[t] * row_stride + (size_t)kv_head * HEAD_DIM;
#pragma unroll
            for (int j = 0; j < NV; ++j) {
                kraw[t][j] = *reinterpret_cast<const uint4 *>(k + (lane + j * TX) * VEC);
                vraw[t][j] = *reinterpret_cast<const uint4 *>(v + (lane + j * TX) * VEC);
            }
        }
        bool valid[TOK];
#pragma unroll
        for (int t = 0; t < TOK; ++t) {
            valid[t] = base + t * GROUPS + group < s1;
            const int next = base + STEP + t * GROUPS + group;
            if (base + STEP < s1) slots[t] = table[next < s1 ? next : s0];
        }
#pragma unroll
        for (int h = 0; h < HB; ++h) {
            float sc[TOK];
#pragma unroll
            for (int t = 0; t < TOK; ++t) {
                float s = 0.f;
#pragma unroll
                for (int j = 0; j < NV; ++j) {
                    float kf[VEC];
                    unpack16(kraw[t][j], (const T *)nullptr, kf);
#pragma unroll
                    for (int e = 0; e < VEC; ++e) s += qr[h][j * VEC + e] * kf[e];
                }
#pragma unroll
                for (int o = TX / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
                s *= p.scale;
                if (p.softcap > 0.f) s = p.softcap * tanhf(s / p.softcap);
                sc[t] = s;
            }
            if (h < nh) {
                float m_new = m[h];
#pragma unroll
                for (int t = 0; t < TOK; ++t)
                    if (valid[t]) m_new = fmaxf(m_new, sc[t]);
                if (m_new > -__int_as_float(0x7f800000)) {
                    const float correction = expf(m[h] - m_new);
                    l[h] *= correction;
#pragma unroll
                    for (int e = 0; e < NV * VEC; ++e) acc[h][e] *= correction;
#pragma unroll
                    for (int t = 0; t < TOK; ++t) {
                        if (!valid[t]) continue;
                        const float w = expf(sc[t] - m_new);
                        l[h] += w;
#pragma unroll
                        for (int j = 0; j < NV; ++j) {
                            float vf[VEC];
                            unpack16(vraw[t][j], (const T *)nullptr, vf);
#pragma unroll
                            for (int e = 0; e < VEC; ++e) acc[h][j * VEC + e] += w * vf[e];
                        }
                    }
                    m[h] = m_new;
                }
            }
        }
    }

#pragma unroll
    for (int h = 0; h < HB; ++h) {
        if (lane == 0) {
            m_s[group][h] = m[h];
            l_s[group][h] = l[h];
        }
#pragma unroll
        for (int j = 0; j < NV; ++j)
#pragma unroll
            for (int e = 0; e < VEC; ++e) o_s[group][h][(lane + j * TX) * VEC + e] = acc[h][j * VEC + e];
    }
    __syncthreads();

    for (int idx = threadIdx.x; idx < nh * HEAD_DIM; idx += blockDim.x) {
        int h = idx / HEAD_DIM, d = idx - h * HEAD_DIM;
        float mx = -__int_as_float(0x7f800000);
        for (int g = 0; g < GROUPS; ++g) mx = fmaxf(mx, m_s[g][h]);
        float sum = 0.f, o = 0.f;
        for (int g = 0; g < GROUPS; ++g) {
            if (l_s[g][h] == 0.f) continue;  // a group that saw no token
            float w = expf(m_s[g][h] - mx);
            sum += l_s[g][h] * w;
            o += o_s[g][h][d] * w;
        }
        size_t row = (partial_row + h0 + h) * p.num_splits + split;
        p.partial_out[row * HEAD_DIM + d] = o / sum;
        if (d == 0) p.partial_lse[row] = mx + logf(sum);
    }
}

// One block per (query head, request): warp 0 turns the splits' log-sum-exps into weights (at most 64 splits,
// loaded in parallel), then every thread sums its channels over the splits.
template <typename T> __device__ void attention_combine(const SGLAttentionCombineParams &p) {
    __shared__ float w_s[64];
    __shared__ float inv_s;
    const int h = blockIdx.x, b = blockIdx.y;
    if (b >= p.batch || h >= p.q_heads) return;
    const size_t row = ((size_t)b * p.q_heads + h) * p.num_splits;
    const float neg_inf = -__int_as_float(0x7f800000);
    if (threadIdx.x < 32) {
        const int lane = threadIdx.x;
        const float l0 = lane < p.num_splits ? p.partial_lse[row + lane] : neg_inf;
        const float l1 = lane + 32 < p.num_splits ? p.partial_lse[row + lane + 32] : neg_inf;
        const float mx = warp_max(fmaxf(l0, l1));
        // Empty splits (lse = -inf) weigh nothing; a row with no token at all gives zeros.
        const float w0 = l0 > neg_inf ? expf(l0 - mx) : 0.f, w1 = l1 > neg_inf ? expf(l1 - mx) : 0.f;
        const float sum = warp_sum(w0 + w1);
        if (lane < p.num_splits) w_s[lane] = w0;
        if (lane + 32 < p.num_splits) w_s[lane + 32] = w1;
        if (lane == 0) inv_s = sum > 0.f ? 1.f / sum : 0.f;
    }
    __syncthreads();
    T *out = (T *)p.out + (size_t)b * p.out_stride + (size_t)h * p.head_dim;
    const float *partial = p.partial_out + row * p.head_dim;
    for (int d = threadIdx.x; d < p.head_dim; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < p.num_splits; ++s) {
            const float w = w_s[s];
            if (w > 0.f) o += w * partial[(size_t)s * p.head_dim + d];
        }
        out[d] = from_float<T>(o * inv_s);
    }
}

#define SGL_DECODE(NAME, T, D)                                                                       \
    extern "C" __global__ void __launch_bounds__(128, 4) NAME(const __grid_constant__ SGLDecodeAttentionParams p) { \
        sgl_pdl_begin();                                                                             \
        decode_attention<T, D>(p);                                                                   \
    }
SGL_DECODE(sgl_decode_attention_f32_hd16, float, 16)
SGL_DECODE(sgl_decode_attention_f32_hd32, float, 32)
SGL_DECODE(sgl_decode_attention_f32_hd64, float, 64)
SGL_DECODE(sgl_decode_attention_f32_hd128, float, 128)
SGL_DECODE(sgl_decode_attention_f32_hd256, float, 256)
SGL_DECODE(sgl_decode_attention_bf16_hd16, bf16, 16)
SGL_DECODE(sgl_decode_attention_bf16_hd32, bf16, 32)
SGL_DECODE(sgl_decode_attention_bf16_hd64, bf16, 64)
SGL_DECODE(sgl_decode_attention_bf16_hd128, bf16, 128)
SGL_DECODE(sgl_decode_attention_bf16_hd256, bf16, 256)

extern "C" __global__ void sgl_attention_combine_f32(const __grid_constant__ SGLAttentionCombineParams p) { sgl_pdl_begin(); attention_combine<float>(p); }
extern "C" __global__ void sgl_attention_combine_bf16(const __grid_constant__ SGLAttentionCombineParams p) { sgl_pdl_begin(); attention_combine<bf16>(p); }
