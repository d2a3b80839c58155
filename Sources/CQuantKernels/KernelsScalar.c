// Portable kernels: the reference every SIMD level is tested against, and the path on CPUs without AVX2.
#include <math.h>

#include "Internal.h"

void cqk_scalar_quantize(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d, float *sums32,
                         float *sums16) {
    for (int b = 0; b < cols / block; b++) {
        const float *src = x + b * block;
        float amax = 0;
        for (int i = 0; i < block; i++) amax = fmaxf(amax, fabsf(src[i]));
        const float scale = amax / CQK_QUANT_MAX;
        const float inverse = scale != 0 ? 1 / scale : 0;
        d[b] = scale;
        for (int g = 0; g < block / 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                // lrintf rounds to nearest even, like cvtps2dq in the SIMD levels.
                const int q = (int)lrintf(src[16 * g + i] * inverse);
                const int h = (q + 128) >> 8;
                hi[b * block + 16 * g + i] = (int8_t)h;
                lo[b * block + 16 * g + i] = (int8_t)(q - 256 * h);
                sum += q;
            }
            const int group = (b * block) / 16 + g;
            if (block == 256) sums16[group] = (float)sum;
            sums32[group / 2] = g % 2 == 0 ? (float)sum : sums32[group / 2] + (float)sum;
        }
    }
}

/// The 32 unsigned quants of a Q4 block (low nibbles are elements 0-15, high nibbles 16-31).
static void nibbles(const uint8_t *qs, int q[32]) {
    for (int j = 0; j < 16; j++) {
        q[j] = qs[j] & 0x0F;
        q[j + 16] = qs[j] >> 4;
    }
}

/// Adds the fifth bits of a Q5 block: bit j of `qh` belongs to element j.
static void fifth_bits(const uint8_t *p, int q[32]) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    for (int j = 0; j < 32; j++) q[j] |= (int)((qh >> j) & 1) << 4;
}

/// The activation quant of value `i`.
static inline int act_q(const cqk_act *a, int i) { return 256 * a->hi[i] + a->lo[i]; }

/// Σ (q_w − offset)·q_a over 32 values (|·| < 2²⁸).
static int dot32(const int q[32], int offset, const cqk_act *a, int start) {
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += (q[j] - offset) * act_q(a, start + j);
    return sum;
}

/// The 32-value formats: Σ_b d_w·d_a·Σ(q − offset)·q_a (+ m·d_a·Σq_a with a min).
static void legacy(uint32_t type, const uint8_t *w, size_t stride, int rows, int blocks, const cqk_act *a,
                   float *out) {
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = w + r * stride;
        float acc = 0;
        for (int b = 0; b < blocks; b++) {
            const float da = a->d[b];
            int q[32];
            const uint8_t *blk;
            switch (type) {
            case CQK_Q4_0:
                blk = row + 18 * b;
                nibbles(blk + 2, q);
                acc += (float)dot32(q, 8, a, 32 * b) * (cqk_load_half(blk) * da);
                break;
            case CQK_Q4_1:
                blk = row + 20 * b;
                nibbles(blk + 4, q);
                acc += (float)dot32(q, 0, a, 32 * b) * (cqk_load_half(blk) * da)
                    + cqk_load_half(blk + 2) * (da * a->sums32[b]);
                break;
            case CQK_Q5_0:
                blk = row + 22 * b;
                nibbles(blk + 6, q);
                fifth_bits(blk + 2, q);
                acc += (float)dot32(q, 16, a, 32 * b) * (cqk_load_half(blk) * da);
                break;
            case CQK_Q5_1:
                blk = row + 24 * b;
                nibbles(blk + 8, q);
                fifth_bits(blk + 4, q);
                acc += (float)dot32(q, 0, a, 32 * b) * (cqk_load_half(blk) * da)
                    + cqk_load_half(blk + 2) * (da * a->sums32[b]);
                break;
            default: // Q8_0
                blk = row + 34 * b;
                for (int j = 0; j < 32; j++) q[j] = (int8_t)blk[2 + j];
                acc += (float)dot32(q, 0, a, 32 * b) * (cqk_load_half(blk) * da);
                break;
            }
        }
        out[r] = acc;
    }
}

#define LEGACY_ENTRY(name, id) \
    static void name(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) { \
        legacy(id, w, s, rows, nb, a, out); \
    }
LEGACY_ENTRY(q4_0_rows, CQK_Q4_0)
LEGACY_ENTRY(q4_1_rows, CQK_Q4_1)
LEGACY_ENTRY(q5_0_rows, CQK_Q5_0)
LEGACY_ENTRY(q5_1_rows, CQK_Q5_1)
LEGACY_ENTRY(q8_0_rows, CQK_Q8_0)

/// Q4_K (`with_high` = 0) and Q5_K (1): eight groups of 32 with six-bit scales and mins.
static void k4(int with_high, const uint8_t *w, size_t stride, int rows, int blocks, const cqk_act *a, float *out) {
    const int size = with_high ? 176 : 144;
    for (int r = 0; r < rows; r++) {
        float acc = 0;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *blk = w + r * stride + size * b;
            const uint8_t *qh = blk + 16;
            const uint8_t *qs = blk + (with_high ? 48 : 16);
            uint32_t packed[4];
            cqk_unpack_k4_scales(blk + 4, packed);
            uint8_t sm[16];
            memcpy(sm, packed, 16);
            int64_t sum = 0;
            float mins = 0;
            for (int j = 0; j < 4; j++) {
                int64_t lo = 0, hi = 0;
                for (int l = 0; l < 32; l++) {
                    int ql = qs[32 * j + l] & 0x0F, qu = qs[32 * j + l] >> 4;
                    if (with_high) {
                        ql |= ((qh[l] >> (2 * j)) & 1) << 4;
                        qu |= ((qh[l] >> (2 * j + 1)) & 1) << 4;
                    }
                    lo += ql * act_q(a, 256 * b + 64 * j + l);
                    hi += qu * act_q(a, 256 * b + 64 * j + 32 + l);
                }
                sum += sm[2 * j] * lo + sm[2 * j + 1] * hi;
            }
            for (int g = 0; g < 8; g++) mins += (float)sm[8 + g] * a->sums32[8 * b + g];
            const float da = a->d[b];
            acc += cqk_load_half(blk) * da * (float)sum - cqk_load_half(blk + 2) * da * mins;
        }
        out[r] = acc;
    }
}

static void q4_k_rows(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) {
    k4(0, w, s, rows, nb, a, out);
}

static void q5_k_rows(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) {
    k4(1, w, s, rows, nb, a, out);
}

/// Q6_K: sixteen groups of 16, quants 0…63 − 32, signed eight-bit scales.
static void q6_k_rows(const uint8_t *w, size_t stride, int rows, int blocks, const cqk_act *a, float *out) {
    for (int r = 0; r < rows; r++) {
        float acc = 0;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *blk = w + r * stride + 210 * b;
            int64_t sum = 0;
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = blk + 64 * half, *qh = blk + 128 + 32 * half;
                const int8_t *sc = (const int8_t *)(blk + 192 + 8 * half);
                const int y = 256 * b + 128 * half;
                for (int l = 0; l < 32; l++) {
                    const int q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;
                    const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    const int g = l / 16;
                    sum += (int64_t)(sc[g] * q1) * act_q(a, y + l) + (int64_t)(sc[g + 2] * q2) * act_q(a, y + l + 32)
                        + (int64_t)(sc[g + 4] * q3) * act_q(a, y + l + 64) + (int64_t)(sc[g + 6] * q4) * act_q(a, y + l + 96);
                }
            }
            acc += cqk_load_half(blk + 208) * a->d[b] * (float)sum;
        }
        out[r] = acc;
    }
}

cqk_rows_fn cqk_scalar_kernel(uint32_t type) {
    switch (type) {
    case CQK_Q4_0: return q4_0_rows;
    case CQK_Q4_1: return q4_1_rows;
    case CQK_Q5_0: return q5_0_rows;
    case CQK_Q5_1: return q5_1_rows;
    case CQK_Q8_0: return q8_0_rows;
    case CQK_Q4_K: return q4_k_rows;
    case CQK_Q5_K: return q5_k_rows;
    case CQK_Q6_K: return q6_k_rows;
    default: return 0;
    }
}
