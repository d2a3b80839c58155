// One-shot all-reduce of a small tensor over the GPUs of one process, through peer access (NVLink): the
// latency-bound sums of a tensor-parallel decode step, where NCCL's general path costs more than the data.
#include "common.cuh"

/// 16 bytes of a peer's exchange buffer, read past the caches (it changes under us from step to step).
__device__ __forceinline__ uint4 load_peer16(const void *p) {
    uint4 v;
    asm volatile("ld.volatile.global.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

/// Waits until `*flag` reaches `step` (a peer's store over NVLink), then orders the reads after it.
__device__ __forceinline__ void wait_flag(const unsigned long long *flag, unsigned long long step) {
    while (*(volatile const unsigned long long *)flag < step) {
    }
    __threadfence_system();
}

/// Every launch has `max_blocks` blocks, so the blocks' step counters (and the parity of the exchange half they
/// use) move in lockstep: a rank that runs ahead into the next sum writes the other half.
template <typename T> __device__ void allreduce(const SGLAllReduceParams &p) {
    constexpr int per_vec = 16 / sizeof(T);
    const int b = blockIdx.x;
    __shared__ unsigned long long shared_step;
    sgl_pdl_wait();
    if (threadIdx.x == 0) shared_step = p.counters[b] + 1;
    __syncthreads();
    const unsigned long long step = shared_step;
    const size_t parity = (size_t)(step & 1ull) * p.half_bytes;
    // This block's slice of 16-byte vectors, the same on every rank.
    const size_t vecs = p.count / per_vec;
    const size_t per = (vecs + gridDim.x - 1) / gridDim.x;
    const size_t lo = (size_t)b * per, hi = lo + per < vecs ? lo + per : vecs;
    const uint4 *data = (const uint4 *)p.data;
    uint4 *mine = (uint4 *)((char *)p.exchange[p.rank] + parity);
    for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) mine[i] = data[i];
    __syncthreads();
    const int peer = threadIdx.x;
    if (peer < p.size && peer != p.rank) {
        // The block's copies (ordered before this thread's store by the barrier and the fence) are now visible.
        __threadfence_system();
        *(volatile unsigned long long *)(p.flags[peer] + (size_t)p.rank * p.max_blocks + b) = step;
        wait_flag(p.flags[p.rank] + (size_t)peer * p.max_blocks + b, step);
    }
    __syncthreads();
    for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
        float sum[per_vec], part[per_vec];
#pragma unroll
        for (int k = 0; k < per_vec; ++k) sum[k] = 0.f;
        for (int r = 0; r < p.size; ++r) {
            unpack16(load_peer16((const uint4 *)((const char *)p.exchange[r] + parity) + i), (const T *)nullptr, part);
#pragma unroll
            for (int k = 0; k < per_vec; ++k) sum[k] += part[k];
        }
        store16((T *)p.data + i * per_vec, sum);
    }
    if (threadIdx.x == 0) p.counters[b] = step;
    sgl_pdl_launch_dependents();
}

extern "C" __global__ void sgl_allreduce_f32(const __grid_constant__ SGLAllReduceParams p) { allreduce<float>(p); }
extern "C" __global__ void sgl_allreduce_bf16(const __grid_constant__ SGLAllReduceParams p) { allreduce<bf16>(p); }
