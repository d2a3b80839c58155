// Level detection, the per-thread activation buffer, and the entry points.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "Internal.h"

static atomic_int detected = -1;

static int detect(void) {
#if CQK_X86
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return CQK_LEVEL_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni"))
        return CQK_LEVEL_AVX512;
    return CQK_LEVEL_AVX2;
#else
    return CQK_LEVEL_SCALAR;
#endif
}

int cqk_best_level(void) {
    int level = atomic_load_explicit(&detected, memory_order_relaxed);
    if (level < 0) {
        level = detect();
        atomic_store_explicit(&detected, level, memory_order_relaxed);
    }
    return level;
}

/// `level` clamped to what the CPU supports.
static int usable(int level) {
    const int best = cqk_best_level();
    return level < CQK_LEVEL_SCALAR ? CQK_LEVEL_SCALAR : level > best ? best : level;
}

int cqk_supports_type(uint32_t type) { return cqk_scalar_kernel(type) != 0; }

int cqk_activation_block(uint32_t type) {
    switch (type) {
    case CQK_Q4_0: case CQK_Q4_1: case CQK_Q5_0: case CQK_Q5_1: case CQK_Q8_0: return 32;
    case CQK_Q4_K: case CQK_Q5_K: case CQK_Q6_K: return 256;
    default: return 0;
    }
}

static cqk_rows_fn kernel(int level, uint32_t type) {
#if CQK_X86
    if (level == CQK_LEVEL_AVX512) return cqk_avx512_kernel(type);
    if (level == CQK_LEVEL_AVX2) return cqk_avx2_kernel(type);
#endif
    return cqk_scalar_kernel(type);
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t cqk_act_bytes(int cols) {
    const size_t n = cols > 0 ? (size_t)cols : 0;
    return 2 * round64(n) + round64(n / 32 * sizeof(float)) * 2 + round64(n / 16 * sizeof(float));
}

void cqk_quantize_row(int level, const float *x, int cols, int block, void *scratch, cqk_act *act) {
    const size_t n = (size_t)cols;
    uint8_t *p = scratch;
    int8_t *hi = (int8_t *)p;
    int8_t *lo = (int8_t *)(p + round64(n));
    float *d = (float *)(p + 2 * round64(n));
    float *sums32 = (float *)((uint8_t *)d + round64(n / 32 * sizeof(float)));
    float *sums16 = (float *)((uint8_t *)sums32 + round64(n / 32 * sizeof(float)));
    switch (usable(level)) {
#if CQK_X86
    case CQK_LEVEL_AVX512: cqk_avx512_quantize(x, cols, block, hi, lo, d, sums32, sums16); break;
    case CQK_LEVEL_AVX2: cqk_avx2_quantize(x, cols, block, hi, lo, d, sums32, sums16); break;
#endif
    default: cqk_scalar_quantize(x, cols, block, hi, lo, d, sums32, sums16); break;
    }
    act->hi = hi;
    act->lo = lo;
    act->d = d;
    act->sums32 = sums32;
    act->sums16 = sums16;
}

int cqk_dot_rows(int level, uint32_t type, const void *w, size_t row_bytes, int rows, int cols, const cqk_act *act,
                 float *out) {
    const int block = cqk_activation_block(type);
    const cqk_rows_fn fn = kernel(usable(level), type);
    if (!fn || block == 0 || cols % block != 0) return -1;
    if (rows > 0) fn(w, row_bytes, rows, cols / block, act, out);
    return 0;
}

// Each thread keeps one growing buffer for its quantized activations; the key's destructor frees it when
// the thread exits.
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local void *scratch_buffer;
static _Thread_local size_t scratch_capacity;

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free); }

static void *scratch(size_t bytes) {
    if (bytes <= scratch_capacity) return scratch_buffer;
    pthread_once(&scratch_once, make_scratch_key);
    void *p = 0;
    if (posix_memalign(&p, 64, bytes) != 0) return 0;
    free(scratch_buffer);
    scratch_buffer = p;
    scratch_capacity = bytes;
    pthread_setspecific(scratch_key, p);
    return p;
}

enum { MAX_TOKENS_ON_STACK = 64 };

int cqk_matmul(int level, uint32_t type, const void *w, size_t row_bytes, int row_begin, int row_end, int cols,
               const float *x, int tokens, float *y, size_t y_stride) {
    const int block = cqk_activation_block(type);
    level = usable(level);
    const cqk_rows_fn fn = kernel(level, type);
    if (!fn || block == 0 || cols <= 0 || cols % block != 0 || tokens < 0 || tokens > MAX_TOKENS_ON_STACK) return -1;
    if (tokens == 0 || row_end <= row_begin) return 0;
    const size_t per_row = cqk_act_bytes(cols);
    uint8_t *buffer = scratch(per_row * (size_t)tokens);
    if (!buffer) return -1;
    cqk_act acts[MAX_TOKENS_ON_STACK];
    for (int t = 0; t < tokens; t++) {
        cqk_quantize_row(level, x + (size_t)t * (size_t)cols, cols, block, buffer + per_row * (size_t)t, &acts[t]);
    }
    const uint8_t *base = w;
    const int blocks = cols / block;
    if (tokens == 1) {
        fn(base + (size_t)row_begin * row_bytes, row_bytes, row_end - row_begin, blocks, &acts[0], y + row_begin);
        return 0;
    }
    // Tiles of 16 rows stay in L1 while every token passes over them.
    for (int r = row_begin; r < row_end; r += 16) {
        const int n = row_end - r < 16 ? row_end - r : 16;
        for (int t = 0; t < tokens; t++) {
            fn(base + (size_t)r * row_bytes, row_bytes, n, blocks, &acts[t], y + (size_t)t * y_stride + r);
        }
    }
    return 0;
}
