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

/// Acquire load of a word another block writes.
__device__ __forceinline__ unsigned int load_acquire(const unsigned int *p) {
    unsigned int v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}

/// Meeting point of a row's blocks: returns once all `gridDim.x` of them have arrived `phase` times (the counter
/// only grows within a launch; the last block to finish zeroes it). Every block is resident (the host keeps the
/// grid within one block per multiprocessor), so spinning cannot starve one that has yet to start.
__device__ __forceinline__ void slice_barrier(unsigned int *counter, unsigned int phase) {
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        atomicAdd(counter, 1u);
        const unsigned int target = phase * gridDim.x;
        while (load_acquire(counter) < target) __nanosleep(20);
        __threadfence();
    }
    __syncthreads();
}

/// Shared state of one row's draw (the same in every block of the row).
struct SampleState {
    int counts[SGL_SAMPLE_BINS], counts_p[SGL_SAMPLE_BINS];
    unsigned int lows_p[SGL_SAMPLE_BINS];
    int count_totals[32];
    float scan_totals[32], warp_mass[32];
    unsigned int prefix_k, prefix_p;
    int rank_k, chosen_k, chosen_p, chosen_warp, chosen, chunk_last, last;
    float above_p, draw, mass_before, step_total;
    bool cut_k, cut_p, last_block;
};

/// Temperature / top-k / top-p / min-p sampling without sorting, gridDim.x blocks of 1024 threads per row (each
/// owns a slice of `slice` tokens; see `SGLSamplingParams`). The row's unnormalized probabilities exp((x − max) / T)
/// (the largest exactly 1) are stored over its logits. The cuts are thresholds on the probabilities' bits
/// (non-negative floats order like their bit patterns): a token is kept when fewer than k tokens are strictly more
/// likely, when the mass strictly above it is at most top_p, and when it is at least min_p times the largest
/// probability. Each threshold is the smallest bit pattern that satisfies its rule, found one 10-bit digit per
/// pass from histograms of counts (top-k) and mass (top-p): three passes, the first fused with the exponentials.
/// Split rows add their blocks' histograms in the scratch and every block picks the same digit. The draw inverts
/// the CDF of the kept mass in vocabulary order: a slice, then a warp's chunk of it, then the token.
extern "C" __global__ void __launch_bounds__(1024) sgl_sample(const __grid_constant__ SGLSamplingParams p) {
    sgl_pdl_begin();
    const int r = blockIdx.y;
    if (r >= p.rows) return;
    const int V = p.vocab, S = gridDim.x, t = threadIdx.x;
    const bool split = S > 1;
    const int lo = min(V, (int)blockIdx.x * p.slice), n = min(V, lo + p.slice) - lo;
    float *row = p.logits + (size_t)r * V;
    float *q = row + lo;  // this block's slice
    const bool vec = (n & 3) == 0 && (((size_t)q) & 15) == 0;
    unsigned int *scratch = split ? p.scratch + (size_t)r * SGL_SAMPLE_SCRATCH_WORDS : nullptr;
    sgl_u64 *key = (sgl_u64 *)scratch;
    unsigned int *barrier = scratch + 2, *exits = scratch + 3;
    float *slice_z = (float *)(scratch + 4), *slice_kept = slice_z + 32;
    unsigned int *hist = scratch + 4 + 64;  // [digit][counts | counts_p | lows_p][bin]
    unsigned int phase = 0;
    __shared__ SampleState st;

    // The last block of a split row to get here zeroes its scratch for the next launch.
    auto finish = [&]() {
        if (!split) return;
        __syncthreads();
        if (t == 0) {
            __threadfence();
            st.last_block = atomicAdd(exits, 1u) == (unsigned int)S - 1u;
        }
        __syncthreads();
        if (st.last_block) {
            for (int i = t; i < SGL_SAMPLE_SCRATCH_WORDS; i += blockDim.x) scratch[i] = 0u;
        }
    };

    const float temperature = p.temperature[r];
    const int top_k = p.top_k[r];
    float best = 0.f;
    int best_index = -1;
    row_sweep(q, n, vec, [&](const float4 &a, int i) {
#pragma unroll
        for (int e = 0; e < 4; ++e)
            if (i + e < n) argmax_update(float4_at(a, e), lo + i + e, best, best_index);
    });
    int greedy = block_argmax(best, best_index);
    float mx = greedy >= 0 ? row[greedy] : 0.f;
    if (split) {
        // The row's best as a 64-bit key (value bits in order, then the complement of the index): its value comes
        // back with it, as the slice that holds it may already be overwritten with probabilities.
        if (t == 0 && greedy >= 0)
            atomicMax(key, ((sgl_u64)ordered_bits(mx) << 32) | (sgl_u64)(0xFFFFFFFFu - (unsigned int)greedy));
        slice_barrier(barrier, ++phase);
        const sgl_u64 k = __ldcg(key);
        greedy = k == 0ull ? -1 : (int)(0xFFFFFFFFu - (unsigned int)(k & 0xFFFFFFFFull));
        const unsigned int o = (unsigned int)(k >> 32);
        mx = __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
    }
    if (!(temperature > 0.f) || top_k == 1 || greedy < 0) {
        if (t == 0 && blockIdx.x == 0) p.out_ids[r] = greedy < 0 ? 0 : greedy;
        finish();
        return;
    }
    const float inv_t = 1.f / temperature;
    const float top_p = p.top_p[r], min_p = p.min_p[r];
    if (t == 0) {
        st.prefix_k = 0u;
        st.prefix_p = 0u;
        st.rank_k = top_k;
        st.above_p = 0.f;
        st.cut_k = top_k > 0 && top_k < V;
        st.cut_p = top_p < 1.f;
    }
    st.counts[t] = 0;
    st.counts_p[t] = 0;
    st.lows_p[t] = 0u;
    __syncthreads();  // every thread has read the maximum before the slice is overwritten; the bins are zero

    // A probability's digit at `shift` counts for top-k when its higher digits equal top-k's prefix so far, and
    // likewise for top-p. Zeros (underflow, masked tokens) carry no mass; a top-k cut that reaches them keeps all.
    auto bin = [&](float v, int shift, int drop, bool ck, unsigned int pk, bool cp, unsigned int pp) {
        const unsigned int b = __float_as_uint(v);
        if (b == 0u || b > 0x3f800000u) return;
        const unsigned int d = (b >> shift) & (SGL_SAMPLE_BINS - 1), high = b >> (shift + 10);
        if (ck && high == pk) atomicAdd(&st.counts[d], 1);
        if (cp && high == pp) {
            atomicAdd(&st.counts_p[d], 1);
            atomicAdd(&st.lows_p[d], (b & ((1u << shift) - 1u)) >> drop);
        }
    };
    // A split row's blocks add their histograms of a digit in the scratch, meet, and all read the sums back.
    auto merge = [&](int level) {
        if (!split) return;
        unsigned int *h = hist + level * 3 * SGL_SAMPLE_BINS;
        if (st.counts[t]) atomicAdd(h + t, (unsigned int)st.counts[t]);
        if (st.counts_p[t]) atomicAdd(h + SGL_SAMPLE_BINS + t, (unsigned int)st.counts_p[t]);
        if (st.lows_p[t]) atomicAdd(h + 2 * SGL_SAMPLE_BINS + t, st.lows_p[t]);
        slice_barrier(barrier, ++phase);
        st.counts[t] = (int)__ldcg(h + t);
        st.counts_p[t] = (int)__ldcg(h + SGL_SAMPLE_BINS + t);
        st.lows_p[t] = __ldcg(h + 2 * SGL_SAMPLE_BINS + t);
        __syncthreads();
    };

    // The probabilities, stored over the logits, their sum, and the first digit's histograms.
    float z = 0.f;
    {
        const bool ck = st.cut_k, cp = st.cut_p;
        row_sweep(q, n, vec, [&](float4 a, int i) {
            a.x = i < n ? expf((a.x - mx) * inv_t) : 0.f;
            a.y = i + 1 < n ? expf((a.y - mx) * inv_t) : 0.f;
            a.z = i + 2 < n ? expf((a.z - mx) * inv_t) : 0.f;
            a.w = i + 3 < n ? expf((a.w - mx) * inv_t) : 0.f;
            if (vec) {
                *(float4 *)(q + i) = a;
            } else {
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (i + e < n) q[i + e] = float4_at(a, e);
            }
            z += (a.x + a.y) + (a.z + a.w);
            if (ck || cp) {
#pragma unroll
                for (int e = 0; e < 4; ++e) bin(float4_at(a, e), 20, 8, ck, 0u, cp, 0u);
            }
        });
    }
    z = block_sum(z);  // its barriers also make the probabilities and the histograms visible to the block
    const bool cuts = st.cut_k || st.cut_p;
    if (split && st.cut_p) {
        if (t == 0) slice_z[blockIdx.x] = z;
        // The row's sum in a fixed order, after the first digit's meeting below.
    }
    if (cuts) merge(0);
    if (split && st.cut_p) {
        float all = 0.f;
        for (int b = 0; b < S; ++b) all += __ldcg(slice_z + b);
        z = all;
    }
    const float limit = top_p * z;

    for (int level = 0; cuts && (st.cut_k || st.cut_p); ++level) {
        const int shift = 20 - 10 * level;
        if (level > 0) {
            const bool ck = st.cut_k, cp = st.cut_p;
            const unsigned int pk = st.prefix_k, pp = st.prefix_p;
            row_sweep(q, n, vec, [&](const float4 &a, int i) {
#pragma unroll
                for (int e = 0; e < 4; ++e)
                    if (i + e < n) bin(float4_at(a, e), shift, 0, ck, pk, cp, pp);
            });
            __syncthreads();
            merge(level);
        }
        // This digit of each threshold: top-k's is the bin that holds the rank-th largest probability under the
        // prefix; top-p's the lowest bin whose mass strictly above stays within the limit.
        const int count = st.counts[t];
        const float mass = bin_mass((st.prefix_p << (shift + 10)) | ((unsigned int)t << shift), st.counts_p[t],
                                    st.lows_p[t], level == 0 ? 8 : 0);
        const int count_above = bins_above(count, st.count_totals);
        const float mass_above = st.above_p + bins_above(mass, st.scan_totals);
        if (t == 0) {
            st.chosen_k = -1;
            st.chosen_p = SGL_SAMPLE_BINS;
        }
        __syncthreads();
        if (st.cut_k && count_above < st.rank_k && count_above + count >= st.rank_k) st.chosen_k = t;
        if (st.cut_p && mass_above <= limit) atomicMin(&st.chosen_p, t);
        __syncthreads();
        if (t == 0 && st.cut_k && st.chosen_k < 0) {
            st.cut_k = false;  // fewer than k tokens have any mass: the cut keeps them all
            st.prefix_k = 0u;
        }
        if (t == 0 && st.cut_p && st.chosen_p == SGL_SAMPLE_BINS) {
            st.cut_p = false;  // a limit below any mass (top_p 0 or a NaN row): the most likely tokens only
            st.prefix_p = 0x3f800000u;
        }
        if (st.cut_k && t == st.chosen_k) {
            st.rank_k -= count_above;
            st.prefix_k = (st.prefix_k << 10) | (unsigned int)t;
        }
        if (st.cut_p && t == st.chosen_p) {
            st.above_p = mass_above;
            st.prefix_p = (st.prefix_p << 10) | (unsigned int)t;
        }
        st.counts[t] = 0;
        st.counts_p[t] = 0;
        st.lows_p[t] = 0u;
        __syncthreads();
        if (level == 2) break;
    }
    unsigned int threshold = max(st.prefix_k, st.prefix_p);  // zero for a cut that does not apply
    if (min_p > 0.f) threshold = max(threshold, __float_as_uint(fminf(min_p, 1.f)));
    auto kept = [&](float v) { return __float_as_uint(v) >= threshold && v > 0.f ? v : 0.f; };

    // Kept mass per warp over contiguous chunks of the slice (a multiple of four tokens each).
    const int lane = t & 31, warp = t >> 5;
    const int span = (((n + 31) / 32) + 3) & ~3;
    const int begin = min(n, warp * span), end = min(n, begin + span);
    float mine = 0.f;
    int last_kept = -1;
    for (int i = begin + 4 * lane; i < end; i += 4 * 32 * 4) {
        float4 a[4];
#pragma unroll
        for (int u = 0; u < 4; ++u)
            a[u] = i + 128 * u < end ? load_row4(q, i + 128 * u, n, vec) : make_float4(0.f, 0.f, 0.f, 0.f);
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
    if (lane == 0) st.warp_mass[warp] = mine;
    if (t == 0) {
        st.last = -1;
        st.chunk_last = -1;
        st.chosen = 0x7fffffff;
    }
    __syncthreads();
    if (last_kept >= 0) atomicMax(&st.last, last_kept);
    bool mine_slice = true, overflow = false;
    if (split) {
        if (t == 0) {
            float total = 0.f;
            for (int w = 0; w < 32; ++w) total += st.warp_mass[w];
            slice_kept[blockIdx.x] = total;
        }
        slice_barrier(barrier, ++phase);
        // Every block finds the same slice: the first whose inclusive cumulative kept mass passes the draw.
        if (t == 0) {
            float total = 0.f;
            for (int b = 0; b < S; ++b) total += __ldcg(slice_kept + b);
            const float x = uniform01(p.seeds[r], p.offsets[r]) * total;
            float acc = 0.f;
            int b = 0, last_positive = 0;
            for (; b < S; ++b) {
                const float m = __ldcg(slice_kept + b);
                if (m > 0.f) last_positive = b;
                if (x < acc + m) break;
                acc += m;
            }
            // Rounding can leave the draw at or past the total: the last kept token then.
            st.last_block = b >= S;
            st.chosen_warp = b < S ? b : last_positive;
            st.draw = x - acc;
        }
        __syncthreads();
        mine_slice = st.chosen_warp == (int)blockIdx.x;
        overflow = st.last_block;
        __syncthreads();
    } else if (t == 0) {
        float total = 0.f;
        for (int w = 0; w < 32; ++w) total += st.warp_mass[w];
        st.draw = uniform01(p.seeds[r], p.offsets[r]) * total;
    }
    if (!mine_slice) {
        finish();
        return;
    }
    // Within the slice: the first warp chunk whose inclusive cumulative mass passes the draw.
    if (t == 0) {
        const float x = overflow ? __int_as_float(0x7f800000) : st.draw;
        float acc = 0.f;
        int w = 0, last_positive = 0;
        for (; w < 32; ++w) {
            if (st.warp_mass[w] > 0.f) last_positive = w;
            if (x < acc + st.warp_mass[w]) break;
            acc += st.warp_mass[w];
        }
        st.chosen_warp = w < 32 ? w : last_positive;
        st.mass_before = w < 32 ? acc : 0.f;
        st.draw = w < 32 ? x : __int_as_float(0x7f800000);
    }
    __syncthreads();
    // The whole block walks the chosen warp's chunk, 4096 tokens a step, to the first token whose inclusive
    // cumulative mass passes the draw.
    {
        const float u = st.draw;
        float acc = st.mass_before;
        const int chunk_begin = min(n, st.chosen_warp * span), chunk_end = min(n, chunk_begin + span);
        for (int base = chunk_begin; base < chunk_end; base += 4 * blockDim.x) {
            const int i = base + 4 * t;
            const float4 a = i < chunk_end ? load_row4(q, i, n, vec) : make_float4(0.f, 0.f, 0.f, 0.f);
            const float s = (kept(a.x) + kept(a.y)) + (kept(a.z) + kept(a.w));
            const float inclusive = block_inclusive_scan(s, st.scan_totals);
            if (s > 0.f) {
                if (u < acc + inclusive) atomicMin(&st.chosen, t);
                atomicMax(&st.chunk_last, kept(a.w) > 0.f ? i + 3 : kept(a.z) > 0.f ? i + 2 : kept(a.y) > 0.f ? i + 1 : i);
            }
            if (t == (int)blockDim.x - 1) st.step_total = inclusive;
            __syncthreads();
            if (st.chosen != 0x7fffffff) {
                if (t == st.chosen) {
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
                    p.out_ids[r] = lo + (pick >= 0 ? pick : last_of_four);  // rounding inside the four: the last kept
                }
                finish();
                return;
            }
            acc += st.step_total;
            __syncthreads();
        }
    }
    // Rounding can leave the draw at or past the total: take the last kept token (of the chosen chunk) then.
    if (t == 0) p.out_ids[r] = st.chunk_last >= 0 ? lo + st.chunk_last : st.last >= 0 ? lo + st.last : greedy;
    finish();
}
