// Greedy argmax, grammar bitmask apply, and temperature / top-k / top-p / min-p sampling without sorting.
#include "common.cuh"

/// A float's bits mapped so that unsigned order is numeric order (-0 taken as +0, as the comparison does).
__device__ __forceinline__ unsigned int ordered_bits(float v) {
    unsigned int u = __float_as_uint(v + 0.f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

template <typename T> __device__ void argmax_chunks(const SGLArgmaxParams &p) {
    const int r = blockIdx.y;
    if (r >= p.rows) return;
    const T *x = (const T *)p.logits + (size_t)r * p.vocab;
    const int begin = blockIdx.x * p.chunk, end = min(p.vocab, begin + p.chunk);
    float best = 0.f;
    int best_index = -1;
    // Four independent loads in flight per thread before the compare chain.
    constexpr int U = 4;
    for (int base = begin + threadIdx.x; base < end; base += U * blockDim.x) {
        float v[U];
#pragma unroll
        for (int k = 0; k < U; ++k) {
            const int i = base + k * blockDim.x;
            v[k] = i < end ? to_float(x[i]) : __int_as_float(0x7fffffff);
        }
#pragma unroll
        for (int k = 0; k < U; ++k) argmax_update(v[k], base + k * blockDim.x, best, best_index);
    }
    const int winner = block_argmax(best, best_index);
    if (threadIdx.x != 0) return;
    if (winner >= 0) {
        const sgl_u64 key =
            ((sgl_u64)ordered_bits(to_float(x[winner])) << 32) | (sgl_u64)(0xFFFFFFFFu - (unsigned int)winner);
        atomicMax(p.keys + r, key);
    }
    __threadfence();
    if (atomicAdd(p.counters + r, 1u) == gridDim.x - 1) {
        // Every block of the row has raised the key: take it and leave zeros for the next launch.
        const sgl_u64 key = atomicExch(p.keys + r, 0ull);
        p.counters[r] = 0u;
        p.out_ids[r] = key == 0ull ? 0 : (int)(0xFFFFFFFFu - (unsigned int)(key & 0xFFFFFFFFull));
    }
}

extern "C" __global__ void __launch_bounds__(256) sgl_argmax_f32(const __grid_constant__ SGLArgmaxParams p) { sgl_pdl_begin(); argmax_chunks<float>(p); }
extern "C" __global__ void __launch_bounds__(256) sgl_argmax_bf16(const __grid_constant__ SGLArgmaxParams p) { sgl_pdl_begin(); argmax_chunks<bf16>(p); }

template <typename T> __device__ void apply_bitmask(const SGLBitmaskParams &p) {
    size_t total = (size_t)p.rows * p.vocab;
    int words = (p.vocab + 31) / 32;
    T *logits = (T *)p.logits;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += (size_t)gridDim.x * blockDim.x) {
        size_t r = idx / p.vocab;
        int v = (int)(idx - r * p.vocab);
        unsigned int word = (unsigned int)p.bitmask[r * words + (v >> 5)];
        if (!((word >> (v & 31)) & 1u)) logits[idx] = negative_infinity<T>();
    }
}

extern "C" __global__ void sgl_apply_bitmask_f32(const __grid_constant__ SGLBitmaskParams p) { sgl_pdl_begin(); apply_bitmask<float>(p); }
extern "C" __global__ void sgl_apply_bitmask_bf16(const __grid_constant__ SGLBitmaskParams p) { sgl_pdl_begin(); apply_bitmask<bf16>(p); }

extern "C" __global__ void __launch_bounds__(128) sgl_logit_edits(const __grid_constant__ SGLLogitEditParams p) {
    sgl_pdl_begin();
    const int r = blockIdx.x;
    if (r >= p.rows) return;
    const float t = p.temperature[r], inv_t = 1.f / t;
    float *x = p.logits + (size_t)r * p.vocab;
    for (int e = p.row_starts[r] + threadIdx.x; e < p.row_starts[r + 1]; e += blockDim.x) {
        const SGLLogitEdit edit = p.edits[e];
        if (edit.token < 0 || edit.token >= p.vocab) continue;
        float v = x[edit.token] * inv_t;
        v = (v + edit.bias) - edit.penalty;
        const float ninf = negative_infinity<float>();
        if (edit.masked) v = ninf;
        if (edit.repetition != 1.f) {
            if (v > 0.f) v = v / edit.repetition;
            else if (v > ninf) v = v * edit.repetition;
        }
        x[edit.token] = v * t;
    }
}

/// Philox4x32-10 (Salmon et al. 2011): counter-based, so (seed, offset) fully determines the draw.
__device__ __forceinline__ uint4 philox4x32(uint4 ctr, uint2 key) {
#pragma unroll
    for (int i = 0; i < 10; ++i) {
        unsigned int hi0 = __umulhi(0xD2511F53u, ctr.x), lo0 = 0xD2511F53u * ctr.x;
        unsigned int hi1 = __umulhi(0xCD9E8D57u, ctr.z), lo1 = 0xCD9E8D57u * ctr.z;
        ctr = make_uint4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key.x += 0x9E3779B9u;
        key.y += 0xBB67AE85u;
    }
    return ctr;
}

/// Uniform in [0, 1) with 24 random bits.
__device__ __forceinline__ float uniform01(sgl_u64 seed, sgl_u64 offset) {
    uint4 c = make_uint4((unsigned int)offset, (unsigned int)(offset >> 32), 0u, 0u);
    uint2 k = make_uint2((unsigned int)seed, (unsigned int)(seed >> 32));
    return (float)(philox4x32(c, k).x >> 8) * (1.f / 16777216.f);
}

// Unnormalized probability of token i: exp((x_i - max) / T), so the largest is exactly 1.
__device__ __forceinline__ float unnormalized_probability(const float *x, int i, float mx, float inv_t) {
    return expf((x[i] - mx) * inv_t);
}

/// Exclusive prefix sum of `v` over the block in thread order; `total` gets the block's sum.
__device__ __forceinline__ int block_exclusive_scan(int v, int &total) {
    __shared__ int warp_offsets[32];
    __shared__ int block_total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    int inclusive = v;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const int t = __shfl_up_sync(0xffffffffu, inclusive, o);
        if (lane >= o) inclusive += t;
    }
    if (lane == 31) warp_offsets[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
        const int w = lane < warps ? warp_offsets[lane] : 0;
        int scanned = w;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int t = __shfl_up_sync(0xffffffffu, scanned, o);
            if (lane >= o) scanned += t;
        }
        if (lane < warps) warp_offsets[lane] = scanned - w;
        if (lane == 31) block_total = scanned;
    }
    __syncthreads();
    const int r = warp_offsets[warp] + inclusive - v;
    total = block_total;
    __syncthreads();
    return r;
}

#define SGL_SAMPLE_CANDIDATES 8192

/// The smallest t in [0, bits(1.0)] with f(t) ≤ `limit`, where f(t) adds w(q) over the row's unnormalized
/// probabilities q = exp((x − max) / T) whose bits exceed t (w = 1 counts tokens, w = q adds mass): bisection on
/// the bits. Rounds scan the whole row until at most SGL_SAMPLE_CANDIDATES of its q lie in the bracket [lo, hi];
/// those then move to `candidates` once (each thread's in row order, placed by a block scan, so sums keep a fixed
/// order and draws stay reproducible) and later rounds scan only them, the q above the bracket adding a constant.
template <bool COUNT>
__device__ unsigned int bisect_threshold(const float *x, int V, float mx, float inv_t, float limit, float *candidates) {
    unsigned int lo = 0, hi = 0x3f800000u;  // every q ≤ 1, so f(bits(1.0)) = 0 ≤ limit
    // This thread's q in the bracket, and the block's.
    int mine = (int)threadIdx.x < V ? (V - (int)threadIdx.x + (int)blockDim.x - 1) / (int)blockDim.x : 0;
    int bracketed = V, held = -1;
    float above_bracket = 0.f;
    while (lo < hi) {
        if (held < 0 && bracketed <= SGL_SAMPLE_CANDIDATES) {
            int total = 0, at = block_exclusive_scan(mine, total);
            float outside = 0.f;
            for (int i = threadIdx.x; i < V; i += blockDim.x) {
                const float q = unnormalized_probability(x, i, mx, inv_t);
                const unsigned int key = __float_as_uint(q);
                if (key > hi) outside += COUNT ? 1.f : q;
                else if (key >= lo) candidates[at++] = q;
            }
            above_bracket = block_sum(outside);  // its barriers also publish the candidates
            held = total;
        }
        const unsigned int mid = lo + (hi - lo) / 2;
        float above = 0.f;
        int low = 0, high = 0;
        if (held < 0) {
            for (int i = threadIdx.x; i < V; i += blockDim.x) {
                const float q = unnormalized_probability(x, i, mx, inv_t);
                const unsigned int key = __float_as_uint(q);
                if (key > mid) above += COUNT ? 1.f : q;
                if (key >= lo && key <= hi) {
                    if (key <= mid) ++low;
                    else ++high;
                }
            }
            above = block_sum(above);
        } else {
            for (int j = threadIdx.x; j < held; j += blockDim.x) {
                const float q = candidates[j];
                if (__float_as_uint(q) > mid) above += COUNT ? 1.f : q;
            }
            above = block_sum(above) + above_bracket;
        }
        if (above <= limit) {
            hi = mid;
            mine = low;
        } else {
            lo = mid + 1;
            mine = high;
        }
        if (held < 0) bracketed = block_count(mine);
    }
    return lo;
}

extern "C" __global__ void __launch_bounds__(1024) sgl_sample(const __grid_constant__ SGLSamplingParams p) {
    sgl_pdl_begin();
    const int r = blockIdx.x;
    if (r >= p.rows) return;
    const int V = p.vocab;
    const float *x = p.logits + (size_t)r * V;
    const float temperature = p.temperature[r];
    const int top_k = p.top_k[r];

    float best = 0.f;
    int best_index = -1;
    for (int i = threadIdx.x; i < V; i += blockDim.x) argmax_update(x[i], i, best, best_index);
    const int greedy = block_argmax(best, best_index);
    if (!(temperature > 0.f) || top_k == 1 || greedy < 0) {
        if (threadIdx.x == 0) p.out_ids[r] = greedy < 0 ? 0 : greedy;
        return;
    }
    const float mx = x[greedy], inv_t = 1.f / temperature;

    float z = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) z += unnormalized_probability(x, i, mx, inv_t);
    z = block_sum(z);

    // Thresholds on the probability's bits (non-negative floats order like their bit patterns). A token is kept
    // when fewer than k tokens are strictly more likely, when the mass strictly above it is at most top_p, and
    // when it is at least min_p times the largest probability (which is 1 here).
    __shared__ float candidates[SGL_SAMPLE_CANDIDATES];
    unsigned int threshold = 0;
    if (top_k > 0 && top_k < V) {
        threshold = max(threshold, bisect_threshold<true>(x, V, mx, inv_t, (float)(top_k - 1), candidates));
    }
    const float top_p = p.top_p[r];
    if (top_p < 1.f) threshold = max(threshold, bisect_threshold<false>(x, V, mx, inv_t, top_p * z, candidates));
    const float min_p = p.min_p[r];
    if (min_p > 0.f) threshold = max(threshold, __float_as_uint(fminf(min_p, 1.f)));

    // Inverse-CDF draw over the kept mass in vocabulary order: each thread owns a contiguous chunk.
    const int chunk = (V + blockDim.x - 1) / blockDim.x;
    const int begin = min(V, (int)threadIdx.x * chunk), end = min(V, begin + chunk);
    float mine = 0.f;
    int last_kept = -1;
    for (int i = begin; i < end; ++i) {
        float q = unnormalized_probability(x, i, mx, inv_t);
        if (__float_as_uint(q) >= threshold) {
            mine += q;
            last_kept = i;
        }
    }
    __shared__ float prefix[1024];
    __shared__ int chosen;
    prefix[threadIdx.x] = mine;
    if (threadIdx.x == 0) chosen = 0x7fffffff;
    __syncthreads();
    // Inclusive scan (Hillis-Steele) over the block; 1024 entries at most.
    for (int o = 1; o < blockDim.x; o <<= 1) {
        float add = threadIdx.x >= o ? prefix[threadIdx.x - o] : 0.f;
        __syncthreads();
        prefix[threadIdx.x] += add;
        __syncthreads();
    }
    const float total = prefix[blockDim.x - 1];
    const float u = uniform01(p.seeds[r], p.offsets[r]) * total;
    const float before = prefix[threadIdx.x] - mine;
    if (mine > 0.f && u >= before && u < prefix[threadIdx.x]) {
        float acc = before;
        int pick = last_kept;
        for (int i = begin; i < end; ++i) {
            float q = unnormalized_probability(x, i, mx, inv_t);
            if (__float_as_uint(q) < threshold) continue;
            acc += q;
            if (u < acc) {
                pick = i;
                break;
            }
        }
        atomicMin(&chosen, pick);
    }
    // Rounding can leave u at or past the total: take the last kept token then.
    __shared__ int last;
    if (threadIdx.x == 0) last = -1;
    __syncthreads();
    if (last_kept >= 0) atomicMax(&last, last_kept);
    __syncthreads();
    if (threadIdx.x == 0) p.out_ids[r] = chosen != 0x7fffffff ? chosen : (last >= 0 ? last : greedy);
}
