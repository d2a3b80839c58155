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
    for (int g = 0; g < heads; ++g) softmax_weights(scores + (size_t)g * n, n);
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
