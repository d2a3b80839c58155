#ifndef CQUANTKERNELS_H
#define CQUANTKERNELS_H

/// Integer dot-product kernels for ggml block-quantized weights on the CPU (used by Compute's
/// `QuantizedMatrix`): fp32 activations are quantized per block of 32 values (256 for the K-quants) with one
/// fp32 scale, and multiplied with the packed weights in integer arithmetic, as llama.cpp does.
///
/// Activations get 15 bits (|q| ≤ 32512 = 127·256) rather than ggml's 8, stored as two signed byte digits
/// `q = 256·hi + lo` (hi in −127…127, lo in −128…127) that the 8-bit multiply instructions take one at a
/// time: SmolLM2's hidden states have outlier channels that make an 8-bit block scale too coarse for the
/// other values (teacher-forced log-probabilities then move by up to 0.5 from transformers').
///
/// Every kernel exists at three levels: portable C, AVX2 (+FMA, F16C) and AVX-512 (F, BW, VL, VNNI). The
/// x86 levels are compiled per function with target attributes, so the package needs no -march flags; the
/// best level the CPU supports is detected once (`cqk_best_level`). Every entry point takes the level
/// explicitly, so tests can run each path side by side without global state.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel implementations, in increasing order of capability.
enum {
    CQK_LEVEL_SCALAR = 0,
    CQK_LEVEL_AVX2 = 1,
    CQK_LEVEL_AVX512 = 2,
};

/// The best level this CPU supports (detected on the first call, then cached).
int cqk_best_level(void);

/// Whether `type` (a ggml type id) has integer kernels here: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
int cqk_supports_type(uint32_t type);

/// Values per activation scale for `type`: 32 for the 32-value formats, 256 for the K-quants, 0 otherwise.
int cqk_activation_block(uint32_t type);

/// One row of quantized activations: value `i` is approximately `(256·hi[i] + lo[i]) · d[i / block]`.
typedef struct cqk_act {
    /// `cols` high digits in −127…127.
    const int8_t *hi;
    /// `cols` low digits in −128…127.
    const int8_t *lo;
    /// One scale per block (`max|x| / 32512`).
    const float *d;
    /// Σq per 32 values (`cols / 32` entries; exact integers).
    const float *sums32;
    /// Σq per 16 values (`cols / 16` entries; filled for 256-value blocks only).
    const float *sums16;
} cqk_act;

/// Bytes of scratch `cqk_quantize_row` needs for one row of `cols` values.
size_t cqk_act_bytes(int cols);

/// Quantizes `cols` values (a multiple of `block`, which is 32 or 256) into `scratch` (at least
/// `cqk_act_bytes(cols)` bytes, 64-byte aligned) and fills `act` with pointers into it.
void cqk_quantize_row(int level, const float *x, int cols, int block, void *scratch, cqk_act *act);

/// `out[r] = Σ_c W[r, c] · act` for `rows` consecutive weight rows of `type` starting at `w`, each
/// `row_bytes` long and `cols` values wide. Returns 0, or −1 when `type` has no kernel.
int cqk_dot_rows(int level, uint32_t type, const void *w, size_t row_bytes, int rows, int cols,
                 const cqk_act *act, float *out);

/// The whole product for a band of weight rows: quantizes the `tokens × cols` fp32 activations `x` into
/// a per-thread buffer (reused across calls), then for every token `t` and row `r` in
/// `row_begin..<row_end`: `y[t · y_stride + r] = Σ_c W[r, c] · x[t · cols + c]`, where row `r` starts at
/// `w + r · row_bytes`. Safe to call concurrently with disjoint row bands. Returns 0, or −1 for an
/// unsupported type or a failed allocation.
int cqk_matmul(int level, uint32_t type, const void *w, size_t row_bytes, int row_begin, int row_end, int cols,
               const float *x, int tokens, float *y, size_t y_stride);

/// Decode attention of `heads` query heads (`q`, `heads × hd` floats) sharing one KV head, over `n` cached
/// positions whose K and V rows start at `keys + slots[j] * stride` / `values + slots[j] * stride`: scores
/// `q·k · scale` (soft-capped as `tanh(s / softcap) · softcap` when `softcap` > 0), softmax, and
/// `out[g] = Σ_j p_j · v_j` (`heads × hd` floats). `scores` is scratch of `heads × n` floats. `level` as above.
void cqk_attend(int level, const float *q, int heads, const float *keys, const float *values, const int32_t *slots,
                int n, int hd, size_t stride, float scale, float softcap, float *scores, float *out);

/// A spin-wait hint to the core (x86 `pause`, Arm `yield`): Compute's worker pool calls it while it polls
/// for the next parallel region, so a spinning thread yields pipeline resources and power.
static inline void cqk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#ifdef __cplusplus
}
#endif

#endif
