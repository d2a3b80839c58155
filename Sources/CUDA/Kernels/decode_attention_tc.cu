// Paged decode attention on tensor cores (bf16, head size 64 or 128): split-K stage 1 with the same partial
// outputs as decode_attention.cu, so its merge kernel finishes the job.
//
// Grid (num_splits, kv_heads × head_blocks, batch); a block serves up to 8 query heads of one KV head (the n = 8
// side of mma.m16n8k16). Its four warps take 16-token tiles of the split in turn, each on its own: a warp copies
// its next tile's K and V rows (paged, via req_to_token; whole 16-byte-chunked rows per copy instruction, so the
// loads coalesce) into its own two-stage shared buffer with cp.async while it computes the current one, so the
// loop has no block barrier. Per tile, with the 16 tokens as the m side:
//   Sᵀ (16 tokens × 8 heads) = K · Qᵀ            A = K from shared memory (ldmatrix), B = Q held in registers;
//   online softmax per head (a head is a column of Sᵀ, so a thread's two heads stay its own);
//   Oᵀ (head_dim × 8 heads) += Vᵀ · Pᵀ           A = V through ldmatrix.trans, B = P (bf16) through a 256-byte
//                                                 per-warp scratch that turns Sᵀ's layout into B's.
// Tokens past the split read the split's first slot and get probability 0. The warps' (m, l, O) are merged
// through shared memory at the end. With split counters, the block that finishes a (request, KV head, head block)
// last also merges the splits (no merge kernel).
#include "common.cuh"

template <int HEAD_DIM> struct DecodeTCConfig {
    static constexpr int WARPS = 4;
    static constexpr int TILE = 16;
    static constexpr int CH = HEAD_DIM / 8;                 // 16-byte chunks per K/V row
    static constexpr int KSTEPS = HEAD_DIM / 16;            // k steps of Sᵀ, m tiles of Oᵀ
    static constexpr int STAGE = 2 * TILE * HEAD_DIM;       // K and V of one tile (elements)
    static constexpr int WARP_ELEMS = 2 * STAGE + 8 * TILE; // two stages + P as [head][token]
    static constexpr int SHARED_BYTES = WARPS * WARP_ELEMS * 2;
    static_assert(HEAD_DIM == 64 || HEAD_DIM == 128, "tensor-core decode attention serves head sizes 64 and 128");
    static_assert(WARPS * 8 * (HEAD_DIM + 2) * 4 <= SHARED_BYTES, "the merge must fit in the stage buffers");
};

/// With split counters: the block that finishes its (request, KV head, head block) last merges every split's
/// partials into `out`, as sgl_attention_combine would, and zeroes the counter for the next launch. The splits'
/// weights are worked out once per head (a warp per head); the partials are read through L2 (`__ldcg`: other
/// blocks wrote them), the loads of one output independent of each other so they overlap.
template <int HEAD_DIM> __device__ void finish_splits(const SGLDecodeAttentionParams &p, int b, int h0, int nh) {
    if (!p.split_counters) return;
    __shared__ int is_last;
    __shared__ float w_s[8][64];
    __shared__ float inv_s[8];
    __threadfence();  // this block's partials are visible before it counts itself done
    __syncthreads();
    if (threadIdx.x == 0) {
        int *counter = p.split_counters + (size_t)b * gridDim.y + blockIdx.y;
        is_last = atomicAdd(counter, 1) == p.num_splits - 1;
        if (is_last) *counter = 0;
    }
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    const float neg_inf = -__int_as_float(0x7f800000);
    const size_t partial_row = (size_t)b * p.q_heads;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    for (int h = warp; h < nh; h += warps) {
        const float *lse = p.partial_lse + (partial_row + h0 + h) * p.num_splits;
        const float l0 = lane < p.num_splits ? __ldcg(lse + lane) : neg_inf;
        const float l1 = lane + 32 < p.num_splits ? __ldcg(lse + lane + 32) : neg_inf;
        const float mx = warp_max(fmaxf(l0, l1));
        // Empty splits (lse = -inf) weigh nothing; a row with no token at all gives zeros.
        const float w0 = l0 > neg_inf ? expf(l0 - mx) : 0.f, w1 = l1 > neg_inf ? expf(l1 - mx) : 0.f;
        const float sum = warp_sum(w0 + w1);
        if (lane < p.num_splits) w_s[h][lane] = w0;
        if (lane + 32 < p.num_splits) w_s[h][lane + 32] = w1;
        if (lane == 0) inv_s[h] = sum > 0.f ? 1.f / sum : 0.f;
    }
    __syncthreads();
    bf16 *out = (bf16 *)p.out + (size_t)b * p.out_stride;
    for (int idx = threadIdx.x; idx < nh * HEAD_DIM; idx += blockDim.x) {
        const int h = idx / HEAD_DIM, d = idx - h * HEAD_DIM;
        const float *partial = p.partial_out + (partial_row + h0 + h) * p.num_splits * HEAD_DIM + d;
        float acc = 0.f;
        // Every load is issued (an empty split's partial was never written: its weight 0 discards it).
#pragma unroll 4
        for (int s = 0; s < p.num_splits; ++s) {
            const float w = w_s[h][s], v = __ldcg(partial + (size_t)s * HEAD_DIM);
            acc += w > 0.f ? w * v : 0.f;
        }
        out[(size_t)(h0 + h) * HEAD_DIM + d] = from_float<bf16>(acc * inv_s[h]);
    }
}

template <int HEAD_DIM> __device__ void decode_attention_tc(const SGLDecodeAttentionParams &p) {
    using C = DecodeTCConfig<HEAD_DIM>;
    constexpr int CH = C::CH, KS = C::KSTEPS, TILE = C::TILE, WARPS = C::WARPS;
    extern __shared__ __align__(128) unsigned char shared_raw[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = lane >> 2, t4 = lane & 3;
    bf16 *mine = reinterpret_cast<bf16 *>(shared_raw) + warp * C::WARP_ELEMS;
    bf16 *p_s = mine + 2 * C::STAGE;

    const int split = blockIdx.x, b = blockIdx.z;
    const int group_size = p.q_heads / p.kv_heads;
    const int head_blocks = (group_size + 7) / 8;
    const int kv_head = blockIdx.y / head_blocks, hb = blockIdx.y - kv_head * head_blocks;
    const int h0 = kv_head * group_size + hb * 8;
    const int nh = min(8, group_size - hb * 8);
    if (b >= p.batch) return;

    int s0, s1;
    decode_split_range(p, b, split, s0, s1);
    const size_t partial_row = (size_t)b * p.q_heads;
    const float neg_inf = -__int_as_float(0x7f800000);
    if (s0 >= s1) {
        if (threadIdx.x < nh) p.partial_lse[(partial_row + h0 + threadIdx.x) * p.num_splits + split] = neg_inf;
        finish_splits<HEAD_DIM>(p, b, h0, nh);
        return;
    }

    // Q as the B operand of Sᵀ = K·Qᵀ: b0 = Q[head g][16k + 2t4, +1], b1 = Q[head g][16k + 8 + 2t4, +1].
    unsigned qf[KS][2];
    {
        const bf16 *q = (const bf16 *)p.q + (size_t)b * p.q_stride + (size_t)(h0 + min(g, nh - 1)) * HEAD_DIM;
#pragma unroll
        for (int k = 0; k < KS; ++k) {
            qf[k][0] = g < nh ? *reinterpret_cast<const unsigned *>(q + 16 * k + 2 * t4) : 0u;
            qf[k][1] = g < nh ? *reinterpret_cast<const unsigned *>(q + 16 * k + 8 + 2 * t4) : 0u;
        }
    }

    const int *table = p.req_to_token + (size_t)p.req_pool_indices[b] * p.req_to_token_stride;
    const size_t kv_row = (size_t)p.kv_heads * HEAD_DIM;
    const bf16 *k_base = (const bf16 *)p.k_cache + (size_t)kv_head * HEAD_DIM;
    const bf16 *v_base = (const bf16 *)p.v_cache + (size_t)kv_head * HEAD_DIM;
    const int tiles = (s1 - s0 + TILE - 1) / TILE;
    // Lane l looks up the slot of row l % 16 of a tile; the copies take whole rows per instruction (lane l copies
    // chunk l % CH of rows l / CH, l / CH + 32 / CH, ...), the row's slot shuffled from the lane that read it.
    constexpr int ROWS = 32 / CH;  // rows per copy instruction
    const int copy_chunk = lane % CH, copy_row0 = lane / CH;
    auto slot_of = [&](int tile) {
        const int pos = s0 + tile * TILE + (lane & 15);
        return table[pos < s1 ? pos : s0];
    };
    auto issue = [&](int stage, int slot) {
        bf16 *ks = mine + stage * C::STAGE, *vs = ks + TILE * HEAD_DIM;
#pragma unroll
        for (int i = 0; i < TILE / ROWS; ++i) {
            const int row = copy_row0 + i * ROWS;
            const int row_slot = __shfl_sync(0xffffffffu, slot, row);
            cp_async16(smem_address(ks + swizzle<CH>(row, copy_chunk)), k_base + (size_t)row_slot * kv_row + copy_chunk * 8, 16);
            cp_async16(smem_address(vs + swizzle<CH>(row, copy_chunk)), v_base + (size_t)row_slot * kv_row + copy_chunk * 8, 16);
        }
    };

    float m[2] = {neg_inf, neg_inf}, l[2] = {0.f, 0.f};
    float o[KS][4];
#pragma unroll
    for (int k = 0; k < KS; ++k) o[k][0] = o[k][1] = o[k][2] = o[k][3] = 0.f;

    int tile = warp;
    if (tile < tiles) issue(0, slot_of(tile));
    cp_async_commit();
    int next_slot = tile + WARPS < tiles ? slot_of(tile + WARPS) : 0;
    for (int it = 0; tile < tiles; tile += WARPS, ++it) {
        if (tile + WARPS < tiles) issue((it + 1) & 1, next_slot);
        cp_async_commit();
        if (tile + 2 * WARPS < tiles) next_slot = slot_of(tile + 2 * WARPS);
        cp_async_wait<1>();
        __syncwarp();
        const bf16 *ks = mine + (it & 1) * C::STAGE, *vs = ks + TILE * HEAD_DIM;

        // s[0], s[1]: token g, heads 2t4 and 2t4 + 1; s[2], s[3]: token g + 8.
        float s[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int k = 0; k < KS; ++k) {
            unsigned a0, a1, a2, a3;
            ldmatrix_x4(smem_address(ks + swizzle<CH>(lane & 15, 2 * k + (lane >> 4))), a0, a1, a2, a3);
            mma_bf16(s, a0, a1, a2, a3, qf[k][0], qf[k][1]);
        }
        const int first = s0 + tile * TILE;
        const bool valid_lo = first + g < s1, valid_hi = first + g + 8 < s1;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            float x = s[i] * p.scale;
            if (p.softcap > 0.f) x = p.softcap * tanhf(x / p.softcap);
            s[i] = (i < 2 ? valid_lo : valid_hi) ? x : neg_inf;
        }
        // The tile's maximum per head: this thread's two tokens, then the 8 lanes of the same column.
        float t0 = fmaxf(s[0], s[2]), t1 = fmaxf(s[1], s[3]);
#pragma unroll
        for (int off = 4; off < 32; off <<= 1) {
            t0 = fmaxf(t0, __shfl_xor_sync(0xffffffffu, t0, off));
            t1 = fmaxf(t1, __shfl_xor_sync(0xffffffffu, t1, off));
        }
        // Token 0 of every tile is inside the split, so the new maxima are finite.
        const float n0 = fmaxf(m[0], t0), n1 = fmaxf(m[1], t1);
        const float c0 = expf(m[0] - n0), c1 = expf(m[1] - n1);
        m[0] = n0;
        m[1] = n1;
        const float p0 = expf(s[0] - n0), p1 = expf(s[1] - n1), p2 = expf(s[2] - n0), p3 = expf(s[3] - n1);
        l[0] = l[0] * c0 + p0 + p2;
        l[1] = l[1] * c1 + p1 + p3;
#pragma unroll
        for (int k = 0; k < KS; ++k) {
            o[k][0] *= c0;
            o[k][1] *= c1;
            o[k][2] *= c0;
            o[k][3] *= c1;
        }
        // P as [head][token] bf16, read back as mma's B fragments (heads along n, tokens along k).
        p_s[(2 * t4) * TILE + g] = from_float<bf16>(p0);
        p_s[(2 * t4 + 1) * TILE + g] = from_float<bf16>(p1);
        p_s[(2 * t4) * TILE + g + 8] = from_float<bf16>(p2);
        p_s[(2 * t4 + 1) * TILE + g + 8] = from_float<bf16>(p3);
        __syncwarp();
        unsigned pb0, pb1;
        ldmatrix_x2(smem_address(p_s + (lane & 7) * TILE + ((lane >> 3) & 1) * 8), pb0, pb1);
        // Oᵀ m tile k: dims 16k + g (o[k][0..1]) and 16k + g + 8 (o[k][2..3]), heads 2t4 and 2t4 + 1.
        const int v_row = (lane & 7) + ((lane >> 4) << 3), v_half = (lane >> 3) & 1;
#pragma unroll
        for (int k = 0; k < KS; ++k) {
            unsigned a0, a1, a2, a3;
            ldmatrix_x4_trans(smem_address(vs + swizzle<CH>(v_row, 2 * k + v_half)), a0, a1, a2, a3);
            mma_bf16(o[k], a0, a1, a2, a3, pb0, pb1);
        }
        // The next iteration's copies overwrite this stage and this P.
        __syncwarp();
    }
    cp_async_wait_all();
    // l so far is this thread's tokens only; the column's 8 lanes share m, so their sums add up.
#pragma unroll
    for (int off = 4; off < 32; off <<= 1) {
        l[0] += __shfl_xor_sync(0xffffffffu, l[0], off);
        l[1] += __shfl_xor_sync(0xffffffffu, l[1], off);
    }

    // Merge the warps (m, l, O) through the stage buffers, which every warp is done with after the barrier.
    __syncthreads();
    float *m_s = reinterpret_cast<float *>(shared_raw);   // [WARPS][8]
    float *l_s = m_s + WARPS * 8;                         // [WARPS][8]
    float *o_s = l_s + WARPS * 8;                         // [WARPS][8][HEAD_DIM]
    if (g == 0) {
        m_s[warp * 8 + 2 * t4] = m[0];
        m_s[warp * 8 + 2 * t4 + 1] = m[1];
        l_s[warp * 8 + 2 * t4] = l[0];
        l_s[warp * 8 + 2 * t4 + 1] = l[1];
    }
#pragma unroll
    for (int k = 0; k < KS; ++k) {
        float *ow = o_s + (size_t)warp * 8 * HEAD_DIM;
        ow[(2 * t4) * HEAD_DIM + 16 * k + g] = o[k][0];
        ow[(2 * t4 + 1) * HEAD_DIM + 16 * k + g] = o[k][1];
        ow[(2 * t4) * HEAD_DIM + 16 * k + g + 8] = o[k][2];
        ow[(2 * t4 + 1) * HEAD_DIM + 16 * k + g + 8] = o[k][3];
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < nh * HEAD_DIM; idx += blockDim.x) {
        const int h = idx / HEAD_DIM, d = idx - h * HEAD_DIM;
        float mx = neg_inf;
        for (int w = 0; w < WARPS; ++w) mx = fmaxf(mx, m_s[w * 8 + h]);
        float sum = 0.f, acc = 0.f;
        for (int w = 0; w < WARPS; ++w) {
            if (l_s[w * 8 + h] == 0.f) continue;  // a warp that had no tile
            const float wgt = expf(m_s[w * 8 + h] - mx);
            sum += l_s[w * 8 + h] * wgt;
            acc += o_s[((size_t)w * 8 + h) * HEAD_DIM + d] * wgt;
        }
        const size_t row = (partial_row + h0 + h) * p.num_splits + split;
        p.partial_out[row * HEAD_DIM + d] = acc / sum;
        if (d == 0) p.partial_lse[row] = mx + logf(sum);
    }
    finish_splits<HEAD_DIM>(p, b, h0, nh);
}

extern "C" __global__ void __launch_bounds__(128) sgl_decode_attention_tc_bf16_hd64(const __grid_constant__ SGLDecodeAttentionParams p) {
    sgl_pdl_begin();
    decode_attention_tc<64>(p);
}
extern "C" __global__ void __launch_bounds__(128) sgl_decode_attention_tc_bf16_hd128(const __grid_constant__ SGLDecodeAttentionParams p) {
    sgl_pdl_begin();
    decode_attention_tc<128>(p);
}
