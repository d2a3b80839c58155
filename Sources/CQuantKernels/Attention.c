// Decode attention of a few query heads that share one KV head, over a request's cached positions (the CPU
// backend's per-token path): scores q·k (scaled, optionally soft-capped), softmax, and the weighted sum of the
// value rows. The AVX2 + FMA path keeps each key row and query in 8-wide registers with fused multiply-adds; the
// portable path is the same arithmetic in plain C.
#include <math.h>

#include "Internal.h"

#if CQK_X86
#include <immintrin.h>
#endif

static void softmax_weights(float *s, int n) {
    float m = -INFINITY;
    for (int j = 0; j < n; ++j) m = s[j] > m ? s[j] : m;
    float sum = 0.f;
    for (int j = 0; j < n; ++j) {
        const float e = expf(s[j] - m);
        s[j] = e;
        sum += e;
    }
    const float inv = 1.f / sum;
    for (int j = 0; j < n; ++j) s[j] *= inv;
}

static void attend_scalar(const float *q, int heads, const float *keys, const float *values, const int32_t *slots,
                          int n, int hd, size_t stride, float scale, float softcap, float *scores, float *out) {
    for (int j = 0; j < n; ++j) {
        const float *k = keys + (size_t)slots[j] * stride;
        for (int g = 0; g < heads; ++g) {
            const float *qg = q + (size_t)g * hd;
            float s = 0.f;
            for (int d = 0; d < hd; ++d) s += qg[d] * k[d];
            s *= scale;
            if (softcap > 0.f) s = tanhf(s / softcap) * softcap;
            scores[(size_t)g * n + j] = s;
        }
    }
    for (int g = 0; g < heads; ++g) softmax_weights(scores + (size_t)g * n, n);
    memset(out, 0, sizeof(float) * (size_t)heads * hd);
    for (int j = 0; j < n; ++j) {
        const float *v = values + (size_t)slots[j] * stride;
        for (int g = 0; g < heads; ++g) {
            const float w = scores[(size_t)g * n + j];
            float *o = out + (size_t)g * hd;
            for (int d = 0; d < hd; ++d) o[d] += w * v[d];
        }
    }
}

#if CQK_X86
__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

/// e^x for 8 lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial (relative error ~2e-7, like expf
/// within the softmax's needs), 2^n built in the exponent bits; inputs below -87 give 0.
__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.3f);
    const __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // r = x − n·ln2 in two steps (ln2 split into a high and a low part) to keep r exact.
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(zero_mask, result);
}

/// Softmax weights in place (max subtracted, normalized), 8 lanes at a time.
__attribute__((target("avx2,fma"))) static void softmax_weights_avx2(float *s, int n) {
    float m = -INFINITY;
    for (int j = 0; j < n; ++j) m = s[j] > m ? s[j] : m;
    if (m == -INFINITY) {
        softmax_weights(s, n);
        return;
    }
    const __m256 vm = _mm256_set1_ps(m);
    __m256 acc = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), vm));
        _mm256_storeu_ps(s + j, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum8(acc);
    for (; j < n; ++j) {
        const float e = expf(s[j] - m);
        s[j] = e;
        sum += e;
    }
    const __m256 inv = _mm256_set1_ps(1.f / sum);
    j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < n; ++j) s[j] *= 1.f / sum;
}

__attribute__((target("avx2,fma")))
static void attend_avx2(const float *q, int heads, const float *keys, const float *values, const int32_t *slots, int n,
                        int hd, size_t stride, float scale, float softcap, float *scores, float *out) {
    for (int j = 0; j < n; ++j) {
        const float *k = keys + (size_t)slots[j] * stride;
        for (int g = 0; g < heads; ++g) {
            const float *qg = q + (size_t)g * hd;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            int d = 0;
            for (; d + 16 <= hd; d += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d), _mm256_loadu_ps(k + d), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d + 8), _mm256_loadu_ps(k + d + 8), a1);
            }
            for (; d + 8 <= hd; d += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d), _mm256_loadu_ps(k + d), a0);
            float s = hsum8(_mm256_add_ps(a0, a1));
            for (; d < hd; ++d) s += qg[d] * k[d];
            s *= scale;
            if (softcap > 0.f) s = tanhf(s / softcap) * softcap;
            scores[(size_t)g * n + j] = s;
        }
    }
    for (int g = 0; g < heads; ++g) softmax_weights_avx2(scores + (size_t)g * n, n);
    memset(out, 0, sizeof(float) * (size_t)heads * hd);
    for (int j = 0; j < n; ++j) {
        const float *v = values + (size_t)slots[j] * stride;
        for (int g = 0; g < heads; ++g) {
            const __m256 w = _mm256_set1_ps(scores[(size_t)g * n + j]);
            float *o = out + (size_t)g * hd;
            int d = 0;
            for (; d + 8 <= hd; d += 8) _mm256_storeu_ps(o + d, _mm256_fmadd_ps(w, _mm256_loadu_ps(v + d), _mm256_loadu_ps(o + d)));
            for (; d < hd; ++d) o[d] += scores[(size_t)g * n + j] * v[d];
        }
    }
}
#endif

void cqk_attend(int level, const float *q, int heads, const float *keys, const float *values, const int32_t *slots,
                int n, int hd, size_t stride, float scale, float softcap, float *scores, float *out) {
    if (n <= 0 || heads <= 0 || hd <= 0) return;
#if CQK_X86
    if (level >= CQK_LEVEL_AVX2 && cqk_best_level() >= CQK_LEVEL_AVX2) {
        attend_avx2(q, heads, keys, values, slots, n, hd, stride, scale, softcap, scores, out);
        return;
    }
#endif
    attend_scalar(q, heads, keys, values, slots, n, hd, stride, scale, softcap, scores, out);
}
