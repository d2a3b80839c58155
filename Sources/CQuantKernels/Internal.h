#ifndef CQUANTKERNELS_INTERNAL_H
#define CQUANTKERNELS_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "CQuantKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define CQK_X86 1
#else
#define CQK_X86 0
#endif

/// ggml type ids with kernels here, and their block sizes in bytes.
enum {
    CQK_Q4_0 = 2, CQK_Q4_1 = 3, CQK_Q5_0 = 6, CQK_Q5_1 = 7, CQK_Q8_0 = 8,
    CQK_Q4_K = 12, CQK_Q5_K = 13, CQK_Q6_K = 14,
};

/// `out[r] = W[r] · act` for `rows` rows of `blocks` weight blocks, `stride` bytes apart.
typedef void (*cqk_rows_fn)(const uint8_t *w, size_t stride, int rows, int blocks, const cqk_act *a, float *out);

/// Quantizes `cols` values in blocks of `block` (32 or 256) into `act`'s arrays (see `cqk_act`).
typedef void (*cqk_quantize_fn)(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d, float *sums32,
                                float *sums16);

/// The largest quant magnitude: 127·256, so the high digit stays within −127…127.
#define CQK_QUANT_MAX 32512.0f

cqk_rows_fn cqk_scalar_kernel(uint32_t type);
void cqk_scalar_quantize(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d, float *sums32,
                         float *sums16);
#if CQK_X86
cqk_rows_fn cqk_avx2_kernel(uint32_t type);
void cqk_avx2_quantize(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d, float *sums32,
                       float *sums16);
cqk_rows_fn cqk_avx512_kernel(uint32_t type);
void cqk_avx512_quantize(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d, float *sums32,
                         float *sums16);
#endif

/// The float32 value of an IEEE half (exact; the same bit manipulation as Compute's `HalfPrecision`).
static inline float cqk_half_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)(h & 0x7FFF) << 13;
    float f;
    memcpy(&f, &bits, 4);
    f *= 0x1p112f;
    memcpy(&bits, &f, 4);
    if (f >= 0x1p16f) bits |= 255u << 23;
    bits |= (uint32_t)(h & 0x8000) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float cqk_load_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return cqk_half_to_float(h);
}

/// The eight six-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K block from its 12 packed
/// bytes (ggml's `get_scale_min_k4` for all eight groups at once).
static inline void cqk_unpack_k4_scales(const uint8_t *packed, uint32_t out[4]) {
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    uint32_t q[3];
    memcpy(q, packed, 12);
    out[0] = q[0] & low6;
    out[1] = (q[2] & low4) | (((q[0] >> 6) & low2) << 4);
    out[2] = q[1] & low6;
    out[3] = ((q[2] >> 4) & low4) | (((q[1] >> 6) & low2) << 4);
}

#endif
