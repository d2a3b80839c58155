// Shared device helpers of every kernel: bf16 conversions (bit-level, no cuda_bf16.h needed, so NVRTC
// compiles without any CUDA header), 16-byte vector loads, warp/block reductions.
#pragma once
#include "sglang_kernel_params.h"

/// Programmatic dependent launch (Hopper): every kernel waits for its stream predecessor to complete (and its
/// writes to be visible) before touching memory, then lets its own successor start launching, so the next
/// kernel's blocks are resident and waiting when this one ends. Both are no-ops for a launch without the PDL
/// attribute and on GPUs before sm_90. A kernel may issue loads of data no predecessor writes (weights)
/// before `sgl_pdl_wait`.
__device__ __forceinline__ void sgl_pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void sgl_pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
/// The usual kernel prologue: wait for the predecessor, then release the successor.
__device__ __forceinline__ void sgl_pdl_begin() {
    sgl_pdl_wait();
    sgl_pdl_launch_dependents();
}

/// bfloat16 storage: the upper 16 bits of an IEEE float.
struct bf16 {
    unsigned short bits;
};

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(((unsigned int)x.bits) << 16); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
/// Round to nearest even, NaN kept quiet (as torch's float → bfloat16 conversion).
template <> __device__ __forceinline__ bf16 from_float<bf16>(float x) {
    unsigned int u = __float_as_uint(x);
    bf16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.bits = (unsigned short)((u >> 16) | 0x40u);
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = (unsigned short)(u >> 16);
    return r;
}

/// Rounds through the element type (what a store followed by a load gives).
template <typename T> __device__ __forceinline__ float round_to(float x) { return to_float(from_float<T>(x)); }

template <typename T> __device__ __forceinline__ T negative_infinity() { return from_float<T>(-__int_as_float(0x7f800000)); }

/// Loads 16 bytes (4 floats or 8 bf16 values) from 16-byte-aligned memory into fp32 registers.
__device__ __forceinline__ void load16(const float *p, float *out) {
    float4 v = *reinterpret_cast<const float4 *>(p);
    out[0] = v.x; out[1] = v.y; out[2] = v.z; out[3] = v.w;
}
__device__ __forceinline__ void load16(const bf16 *p, float *out) {
    uint4 v = *reinterpret_cast<const uint4 *>(p);
    unsigned int w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = __uint_as_float(w[i] << 16);
        out[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

/// Stores 16 bytes (4 floats or 8 bf16 values) from fp32 registers.
__device__ __forceinline__ void store16(float *p, const float *v) {
    *reinterpret_cast<float4 *>(p) = make_float4(v[0], v[1], v[2], v[3]);
}
__device__ __forceinline__ void store16(bf16 *p, const float *v) {
    unsigned int w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
        w[i] = (unsigned int)from_float<bf16>(v[2 * i]).bits | ((unsigned int)from_float<bf16>(v[2 * i + 1]).bits << 16);
    *reinterpret_cast<uint4 *>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

/// The gated MLP's activation of a gate value (`SGL_ACT_*`), in fp32.
__device__ __forceinline__ float activate(float g, int kind) {
    switch (kind) {
    case SGL_ACT_GELU_TANH: {
        float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        return 0.5f * g * (1.f + tanhf(inner));
    }
    case SGL_ACT_GELU:
        return 0.5f * g * (1.f + erff(g * 0.7071067811865476f));
    default:
        return g / (1.f + expf(-g));
    }
}

/// 16 bytes of a streamed weight row, not kept in L1.
__device__ __forceinline__ uint4 load_stream16(const void *p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

__device__ __forceinline__ void unpack16(const uint4 &v, const float *, float *out) {
    out[0] = __uint_as_float(v.x); out[1] = __uint_as_float(v.y);
    out[2] = __uint_as_float(v.z); out[3] = __uint_as_float(v.w);
}
__device__ __forceinline__ void unpack16(const uint4 &v, const bf16 *, float *out) {
    unsigned int w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        out[2 * i] = __uint_as_float(w[i] << 16);
        out[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
/// The fixed reduction order makes the result deterministic.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? partial[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

__device__ __forceinline__ float block_max(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? partial[lane] : -__int_as_float(0x7f800000);
        s = warp_max(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

/// Integer count over the block.
__device__ __forceinline__ int block_count(int v) {
    __shared__ int partial[32];
    __shared__ int total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int s = lane < warps ? partial[lane] : 0;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) total = s;
    }
    __syncthreads();
    int r = total;
    __syncthreads();
    return r;
}

/// (value, index) argmax over the warp, in place on every lane: the largest value, lowest index among equals;
/// index -1 marks "no candidate".
__device__ __forceinline__ void warp_argmax(float &value, int &index) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, value, o);
        int oi = __shfl_xor_sync(0xffffffffu, index, o);
        if (oi >= 0 && (index < 0 || ov > value || (ov == value && oi < index))) {
            value = ov;
            index = oi;
        }
    }
}

/// (value, index) argmax over the block: the largest value, lowest index among equals; NaN never wins.
/// Returns -1 when every value is NaN.
__device__ __forceinline__ int block_argmax(float value, int index) {
    __shared__ float vals[32];
    __shared__ int idxs[32];
    __shared__ int result;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    warp_argmax(value, index);
    if (lane == 0) {
        vals[warp] = value;
        idxs[warp] = index;
    }
    __syncthreads();
    if (warp == 0) {
        value = lane < warps ? vals[lane] : 0.f;
        index = lane < warps ? idxs[lane] : -1;
        warp_argmax(value, index);
        if (lane == 0) result = index;
    }
    __syncthreads();
    int r = result;
    __syncthreads();
    return r;
}

/// Folds one (value, index) candidate into a thread's running argmax (NaN skipped; ties keep the lower index).
__device__ __forceinline__ void argmax_update(float v, int i, float &best, int &best_index) {
    if (v == v && (best_index < 0 || v > best || (v == best && i < best_index))) {
        best = v;
        best_index = i;
    }
}

/// The shared-memory address of a generic pointer to shared memory.
__device__ __forceinline__ unsigned smem_address(const void *p) {
    unsigned a;
    asm volatile("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

/// 16-byte global → shared copy; `bytes` 0 writes zeros.
__device__ __forceinline__ void cp_async16(unsigned dst, const void *src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;" ::: "memory"); }
/// Waits until at most `N` of this thread's committed copy groups are still in flight.
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }

// Tensor-core helpers (inline PTX: NVRTC has no mma headers).
__device__ __forceinline__ void ldmatrix_x4(unsigned addr, unsigned &r0, unsigned &r1, unsigned &r2, unsigned &r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x2(unsigned addr, unsigned &r0, unsigned &r1) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];" : "=r"(r0), "=r"(r1) : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned addr, unsigned &r0, unsigned &r1, unsigned &r2, unsigned &r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(addr));
}

/// D += A·B for one m16n8k16 tile (bf16 inputs, fp32 accumulators).
__device__ __forceinline__ void mma_bf16(float *d, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0,
                                         unsigned b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

/// Two floats → bf16x2 (round to nearest even), `lo` in the low half.
__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

/// Element offset of 16-byte chunk `chunk` of row `row` in a swizzled tile of rows of `CHUNKS` chunks.
/// Rows of fewer than 8 chunks (head sizes 16 and 32) swizzle within the row.
template <int CHUNKS> __device__ __forceinline__ int swizzle(int row, int chunk) {
    constexpr int MASK = (CHUNKS < 8 ? CHUNKS : 8) - 1;
    return (row * CHUNKS + (chunk ^ (row & MASK))) * 8;
}

/// The positions `[s0, s1)` that split `split` of decode request `b` attends to: the visible range (from the
/// sliding window's start) cut into `num_splits` equal slices; empty when `s0 >= s1`.
__device__ __forceinline__ void decode_split_range(const SGLDecodeAttentionParams &p, int b, int split, int &s0, int &s1) {
    const int seq_len = p.seq_lens[b];
    const int start = p.window > 0 ? max(0, seq_len - p.window) : 0;
    const int per_split = (seq_len - start + p.num_splits - 1) / p.num_splits;
    s0 = start + split * per_split;
    s1 = min(seq_len, s0 + per_split);
}
