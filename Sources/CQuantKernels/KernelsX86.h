// The x86 kernels, compiled twice: by KernelsAVX2.c (AVX2 + FMA + F16C) and KernelsAVX512.c (the same plus
// AVX-512 F/BW/VL/VNNI). The including file defines CQK_TARGET (a target attribute), CQK_VNNI (0 or 1) and
// CQK_NAME(x) (the level's prefix for the two exported functions).
//
// Activations arrive as two signed byte digits (q = 256·hi + lo); weights are multiplied with each digit as
// unsigned bytes (4/5/6-bit quants, Q8_0 shifted by 128) and the digit sums combined as 256·S_hi + S_lo.
// With VNNI, vpdpbusd sums four u8·s8 products into a 32-bit lane exactly. Without it, vpmaddubsw sums two
// into a saturating 16-bit lane, exact while 2·|w|·128 < 2¹⁵ (quants up to 63); Q8_0 then widens to 16 bits.
// Offsets (Q4_0 −8, Q5_0 −16, Q8_0 +128 shift, Q6_K −32) come off through the activations' block sums in
// fp32, like a Q4_1 min, so their rounding is relative to Σ(|w| + |offset|)·|x|.

#include <immintrin.h>

#include "Internal.h"

#define CQK_INLINE static inline __attribute__((always_inline)) CQK_TARGET

/// acc + Σ u·s over each group of four bytes (u unsigned, s signed).
CQK_INLINE __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if CQK_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    const __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
#endif
}

CQK_INLINE float hsum_ps(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

CQK_INLINE int hsum_epi32(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(1, 0, 3, 2)));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(x);
}

CQK_INLINE float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// The 32 quants of a Q4 block as bytes: low nibbles (elements 0-15), then high nibbles (16-31).
CQK_INLINE __m256i nibbles32(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/// 0x10 in byte j where bit j of the 32-bit word at `p` is set (the fifth bits of a Q5 block).
CQK_INLINE __m256i fifth_bits(const uint8_t *p) {
    uint32_t qh;
    memcpy(&qh, p, 4);
#if CQK_VNNI
    return _mm256_maskz_mov_epi8((__mmask32)qh, _mm256_set1_epi8(0x10));
#else
    // Byte j gets byte j/8 of qh, ORed with every bit but bit j%8: all ones exactly when that bit is set.
    const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
#endif
}

/// 256·(Σ u·hi) + Σ u·lo over each group of four bytes (u ≤ 255 with VNNI, ≤ 63 without).
CQK_INLINE __m256i dot_digits(__m256i u, __m256i hi, __m256i lo) {
    return dot_u8s8(_mm256_slli_epi32(dot_u8s8(_mm256_setzero_si256(), u, hi), 8), u, lo);
}

/// `R` rows (1-4, a constant after inlining) of a 32-value format against one activation row: each
/// activation block is loaded once for all rows, and the rows give the core independent chains.
CQK_INLINE void legacy_rows(const uint32_t type, const uint8_t *w, size_t stride, const int R, int blocks,
                            const cqk_act *a, float *out) {
    const int size = type == CQK_Q4_0 ? 18 : type == CQK_Q4_1 ? 20 : type == CQK_Q5_0 ? 22 : type == CQK_Q5_1 ? 24 : 34;
    const int with_min = type == CQK_Q4_1 || type == CQK_Q5_1;
    // The weights' unsigned offset, taken off as a min of −offset·d_w (Q8_0 without VNNI needs none).
    const float offset = type == CQK_Q4_0 ? 8 : type == CQK_Q5_0 ? 16 : (type == CQK_Q8_0 && CQK_VNNI) ? 128 : 0;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float mins[4] = {0, 0, 0, 0};
    for (int b = 0; b < blocks; b++) {
        const __m256i hi = _mm256_load_si256((const __m256i *)(a->hi + 32 * b));
        const __m256i lo = _mm256_load_si256((const __m256i *)(a->lo + 32 * b));
#if !CQK_VNNI
        // Q8_0 without VNNI: signed 16-bit products (vpmaddwd) of the widened bytes.
        __m256i hi16[2], lo16[2];
        if (type == CQK_Q8_0) {
            hi16[0] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(hi));
            hi16[1] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(hi, 1));
            lo16[0] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(lo));
            lo16[1] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(lo, 1));
        }
#endif
        const float da = a->d[b];
        const float sum_scale = da * a->sums32[b];
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * stride + size * b;
            __m256i p;
            switch (type) {
            case CQK_Q4_0: p = dot_digits(nibbles32(blk + 2), hi, lo); break;
            case CQK_Q4_1: p = dot_digits(nibbles32(blk + 4), hi, lo); break;
            case CQK_Q5_0: p = dot_digits(_mm256_or_si256(nibbles32(blk + 6), fifth_bits(blk + 2)), hi, lo); break;
            case CQK_Q5_1: p = dot_digits(_mm256_or_si256(nibbles32(blk + 8), fifth_bits(blk + 4)), hi, lo); break;
            default: {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
#if CQK_VNNI
                p = dot_digits(_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)), hi, lo);
#else
                const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
                const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
                const __m256i ph = _mm256_add_epi32(_mm256_madd_epi16(w0, hi16[0]), _mm256_madd_epi16(w1, hi16[1]));
                const __m256i pl = _mm256_add_epi32(_mm256_madd_epi16(w0, lo16[0]), _mm256_madd_epi16(w1, lo16[1]));
                p = _mm256_add_epi32(_mm256_slli_epi32(ph, 8), pl);
#endif
                break;
            }
            }
            const float dw = half_at(blk);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * da), acc[r]);
            if (with_min) mins[r] += half_at(blk + 2) * sum_scale;
            if (offset != 0) mins[r] -= offset * dw * sum_scale;
        }
    }
    for (int r = 0; r < R; r++) out[r] = hsum_ps(acc[r]) + mins[r];
}

#define LEGACY_ENTRY(name, id) \
    static CQK_TARGET void name(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) { \
        int r = 0; \
        for (; r + 4 <= rows; r += 4) legacy_rows(id, w + r * s, s, 4, nb, a, out + r); \
        switch (rows - r) { \
        case 3: legacy_rows(id, w + r * s, s, 3, nb, a, out + r); break; \
        case 2: legacy_rows(id, w + r * s, s, 2, nb, a, out + r); break; \
        case 1: legacy_rows(id, w + r * s, s, 1, nb, a, out + r); break; \
        default: break; \
        } \
    }
LEGACY_ENTRY(q4_0_rows, CQK_Q4_0)
LEGACY_ENTRY(q4_1_rows, CQK_Q4_1)
LEGACY_ENTRY(q5_0_rows, CQK_Q5_0)
LEGACY_ENTRY(q5_1_rows, CQK_Q5_1)
LEGACY_ENTRY(q8_0_rows, CQK_Q8_0)

/// Broadcasts 16-bit lane `k` of each 128-bit half of `v` to the whole half.
#define BROADCAST_LANE16(v, k) _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * (k) + 1) << 8) | (2 * (k)))))

/// 0x10 in each byte whose bit `bit` (a constant 0-7) is set in `h`.
CQK_INLINE __m256i bit_to_0x10(__m256i h, const int bit) {
    const __m256i v = bit < 4 ? _mm256_slli_epi16(h, 4 - bit) : _mm256_srli_epi16(h, bit - 4);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/// Σ_g scale_g·Σ u·y over the 16-bit lanes of vpmaddubsw products, in 32-bit lanes.
CQK_INLINE __m256i scaled(__m256i acc, __m256i u, const int8_t *y, __m256i scale) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_load_si256((const __m256i *)y)), scale));
}

/// Horizontal sum of the fp32 products of eight integer lanes and eight float lanes.
CQK_INLINE __m256 fdot8(__m256 acc, __m256i ints, __m256 floats) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(ints), floats, acc);
}

/// K-quant rows go in pairs with AVX-512's 32 vector registers; with AVX2's 16, a pair spills.
#define CQK_K_PAIRS CQK_VNNI

/// Q4_K (`with_high` 0) and Q5_K (1), `R` rows (1 or 2) per pass over the activations: per digit,
/// Σ_g scale_g·Σq·y per 32-value group in 32-bit lanes (vpmaddubsw, then vpmaddwd with the broadcast scale;
/// < 2²⁴ per lane), combined in fp32; minus Σ_g min_g·Σq_a from the activation sums.
CQK_INLINE void k4_rows(const int with_high, const uint8_t *w, size_t stride, const int R, int blocks,
                        const cqk_act *a, float *out) {
    const int size = with_high ? 176 : 144;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, acc_min[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int b = 0; b < blocks; b++) {
        const int8_t *hi = a->hi + 256 * b, *lo = a->lo + 256 * b;
        const float da = a->d[b];
        const __m256 sums = _mm256_loadu_ps(a->sums32 + 8 * b);
        __m256i scales[2], high[2], sum_hi[2], sum_lo[2];
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * stride + size * b;
            uint32_t packed[4];
            cqk_unpack_k4_scales(blk + 4, packed);
            const __m128i sm = _mm_loadu_si128((const __m128i *)packed);
            scales[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
            const __m256i mins = _mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8));
            acc_min[r] = fdot8(acc_min[r], mins, _mm256_mul_ps(sums, _mm256_set1_ps(half_at(blk + 2) * da)));
            high[r] = with_high ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
            sum_hi[r] = _mm256_setzero_si256();
            sum_lo[r] = _mm256_setzero_si256();
        }
        for (int j = 0; j < 4; j++) {
            for (int r = 0; r < R; r++) {
                const uint8_t *qs = w + r * stride + size * b + (with_high ? 48 : 16);
                const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
                __m256i ql = _mm256_and_si256(q, m4);
                __m256i qu = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (with_high) {
                    ql = _mm256_or_si256(ql, bit_to_0x10(high[r], 2 * j));
                    qu = _mm256_or_si256(qu, bit_to_0x10(high[r], 2 * j + 1));
                }
                const __m256i s0 = BROADCAST_LANE16(scales[r], 2 * j), s1 = BROADCAST_LANE16(scales[r], 2 * j + 1);
                sum_hi[r] = scaled(scaled(sum_hi[r], ql, hi + 64 * j, s0), qu, hi + 64 * j + 32, s1);
                sum_lo[r] = scaled(scaled(sum_lo[r], ql, lo + 64 * j, s0), qu, lo + 64 * j + 32, s1);
            }
        }
        for (int r = 0; r < R; r++) {
            const float dd = half_at(w + r * stride + size * b) * da;
            acc[r] = fdot8(fdot8(acc[r], sum_hi[r], _mm256_set1_ps(256 * dd)), sum_lo[r], _mm256_set1_ps(dd));
        }
    }
    for (int r = 0; r < R; r++) out[r] = hsum_ps(acc[r]) - hsum_ps(acc_min[r]);
}

static CQK_TARGET void q4_k_rows(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) {
    int r = 0;
    for (; CQK_K_PAIRS && r + 2 <= rows; r += 2) k4_rows(0, w + r * s, s, 2, nb, a, out + r);
    for (; r < rows; r++) k4_rows(0, w + r * s, s, 1, nb, a, out + r);
}

static CQK_TARGET void q5_k_rows(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) {
    int r = 0;
    for (; CQK_K_PAIRS && r + 2 <= rows; r += 2) k4_rows(1, w + r * s, s, 2, nb, a, out + r);
    for (; r < rows; r++) k4_rows(1, w + r * s, s, 1, nb, a, out + r);
}

/// Q6_K, `R` rows (1 or 2) per pass: unsigned quants 0…63 against each digit per 16-value group with signed
/// scales (< 2²⁶ per lane); the −32 offset comes off as 32·Σ_g scale_g·Σq_a,g in fp32.
CQK_INLINE void q6_k_pass(const uint8_t *w, size_t stride, const int R, int blocks, const cqk_act *a, float *out) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int b = 0; b < blocks; b++) {
        const int8_t *hi = a->hi + 256 * b, *lo = a->lo + 256 * b;
        const __m256 sums0 = _mm256_loadu_ps(a->sums16 + 16 * b), sums1 = _mm256_loadu_ps(a->sums16 + 16 * b + 8);
        __m256i scales[2], sum_hi[2], sum_lo[2];
        float dd[2];
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * stride + 210 * b;
            const __m128i sc8 = _mm_loadu_si128((const __m128i *)(blk + 192));
            scales[r] = _mm256_cvtepi8_epi16(sc8);
            dd[r] = half_at(blk + 208) * a->d[b];
            // −32·Σ_g scale_g·Σq_a,g
            __m256 off = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc8)), sums0);
            off = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc8, 8))), sums1, off);
            acc[r] = _mm256_fmadd_ps(off, _mm256_set1_ps(-32 * dd[r]), acc[r]);
            sum_hi[r] = _mm256_setzero_si256();
            sum_lo[r] = _mm256_setzero_si256();
        }
        for (int half = 0; half < 2; half++) {
            for (int r = 0; r < R; r++) {
                const uint8_t *blk = w + r * stride + 210 * b;
                const __m128i hs = half == 0 ? _mm256_castsi256_si128(scales[r]) : _mm256_extracti128_si256(scales[r], 1);
                const __m256i sc = _mm256_broadcastsi128_si256(hs);
                const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(blk + 64 * half));
                const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(blk + 64 * half + 32));
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * half));
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
                for (int k = 0; k < 4; k++) {
                    // Lanes 0-7 (values 0-15 of the chunk) take scale 2k, lanes 8-15 scale 2k + 1.
                    const __m256i pick = _mm256_setr_epi8(
                        4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                        4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                        4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                        4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3);
                    const __m256i s = _mm256_shuffle_epi8(sc, pick);
                    sum_hi[r] = scaled(sum_hi[r], q[k], hi + 128 * half + 32 * k, s);
                    sum_lo[r] = scaled(sum_lo[r], q[k], lo + 128 * half + 32 * k, s);
                }
            }
        }
        for (int r = 0; r < R; r++) {
            acc[r] = fdot8(fdot8(acc[r], sum_hi[r], _mm256_set1_ps(256 * dd[r])), sum_lo[r], _mm256_set1_ps(dd[r]));
        }
    }
    for (int r = 0; r < R; r++) out[r] = hsum_ps(acc[r]);
}

static CQK_TARGET void q6_k_rows(const uint8_t *w, size_t s, int rows, int nb, const cqk_act *a, float *out) {
    int r = 0;
    for (; CQK_K_PAIRS && r + 2 <= rows; r += 2) q6_k_pass(w + r * s, s, 2, nb, a, out + r);
    for (; r < rows; r++) q6_k_pass(w + r * s, s, 1, nb, a, out + r);
}

CQK_TARGET cqk_rows_fn CQK_NAME(kernel)(uint32_t type) {
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

/// Eight quants from eight floats times `inverse`, rounded to nearest even (as lrintf in the scalar level).
CQK_INLINE __m256i round8(const float *x, __m256 inverse) {
    return _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), inverse));
}

/// 32 int32 values (each in −128…127) as 32 ordered bytes.
CQK_INLINE __m256i pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    // The packs interleave 128-bit lanes; the permutation puts the 32 bytes back in order.
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

CQK_TARGET void CQK_NAME(quantize)(const float *x, int cols, int block, int8_t *hi, int8_t *lo, float *d,
                                   float *sums32, float *sums16) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i half = _mm256_set1_epi32(128);
    for (int b = 0; b < cols / block; b++) {
        const float *src = x + b * block;
        __m256 m = _mm256_setzero_ps();
        for (int i = 0; i < block; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(src + i), abs_mask));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float scale = amax / CQK_QUANT_MAX;
        const __m256 inverse = _mm256_set1_ps(scale != 0 ? 1 / scale : 0);
        d[b] = scale;
        for (int i = 0; i < block; i += 32) {
            __m256i q[4], h[4], l[4];
            for (int k = 0; k < 4; k++) {
                q[k] = round8(src + i + 8 * k, inverse);
                h[k] = _mm256_srai_epi32(_mm256_add_epi32(q[k], half), 8);
                l[k] = _mm256_sub_epi32(q[k], _mm256_slli_epi32(h[k], 8));
            }
            _mm256_storeu_si256((__m256i *)(hi + b * block + i), pack32(h[0], h[1], h[2], h[3]));
            _mm256_storeu_si256((__m256i *)(lo + b * block + i), pack32(l[0], l[1], l[2], l[3]));
            const int s0 = hsum_epi32(_mm256_add_epi32(q[0], q[1])), s1 = hsum_epi32(_mm256_add_epi32(q[2], q[3]));
            const int group = (b * block + i) / 32;
            sums32[group] = (float)(s0 + s1);
            if (block == 256) {
                sums16[2 * group] = (float)s0;
                sums16[2 * group + 1] = (float)s1;
            }
        }
    }
}
