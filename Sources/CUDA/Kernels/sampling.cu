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

/// Four consecutive values of a row from `i` on (zeros past the end): one 16-byte load when the row allows.
__device__ __forceinline__ float4 load_row4(const float *q, int i, int V, bool vec) {
    if (vec) return *(const float4 *)(q + i);
    return make_float4(i < V ? q[i] : 0.f, i + 1 < V ? q[i + 1] : 0.f, i + 2 < V ? q[i + 2] : 0.f,
                       i + 3 < V ? q[i + 3] : 0.f);
}

__device__ __forceinline__ float float4_at(const float4 &a, int e) {
    return e == 0 ? a.x : e == 1 ? a.y : e == 2 ? a.z : a.w;
}

/// Calls `f(values, first index)` for every group of four values of a row, the block's threads taking groups in
/// turn with four 16-byte loads in flight each (an L2-resident row is latency-bound otherwise).
template <typename F> __device__ __forceinline__ void row_sweep(const float *q, int V, bool vec, F f) {
    const int n4 = (V + 3) >> 2;
    for (int j = threadIdx.x; j < n4; j += 4 * blockDim.x) {
        float4 a[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int g = j + u * blockDim.x;
            a[u] = g < n4 ? load_row4(q, 4 * g, V, vec) : make_float4(0.f, 0.f, 0.f, 0.f);
        }
#pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int g = j + u * blockDim.x;
            if (g < n4) f(a[u], 4 * g);
        }
    }
}

/// Bins of one radix digit: a probability in [0, 1] has 30 significant bits (1.0 is 0x3f800000), cut into three
/// 10-bit digits from the top.
#define SGL_SAMPLE_BINS 1024
/// A bin's mass is kept as integers so that it does not depend on the order of the atomic adds (the same seed must
/// give the same token) and adds with 32-bit shared atomics (64-bit ones are compare-and-swap loops): its count
/// and the sum of its members' bits below the digit. All members share the higher bits, hence the exponent, so
/// mass = count · (the bin's lowest value) + ulp · (sum of low bits). The first digit's low bits (20) drop their 8
/// lowest to fit a 32-bit sum; the later digits' sums are exact.
__device__ __forceinline__ float bin_mass(unsigned int lowest_bits, int count, unsigned int low_sum, int drop) {
    if (count == 0) return 0.f;
    const int exponent = max((int)(lowest_bits >> 23), 1);
    const float ulp = ldexpf(1.f, exponent - 150);
    const float dropped = (float)((1u << drop) - 1u) * 0.5f;  // the mean of the dropped bits
    return (float)count * __uint_as_float(lowest_bits) + ulp * ((float)low_sum * (float)(1u << drop) + (float)count * dropped);
}

/// The sum over the bins above each thread's own (thread t holds bin t; blockDim.x == SGL_SAMPLE_BINS).
template <typename T> __device__ __forceinline__ T bins_above(T own, T *warp_totals) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    T v = own;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const T n = __shfl_down_sync(0xffffffffu, v, o);
        if (lane + o < 32) v += n;
    }
    if (lane == 0) warp_totals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T t = warp_totals[lane];
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const T n = __shfl_down_sync(0xffffffffu, t, o);
            if (lane + o < 32) t += n;
        }
        warp_totals[lane] = t;  // now the sum over warps ≥ lane
    }
    __syncthreads();
    const T result = v - own + (warp + 1 < 32 ? warp_totals[warp + 1] : (T)0);
    __syncthreads();  // warp_totals is reused by the next call
    return result;
}

/// Inclusive prefix sum over the block (blockDim.x == 1024) in a fixed order.
__device__ __forceinline__ float block_inclusive_scan(float v, float *warp_totals) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const float n = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += n;
    }
    if (lane == 31) warp_totals[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float t = warp_totals[lane];
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const float n = __shfl_up_sync(0xffffffffu, t, o);
            if (lane >= o) t += n;
        }
        warp_totals[lane] = t;
    }
    __syncthreads();
    const float result = v + (warp > 0 ? warp_totals[warp - 1] : 0.f);
    __syncthreads();
    return result;
}

/// Temperature / top-k / top-p / min-p sampling without sorting, one block of 1024 threads per row. The row's
/// unnormalized probabilities exp((x − max) / T) (the largest exactly 1) are stored over its logits. The cuts are
/// thresholds on the probabilities' bits (non-negative floats order like their bit patterns): a token is kept when
/// fewer than k tokens are strictly more likely, when the mass strictly above it is at most top_p, and when it is
/// at least min_p times the largest probability. Each threshold is the smallest bit pattern that satisfies its
/// rule, found one 10-bit digit per pass from histograms of counts (top-k) and mass (top-p): three passes, the
/// first fused with the exponentials. The draw inverts the CDF of the kept mass in vocabulary order.
extern "C" __global__ void __launch_bounds__(1024) sgl_sample(const __grid_constant__ SGLSamplingParams p) {
    sgl_pdl_begin();
    const int r = blockIdx.x;
    if (r >= p.rows) return;
    const int V = p.vocab;
    float *q = p.logits + (size_t)r * V;
    const bool vec = (V & 3) == 0 && (((size_t)q) & 15) == 0;
    const float temperature = p.temperature[r];
    const int top_k = p.top_k[r];

    float best = 0.f;
    int best_index = -1;
    row_sweep(q, V, vec, [&](const float4 &a, int i) {
#pragma unroll
        for (int e = 0; e < 4; ++e)
            if (i + e < V) argmax_update(float4_at(a, e), i + e, best, best_index);
    });
    const int greedy = block_argmax(best, best_index);
    if (!(temperature > 0.f) || top_k == 1 || greedy < 0) {
        if (threadIdx.x == 0) p.out_ids[r] = greedy < 0 ? 0 : greedy;
        return;
    }
    const float mx = q[greedy], inv_t = 1.f / temperature;
    const float top_p = p.top_p[r], min_p = p.min_p[r];

    __shared__ int counts[SGL_SAMPLE_BINS], counts_p[SGL_SAMPLE_BINS];
    __shared__ unsigned int lows_p[SGL_SAMPLE_BINS];
    __shared__ int count_totals[32];
    __shared__ float scan_totals[32];
    __shared__ unsigned int prefix_k, prefix_p;
    __shared__ int rank_k, chosen_k, chosen_p;
    __shared__ float above_p;
    __shared__ bool cut_k, cut_p;
    const int t = threadIdx.x;
    if (t == 0) {
        prefix_k = 0u;
        prefix_p = 0u;
        rank_k = top_k;
        above_p = 0.f;
        cut_k = top_k > 0 && top_k < V;
        cut_p = top_p < 1.f;
    }
    counts[t] = 0;
    counts_p[t] = 0;
    lows_p[t] = 0u;
    __syncthreads();  // every thread has read the maximum before the row is overwritten; the bins are zero

    // A probability's digit at `shift` counts for top-k when its higher digits equal top-k's prefix so far, and
    // likewise for top-p. Zeros (underflow, masked tokens) carry no mass; a top-k cut that reaches them keeps all.
    auto bin = [&](float v, int shift, int drop, bool ck, unsigned int pk, bool cp, unsigned int pp) {
        const unsigned int b = __float_as_uint(v);
        if (b == 0u || b > 0x3f800000u) return;
        const unsigned int d = (b >> shift) & (SGL_SAMPLE_BINS - 1), high = b >> (shift + 10);
        if (ck && high == pk) atomicAdd(&counts[d], 1);
        if (cp && high == pp) {
            atomicAdd(&counts_p[d], 1);
            atomicAdd(&lows_p[d], (b & ((1u << shift) - 1u)) >> drop);
        }
    };

    // The probabilities, stored over the logits, their sum, and the first digit's histograms.
    float z = 0.f;
    {
        const bool ck = cut_k, cp = cut_p;
        row_sweep(q, V, vec, [&](float4 a, int i) {
            a.x = i < V ? expf((a.x - mx) * inv_t) : 0.f;
            a.y = i + 1 < V ? expf((a.y - mx) * inv_t) : 0.f;
            a.z = i + 2 < V ? expf((a.z - mx) * inv_t) : 0.f;
            a.w = i + 3 < V ? expf((a.w - mx) * inv_t) : 0.f;
            if (vec) {
                *(float4 *)(q + i) = a;
            } else {
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (i + e < V) q[i + e] = float4_at(a, e);
            }
            z += (a.x + a.y) + (a.z + a.w);
            if (ck || cp) {
#pragma unroll
                for (int e = 0; e < 4; ++e) bin(float4_at(a, e), 20, 8, ck, 0u, cp, 0u);
            }
        });
    }
    z = block_sum(z);  // its barriers also make the probabilities and the histograms visible to the block
    const float limit = top_p * z;

    for (int level = 0; cut_k || cut_p; ++level) {
        const int shift = 20 - 10 * level;
        if (level > 0) {
            const bool ck = cut_k, cp = cut_p;
            const unsigned int pk = prefix_k, pp = prefix_p;
            row_sweep(q, V, vec, [&](const float4 &a, int) {
#pragma unroll
                for (int e = 0; e < 4; ++e) bin(float4_at(a, e), shift, 0, ck, pk, cp, pp);
            });
            __syncthreads();
        }
        // This digit of each threshold: top-k's is the bin that holds the rank-th largest probability under the
        // prefix; top-p's the lowest bin whose mass strictly above stays within the limit.
        const int count = counts[t];
        const float mass = bin_mass((prefix_p << (shift + 10)) | ((unsigned int)t << shift), counts_p[t], lows_p[t],
                                    level == 0 ? 8 : 0);
        const int count_above = bins_above(count, count_totals);
        const float mass_above = above_p + bins_above(mass, scan_totals);
        if (t == 0) {
            chosen_k = -1;
            chosen_p = SGL_SAMPLE_BINS;
        }
        __syncthreads();
        if (cut_k && count_above < rank_k && count_above + count >= rank_k) chosen_k = t;
        if (cut_p && mass_above <= limit) atomicMin(&chosen_p, t);
        __syncthreads();
        if (t == 0 && cut_k && chosen_k < 0) {
            cut_k = false;  // fewer than k tokens have any mass: the cut keeps them all
            prefix_k = 0u;
        }
        if (t == 0 && cut_p && chosen_p == SGL_SAMPLE_BINS) {
            cut_p = false;  // a limit below any mass (top_p 0 or a NaN row): the most likely tokens only
            prefix_p = 0x3f800000u;
        }
        if (cut_k && t == chosen_k) {
            rank_k -= count_above;
            prefix_k = (prefix_k << 10) | (unsigned int)t;
        }
        if (cut_p && t == chosen_p) {
            above_p = mass_above;
            prefix_p = (prefix_p << 10) | (unsigned int)t;
        }
        counts[t] = 0;
        counts_p[t] = 0;
        lows_p[t] = 0u;
        __syncthreads();
        if (level == 2) break;
    }
    unsigned int threshold = max(prefix_k, prefix_p);  // zero for a cut that does not apply
    if (min_p > 0.f) threshold = max(threshold, __float_as_uint(fminf(min_p, 1.f)));
    auto kept = [&](float v) { return __float_as_uint(v) >= threshold && v > 0.f ? v : 0.f; };

    // Kept mass per warp over contiguous chunks of the row (a multiple of four tokens each).
    const int lane = t & 31, warp = t >> 5;
    const int span = (((V + 31) / 32) + 3) & ~3;
    const int begin = min(V, warp * span), end = min(V, begin + span);
    float mine = 0.f;
    int last_kept = -1;
    for (int i = begin + 4 * lane; i < end; i += 4 * 32 * 4) {
        float4 a[4];
#pragma unroll
        for (int u = 0; u < 4; ++u)
            a[u] = i + 128 * u < end ? load_row4(q, i + 128 * u, V, vec) : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int u = 0; u < 4; ++u)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float v = kept(float4_at(a[u], e));
                mine += v;
                if (v > 0.f) last_kept = i + 128 * u + e;
            }
    }
    mine = warp_sum(mine);
    __shared__ float warp_mass[32];
    __shared__ int last, chosen_warp, chosen, chunk_last;
    __shared__ float draw, mass_before;
    if (lane == 0) warp_mass[warp] = mine;
    if (t == 0) {
        last = -1;
        chunk_last = -1;
        chosen = 0x7fffffff;
    }
    __syncthreads();
    if (last_kept >= 0) atomicMax(&last, last_kept);
    if (t == 0) {
        float total = 0.f;
        for (int w = 0; w < 32; ++w) total += warp_mass[w];
        const float u = uniform01(p.seeds[r], p.offsets[r]) * total;
        float acc = 0.f;
        int w = 0;
        while (w < 32 && !(u < acc + warp_mass[w])) acc += warp_mass[w++];
        draw = u;
        mass_before = acc;
        chosen_warp = w;
    }
    __syncthreads();
    // The whole block walks the chosen warp's chunk, 4096 tokens a step, to the first token whose inclusive
    // cumulative mass passes the draw.
    if (chosen_warp < 32) {
        const float u = draw;
        float acc = mass_before;
        const int chunk_begin = min(V, chosen_warp * span), chunk_end = min(V, chunk_begin + span);
        for (int base = chunk_begin; base < chunk_end; base += 4 * blockDim.x) {
            const int i = base + 4 * t;
            const float4 a = i < chunk_end ? load_row4(q, i, V, vec) : make_float4(0.f, 0.f, 0.f, 0.f);
            const float s = (kept(a.x) + kept(a.y)) + (kept(a.z) + kept(a.w));
            const float inclusive = block_inclusive_scan(s, scan_totals);
            if (s > 0.f) {
                if (u < acc + inclusive) atomicMin(&chosen, t);
                atomicMax(&chunk_last, kept(a.w) > 0.f ? i + 3 : kept(a.z) > 0.f ? i + 2 : kept(a.y) > 0.f ? i + 1 : i);
            }
            __shared__ float step_total;
            if (t == (int)blockDim.x - 1) step_total = inclusive;
            __syncthreads();
            if (chosen != 0x7fffffff) {
                if (t == chosen) {
                    float c = acc + (inclusive - s);
                    int pick = -1, last_of_four = -1;
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const float v = kept(float4_at(a, e));
                        if (v > 0.f) {
                            c += v;
                            last_of_four = i + e;
                            if (pick < 0 && u < c) pick = i + e;
                        }
                    }
                    p.out_ids[r] = pick >= 0 ? pick : last_of_four;  // rounding inside the four: the last kept
                }
                return;
            }
            acc += step_total;
            __syncthreads();
        }
    }
    // Rounding can leave the draw at or past the total: take the last kept token (of the chosen chunk) then.
    if (t == 0) p.out_ids[r] = chunk_last >= 0 ? chunk_last : last >= 0 ? last : greedy;
}
