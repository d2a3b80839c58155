// Skinny GEMM for decode batches of up to 4 rows: the weights are read once, at close to copy bandwidth.
// `ksplit` warps per output column: lanes stream one part of the column's weight row in 16-byte loads that bypass
// L1 (read once), four loads in flight per lane, against the 1-4 input rows (small, L1/L2-resident); warp
// reductions, then the parts in order through shared memory, finish each dot product in fp32. Splitting fills the
// last wave of resident blocks when there are few columns (64 registers: four 256-thread blocks per SM).
#include "common.cuh"

#define SGL_GEMV_MAX_M 4
#define SGL_GEMV_UNROLL 4

/// What a fused epilogue does with one row's outputs (`SGLGemvNormParams`): GATED writes `act(gate) · up` of the
/// row pairs `i`, `n / 2 + i` to `out`; ROPE rotates the q and k heads' pairs `d`, `d + rot_half` of a fused QKV
/// and stores the key and value at the row's KV slot.
enum { GEMV_PLAIN = 0, GEMV_GATED = 1, GEMV_ROPE = 2 };
struct GemvEpilogue {
    void *out;
    int activation;
    const int *positions, *out_loc;
    const float *inv_freq;
    void *k_cache, *v_cache;
    int q_heads, kv_heads, head_dim, rot_half;
    float attention_factor;
};

/// One column group (`vb`: the 8 warps' columns of one block of the plain launch) of the skinny GEMM; in the
/// block's first group `prologue()` runs once its first weight loads are in flight. GATED and ROPE (one row,
/// split ≤ 4) pair columns inside a block: of its 8 / split columns the first half are the first rows of pairs,
/// the second half their partners. ROPE's pair blocks come first (the rotated q and k heads), then plain blocks for the
/// v heads.
template <typename T, typename O, int MODE, typename Prologue>
__device__ __forceinline__ void gemv_group(const SGLGemvParams &p, Prologue &prologue, const GemvEpilogue &e,
                                           const int vb, const bool first_group = true) {
    constexpr int VEC = 16 / sizeof(T);
    const int split = p.ksplit;
    const int warp = (int)((vb * (size_t)blockDim.x + threadIdx.x) >> 5);
    int col = warp / split, part = warp - col * split;
    const int half = max(1, 4 / split), local = (threadIdx.x >> 5) / split;  // split ≤ 4 when pairing
    int pair = vb * half + local % half;
    // ROPE: pairs of the q and k heads, in pair blocks; the v heads' columns after them.
    const int pairs = MODE == GEMV_GATED ? p.n / 2 : (e.q_heads + e.kv_heads) * e.rot_half;
    const int pair_blocks = MODE == GEMV_ROPE ? (pairs + half - 1) / half : 0;
    const bool pair_block = MODE == GEMV_GATED || (MODE == GEMV_ROPE && vb < pair_blocks);
    int first = 0, second = 0;  // the pair's two rows
    if (MODE == GEMV_GATED && pair < pairs) {
        first = pair;
        second = pairs + pair;
    } else if (MODE == GEMV_ROPE && pair_block && pair < pairs) {
        const int head = pair / e.rot_half, i = pair - head * e.rot_half;
        first = head * e.head_dim + i;
        second = first + e.rot_half;
    }
    if (pair_block) col = pair < pairs ? (local < half ? first : second) : p.n;
    else if (MODE == GEMV_ROPE) col = (e.q_heads + e.kv_heads) * e.head_dim + (vb - pair_blocks) * (8 / split) + local;
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
    if (first_group) {
        sgl_pdl_wait();
        sgl_pdl_launch_dependents();
        prologue();
    }
    if (!active && split == 1 && MODE == GEMV_PLAIN) return;
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
    if (split > 1 || MODE != GEMV_PLAIN) {
        // Parts of a column are adjacent warps of one block (split divides the block's 8 warps).
        __shared__ float partial[8][SGL_GEMV_MAX_M];
        const int wib = threadIdx.x >> 5;
        if (lane == 0) {
#pragma unroll
            for (int r = 0; r < SGL_GEMV_MAX_M; ++r) partial[wib][r] = acc[r];
        }
        __syncthreads();
        if (pair_block) {
            // The first rows' warps finish the pair: both sums rounded as the GEMM's stored outputs.
            if (part != 0 || local >= half || pair >= pairs || lane != 0) return;
            float a = 0.f, b = 0.f;
            for (int s = 0; s < split; ++s) {
                a += partial[wib + s][0];
                b += partial[wib + half * split + s][0];
            }
            if (p.bias) {
                a = round_to<O>(a) + to_float(((const T *)p.bias)[first]);
                b = round_to<O>(b) + to_float(((const T *)p.bias)[second]);
            }
            a = round_to<O>(a);
            b = round_to<O>(b);
            if (MODE == GEMV_GATED) {
                // The activation rounded before the product, as sgl_gated_act.
                ((O *)e.out)[pair] = from_float<O>(round_to<O>(activate(a, e.activation)) * b);
            } else {
                // As sgl_rope_store_kv: fp32 angle, accurate cos/sin, scaled by the attention factor.
                const int i = first % e.head_dim;
                const float angle = e.inv_freq[i] * (float)e.positions[0];
                const float c = cosf(angle) * e.attention_factor, sn = sinf(angle) * e.attention_factor;
                const O o1 = from_float<O>(a * c - b * sn), o2 = from_float<O>(b * c + a * sn);
                ((O *)p.y)[first] = o1;
                ((O *)p.y)[second] = o2;
                const int head = first / e.head_dim, slot = e.out_loc[0];
                if (head >= e.q_heads && slot >= 0) {
                    O *kc = (O *)e.k_cache + (size_t)slot * e.kv_heads * e.head_dim + (size_t)(head - e.q_heads) * e.head_dim;
                    kc[i] = o1;
                    kc[i + e.rot_half] = o2;
                }
            }
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
            const O v = from_float<O>(p.bias ? round_to<O>(acc[r]) + b : acc[r]);
            ((O *)p.y)[(size_t)r * p.n + col] = v;
            if (MODE == GEMV_ROPE && e.out_loc[0] >= 0) {
                // A v head's channel, into the cache as well.
                const int kv_width = e.kv_heads * e.head_dim;
                ((O *)e.v_cache)[(size_t)e.out_loc[0] * kv_width + col - (e.q_heads + e.kv_heads) * e.head_dim] = v;
            }
        }
    }
}

/// The skinny GEMM over `x` (global or shared memory). `prologue()` runs once, when the first weight loads are in
/// flight, with every thread of the block (it may fill `x` and synchronize). With `groups` > 0 the grid is
/// persistent: each block takes column groups (the 8 warps' columns of one block of the plain launch) `blockIdx.x`,
/// `+ gridDim.x`, … below `groups`, so a costly prologue is paid once per block rather than once per group.
template <typename T, typename O, int MODE, typename Prologue>
__device__ void gemv_core(const SGLGemvParams &p, Prologue prologue, const GemvEpilogue &e = {}, const int groups = 0) {
    if (groups == 0) {
        gemv_group<T, O, MODE>(p, prologue, e, blockIdx.x);
        return;
    }
    for (int vb = blockIdx.x; vb < groups; vb += gridDim.x) {
        const bool first = vb == (int)blockIdx.x;
        if (!first) __syncthreads();  // the previous group's partial sums are read before this one writes them
        gemv_group<T, O, MODE>(p, prologue, e, vb, first);
    }
}

template <typename T, typename O> __device__ void gemv(const SGLGemvParams &p) { gemv_core<T, O, GEMV_PLAIN>(p, [] {}); }

extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_f32_f32(const __grid_constant__ SGLGemvParams p) { gemv<float, float>(p); }
extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_bf16_bf16(const __grid_constant__ SGLGemvParams p) { gemv<bf16, bf16>(p); }
extern "C" __global__ void __launch_bounds__(256, 4) sgl_gemv_bf16_f32(const __grid_constant__ SGLGemvParams p) { gemv<bf16, float>(p); }

// Residual add + RMSNorm fused in front of the skinny GEMM (one bf16 row), on a persistent grid: each block
// normalizes the row into shared memory once (a few KB from L2, while its first weight loads are in flight), which
// saves the norm kernel between the two; for a gated MLP's gate-up (`act_out`) the activation is fused behind it,
// for a fused QKV (`k_cache`) the RoPE of q and k and the K/V store. Same rounding as sgl_add_rmsnorm: the sum
// rounded to bf16, Llama's normalized value rounded before the weight, Gemma's `1 + w` in fp32.
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
    const GemvEpilogue e = {p.act_out, p.activation, p.positions, p.out_loc, p.inv_freq, p.k_cache, p.v_cache,
                            p.q_heads, p.kv_heads, p.head_dim, p.rot_half, p.attention_factor};
    if (p.act_out) gemv_core<bf16, bf16, GEMV_GATED>(g, normalize, e, p.groups);
    else if (p.k_cache) gemv_core<bf16, bf16, GEMV_ROPE>(g, normalize, e, p.groups);
    else gemv_core<bf16, bf16, GEMV_PLAIN>(g, normalize, e, p.groups);
}
