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
    __syncthreads();  // every thread has read the maximum before the row is overwritten

    // Unnormalized probabilities exp((x − max) / T) (the largest exactly 1), computed once and stored over the
    // logits, so the ~30 bisection rounds of each cut below read them back (L2-resident) instead of redoing expf.
    float *q = p.logits + (size_t)r * V;
    float z = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        const float v = expf((x[i] - mx) * inv_t);
        q[i] = v;
        z += v;
    }
    z = block_sum(z);  // its barriers also make the stored probabilities visible to the whole block

    // Thresholds on the probability's bits (non-negative floats order like their bit patterns). A token is kept
    // when fewer than k tokens are strictly more likely, when the mass strictly above it is at most top_p, and
    // when it is at least min_p times the largest probability (which is 1 here).
    unsigned int threshold = 0;
    if (top_k > 0 && top_k < V) {
        unsigned int lo = 0, hi = 0x3f800000u;  // count(p > 1.0) = 0 < k
        while (lo < hi) {
            unsigned int mid = lo + (hi - lo) / 2;
            int above = 0;
            for (int i = threadIdx.x; i < V; i += blockDim.x)
                above += __float_as_uint(q[i]) > mid;
            if (block_count(above) < top_k) hi = mid; else lo = mid + 1;
        }
        threshold = max(threshold, lo);
    }
    const float top_p = p.top_p[r];
    if (top_p < 1.f) {
        const float limit = top_p * z;
        unsigned int lo = 0, hi = 0x3f800000u;
        while (lo < hi) {
            unsigned int mid = lo + (hi - lo) / 2;
            float above = 0.f;
            for (int i = threadIdx.x; i < V; i += blockDim.x) {
                const float v = q[i];
                if (__float_as_uint(v) > mid) above += v;
            }
            if (block_sum(above) <= limit) hi = mid; else lo = mid + 1;
        }
        threshold = max(threshold, lo);
    }
    const float min_p = p.min_p[r];
    if (min_p > 0.f) threshold = max(threshold, __float_as_uint(fminf(min_p, 1.f)));

    // Inverse-CDF draw over the kept mass in vocabulary order: each thread owns a contiguous chunk.
    const int chunk = (V + blockDim.x - 1) / blockDim.x;
    const int begin = min(V, (int)threadIdx.x * chunk), end = min(V, begin + chunk);
    float mine = 0.f;
    int last_kept = -1;
    for (int i = begin; i < end; ++i) {
        const float v = q[i];
        if (__float_as_uint(v) >= threshold) {
            mine += v;
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
            const float v = q[i];
            if (__float_as_uint(v) < threshold) continue;
            acc += v;
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
