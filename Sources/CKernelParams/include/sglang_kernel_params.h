// One POD parameter struct per CUDA kernel, shared by Swift (this C target) and the kernels (NVRTC gets this
// file as an in-memory header). Each kernel takes its struct by value as `const __grid_constant__ P p`, and
// Swift launches with a single pointer to the struct, so the two sides cannot drift.
//
// Device pointers are `SGL_PTR(T)`: `T *` in the kernels and a 64-bit integer (CUdeviceptr) on the host.
// Every field is 4 or 8 bytes, pointers first, so host and device layouts agree without padding surprises.
#ifndef SGLANG_KERNEL_PARAMS_H
#define SGLANG_KERNEL_PARAMS_H

#ifdef __CUDACC__
typedef int sgl_i32;
typedef unsigned int sgl_u32;
typedef unsigned long long sgl_u64;
#define SGL_PTR(T) T *
#else
#include <stdint.h>
typedef int32_t sgl_i32;
typedef uint32_t sgl_u32;
typedef uint64_t sgl_u64;
#define SGL_PTR(T) uint64_t
#endif

/// `out[t, :] = table[ids[t], :] * scale` (scale applied when `has_scale`); ids outside the vocabulary give 0.
typedef struct SGLEmbeddingParams {
    SGL_PTR(void) out;
    SGL_PTR(const void) table;
    SGL_PTR(const sgl_i32) ids;
    sgl_i32 tokens;
    sgl_i32 dim;
    sgl_i32 vocab;
    float scale;
    sgl_i32 has_scale;
    sgl_i32 pad0;
} SGLEmbeddingParams;

/// Fused residual add + RMSNorm over `rows` rows of `dim`:
/// if `delta` is non-null, `residual += delta` (stored in the element type); then
/// `out = residual * rsqrt(mean(residual²) + eps) * w` (Gemma, `add_one`: `* (1 + w)`). `out` may be `residual`
/// only when `delta` is null.
typedef struct SGLAddRMSNormParams {
    SGL_PTR(void) residual;
    SGL_PTR(const void) delta;
    SGL_PTR(const void) weight;
    SGL_PTR(void) out;
    sgl_i32 rows;
    sgl_i32 dim;
    float eps;
    sgl_i32 add_one;
} SGLAddRMSNormParams;

/// Rotate-half RoPE of the queries and keys of a fused QKV buffer (rows of `qkv_stride`: q heads, k heads,
/// v heads, each `head_dim`), in place, by `positions[t]` with `inv_freq` (fp32, `rot_half` values; any scaling
/// type is folded into them) and cos/sin multiplied by `attention_factor`; then the token's rotated key and
/// its value are stored at slot `out_loc[t]` of `k_cache`/`v_cache` (`[slots, kv_heads, head_dim]`); slot < 0
/// skips the store (padded rows).
typedef struct SGLRopeStoreKVParams {
    SGL_PTR(void) qkv;
    SGL_PTR(void) k_cache;
    SGL_PTR(void) v_cache;
    SGL_PTR(const sgl_i32) positions;
    SGL_PTR(const sgl_i32) out_loc;
    SGL_PTR(const float) inv_freq;
    sgl_i32 tokens;
    sgl_i32 q_heads;
    sgl_i32 kv_heads;
    sgl_i32 head_dim;
    sgl_i32 rot_half;
    sgl_i32 qkv_stride;
    float attention_factor;
    sgl_i32 pad0;
} SGLRopeStoreKVParams;

/// Gated activations: SiLU, GELU (tanh approximation), GELU (erf).
enum { SGL_ACT_SILU = 0, SGL_ACT_GELU_TANH = 1, SGL_ACT_GELU = 2 };

/// `out[t, i] = act(gate_up[t, i]) * gate_up[t, inner + i]` for `tokens` rows of `2 * inner`.
typedef struct SGLGatedActParams {
    SGL_PTR(const void) gate_up;
    SGL_PTR(void) out;
    sgl_i32 tokens;
    sgl_i32 inner;
    sgl_i32 activation;
    sgl_i32 pad0;
} SGLGatedActParams;

/// Fused residual add + RMSNorm + skinny GEMM for one decode row (bf16): every block adds `delta` (may be null)
/// to `residual` (rounded to bf16, as `SGLAddRMSNormParams`), normalizes with `norm_weight` (Gemma's `1 + w`
/// when `add_one`) into shared memory and computes `y = normed · wᵀ (+ bias)` as `SGLGemvParams` with `ksplit`
/// warps per column; block 0 also writes the sum to `residual_out` (another buffer: the other blocks still read
/// `residual`). `k` (the hidden size) must be a multiple of 8. With `act_out` (a gated MLP's gate-up, `n` = 2 ·
/// inner rows `[gate | up]`, `ksplit` ≤ 4) the GEMM writes `act(gate) · up` (`activation` as
/// `SGLGatedActParams`, with the same roundings) to `act_out` instead of `y`. With `k_cache` (a fused QKV, `n` =
/// (q_heads + 2 · kv_heads) · head_dim, full rotary: 2 · rot_half = head_dim, `ksplit` ≤ 4) the q and k heads of `y`
/// are rotated as `SGLRopeStoreKVParams` at `positions[0]` and the key and value stored at slot `out_loc[0]`.
typedef struct SGLGemvNormParams {
    SGL_PTR(const void) w;
    SGL_PTR(void) y;
    SGL_PTR(const void) bias;
    SGL_PTR(const void) residual;
    SGL_PTR(const void) delta;
    SGL_PTR(void) residual_out;
    SGL_PTR(const void) norm_weight;
    SGL_PTR(void) act_out;
    SGL_PTR(const sgl_i32) positions;
    SGL_PTR(const sgl_i32) out_loc;
    SGL_PTR(const float) inv_freq;
    SGL_PTR(void) k_cache;
    SGL_PTR(void) v_cache;
    sgl_i32 n;
    sgl_i32 k;
    sgl_i32 ksplit;
    float eps;
    sgl_i32 add_one;
    sgl_i32 activation;
    sgl_i32 q_heads;
    sgl_i32 kv_heads;
    sgl_i32 head_dim;
    sgl_i32 rot_half;
    float attention_factor;
    /// Column groups (of 8 warps) the persistent grid shares out.
    sgl_i32 groups;
} SGLGemvNormParams;

/// Paged decode attention, split-K (stage 1): one query token per request (row `b` of `q`, `q_stride` elements
/// per row, head `h` at `h * head_dim`) over the keys at positions `0..<seq_lens[b]` of its row in
/// `req_to_token` (`req_to_token_stride` positions per row), GQA grouped (`q_heads / kv_heads` query heads per
/// KV head). Each of `num_splits` splits covers a contiguous range of positions and writes its normalized
/// partial output and log-sum-exp to `partial_out[b, h, split, :]` / `partial_lse[b, h, split]` (fp32);
/// an empty split writes lse = -inf. `softcap` > 0 applies `cap * tanh(s / cap)` to scaled scores;
/// `window` > 0 keeps only positions > seq_len - 1 - window. With `split_counters` (tensor-core kernel only: one
/// zeroed int per request × KV head × head block), the last block of a (request, KV head, head block) to finish
/// merges its splits into `out` (element type, `out_stride` elements per row) and zeroes its counter again, so
/// no merge kernel runs.
typedef struct SGLDecodeAttentionParams {
    SGL_PTR(const void) q;
    SGL_PTR(const void) k_cache;
    SGL_PTR(const void) v_cache;
    SGL_PTR(const sgl_i32) req_to_token;
    SGL_PTR(const sgl_i32) req_pool_indices;
    SGL_PTR(const sgl_i32) seq_lens;
    SGL_PTR(float) partial_out;
    SGL_PTR(float) partial_lse;
    SGL_PTR(void) out;
    SGL_PTR(sgl_i32) split_counters;
    sgl_i32 batch;
    sgl_i32 q_heads;
    sgl_i32 kv_heads;
    sgl_i32 q_stride;
    sgl_i32 req_to_token_stride;
    sgl_i32 num_splits;
    float scale;
    float softcap;
    sgl_i32 window;
    sgl_i32 out_stride;
} SGLDecodeAttentionParams;

/// Split-K merge (stage 2): `out[b, h * head_dim + d]` (element type, `out_stride` per row) from the partials
/// of `SGLDecodeAttentionParams`.
typedef struct SGLAttentionCombineParams {
    SGL_PTR(const float) partial_out;
    SGL_PTR(const float) partial_lse;
    SGL_PTR(void) out;
    sgl_i32 batch;
    sgl_i32 q_heads;
    sgl_i32 head_dim;
    sgl_i32 num_splits;
    sgl_i32 out_stride;
    sgl_i32 pad0;
} SGLAttentionCombineParams;

/// `out[i, :] = src[indices[i], :]` for `count` rows of `dim` (the last-token logits gather).
typedef struct SGLGatherRowsParams {
    SGL_PTR(const void) src;
    SGL_PTR(void) out;
    SGL_PTR(const sgl_i32) indices;
    sgl_i32 count;
    sgl_i32 dim;
} SGLGatherRowsParams;

/// `logits[r, v] = -inf` where bit `v % 32` of `bitmask[r, v / 32]` is clear (bit set: token allowed).
typedef struct SGLBitmaskParams {
    SGL_PTR(void) logits;
    SGL_PTR(const sgl_i32) bitmask;
    sgl_i32 rows;
    sgl_i32 vocab;
} SGLBitmaskParams;

/// Greedy: `out_ids[r] = argmax(logits[r, :])` (lowest index on ties; NaN never wins). Grid (chunks, rows): block
/// (c, r) scans `chunk` logits of row r and raises `keys[r]` (the value's order-preserving bits, then the
/// complement of the index) by an atomic max; the row's last block (`counters[r]`) writes the id and clears
/// both for the next launch, so `keys` and `counters` must be zero before the first one.
typedef struct SGLArgmaxParams {
    SGL_PTR(const void) logits;
    SGL_PTR(sgl_i32) out_ids;
    SGL_PTR(sgl_u64) keys;
    SGL_PTR(sgl_u32) counters;
    sgl_i32 rows;
    sgl_i32 vocab;
    sgl_i32 chunk;
    sgl_i32 reserved;
} SGLArgmaxParams;

/// Sampling from fp32 logits, one row per request: `temperature[r]` (≤ 0: greedy), `top_k[r]` (≤ 0 or ≥ vocab:
/// off), `top_p[r]` (≥ 1: off), `min_p[r]` (≤ 0: off), in SGLang's order: softmax(logits / T), then keep the
/// tokens at or above the k-th largest probability, the smallest head of the distribution whose mass reaches
/// top_p, and those ≥ min_p · max; draw from the kept mass with Philox4x32-10 keyed by `seeds[r]` at counter
/// `offsets[r]` (reproducible per request and step, fixed addresses for graphs). A sampled row's logits are
/// overwritten with its unnormalized probabilities exp((x − max) / T) (greedy rows are left as they are).
typedef struct SGLSamplingParams {
    SGL_PTR(float) logits;
    SGL_PTR(const float) temperature;
    SGL_PTR(const sgl_i32) top_k;
    SGL_PTR(const float) top_p;
    SGL_PTR(const float) min_p;
    SGL_PTR(const sgl_u64) seeds;
    SGL_PTR(const sgl_u64) offsets;
    SGL_PTR(sgl_i32) out_ids;
    /// With `slice` < `vocab`, each row is drawn by ceil(vocab / slice) blocks (gridDim.x, all resident at once),
    /// which meet through `scratch` (`SGL_SAMPLE_SCRATCH_WORDS` words a row, zero before the first launch and left
    /// zero by each); with `slice` ≥ `vocab` one block takes the row and `scratch` is not read.
    SGL_PTR(sgl_u32) scratch;
    sgl_i32 rows;
    sgl_i32 vocab;
    sgl_i32 slice;
    sgl_i32 reserved;
} SGLSamplingParams;

/// Scratch words per row of a sampler launch split over several blocks: a 64-bit key, two counters, 32 partial
/// sums of each of two kinds, and three digits' histograms (counts for top-k, counts and low-bit sums for top-p).
#define SGL_SAMPLE_SCRATCH_WORDS 9284  /* 4 + 64 + 3 · 3 · 1024; a literal so Swift imports it */

/// One sparse edit of a logit (SGLang's order after `logits / T`): `+ bias`, `- penalty` (frequency · count +
/// presence), `-inf` when `masked` (min_new_tokens stop ids), then the repetition penalty (`repetition` ≠ 1:
/// positive values divided by it, finite negative ones multiplied).
typedef struct SGLLogitEdit {
    sgl_i32 token;
    sgl_i32 masked;
    float bias;
    float penalty;
    float repetition;
} SGLLogitEdit;

/// Applies the edits `edits[row_starts[r] ..< row_starts[r + 1]]` (distinct tokens per row) to row `r` of fp32
/// `logits` as seen at temperature `temperature[r]` (> 0): `x ← T · edit(x / T)`, so a sampler that divides by T
/// later sees SGLang's edited logits. Only the edited tokens are read and written.
typedef struct SGLLogitEditParams {
    SGL_PTR(float) logits;
    SGL_PTR(const sgl_i32) row_starts;
    SGL_PTR(const SGLLogitEdit) edits;
    SGL_PTR(const float) temperature;
    sgl_i32 rows;
    sgl_i32 vocab;
} SGLLogitEditParams;

/// Paged prefill/extend attention (causal), variable-length requests in one launch. Request `b` has
/// `prefix_lens[b]` cached tokens and `extend_lens[b]` new ones, whose queries are rows
/// `extend_starts[b] ..< extend_starts[b] + extend_lens[b]` of `q` (`q_stride` elements per row, head `h` at
/// `h * head_dim`); new token `i` sits at position `prefix_lens[b] + i` and attends to the keys at positions
/// `0 ... prefix_lens[b] + i` of row `req_pool_indices[b]` of `req_to_token` (`req_to_token_stride` positions per
/// row; the new tokens' K/V must already be stored), GQA grouped (`q_heads / kv_heads` query heads per KV head),
/// `k_cache`/`v_cache` as `[slots, kv_heads, head_dim]`. `softcap` > 0 applies `cap * tanh(s / cap)` to scaled
/// scores; `window` > 0 keeps only positions > pos - window. Output rows as `q`'s, `out_stride` elements per row.
typedef struct SGLExtendAttentionParams {
    SGL_PTR(const void) q;
    SGL_PTR(const void) k_cache;
    SGL_PTR(const void) v_cache;
    SGL_PTR(void) out;
    SGL_PTR(const sgl_i32) req_to_token;
    SGL_PTR(const sgl_i32) req_pool_indices;
    SGL_PTR(const sgl_i32) prefix_lens;
    SGL_PTR(const sgl_i32) extend_lens;
    SGL_PTR(const sgl_i32) extend_starts;
    sgl_i32 batch;
    sgl_i32 q_heads;
    sgl_i32 kv_heads;
    sgl_i32 q_stride;
    sgl_i32 out_stride;
    sgl_i32 req_to_token_stride;
    float scale;
    float softcap;
    sgl_i32 window;
    sgl_i32 pad0;
} SGLExtendAttentionParams;

/// Records the KV slot of every new token in the request-to-token table:
/// `req_to_token[token_rows[t] * stride + positions[t]] = out_loc[t]` (rows with `out_loc[t] < 0` are padding).
typedef struct SGLRecordSlotsParams {
    SGL_PTR(sgl_i32) req_to_token;
    SGL_PTR(const sgl_i32) token_rows;
    SGL_PTR(const sgl_i32) positions;
    SGL_PTR(const sgl_i32) out_loc;
    sgl_i32 tokens;
    sgl_i32 stride;
} SGLRecordSlotsParams;

/// Overlap scheduling: the input ids a decode step takes from the step before it, which the host has not seen yet.
/// `input_ids[i] = previous_ids[carried[i]]` where `carried[i] >= 0`; other ids stay as uploaded.
typedef struct SGLTakeCarriedParams {
    SGL_PTR(sgl_i32) input_ids;
    SGL_PTR(const sgl_i32) carried;
    SGL_PTR(const sgl_i32) previous_ids;
    sgl_i32 count;
    sgl_i32 previous_count;
} SGLTakeCarriedParams;

/// `x[r, i] += bias[i]` for `rows` rows of `cols` (element type), the sum rounded to the element type.
typedef struct SGLAddBiasParams {
    SGL_PTR(void) x;
    SGL_PTR(const void) bias;
    sgl_i32 rows;
    sgl_i32 cols;
} SGLAddBiasParams;

/// Per-head RMSNorm in place (Qwen3's q_norm / k_norm): for every token row (`stride` elements apart) the
/// `heads` heads starting at element `offset` of the row, each `head_dim` wide, are normalized and scaled by
/// `weight` (`head_dim` values), rounding as transformers' RMSNorm does.
typedef struct SGLHeadRMSNormParams {
    SGL_PTR(void) x;
    SGL_PTR(const void) weight;
    sgl_i32 tokens;
    sgl_i32 heads;
    sgl_i32 head_dim;
    sgl_i32 stride;
    sgl_i32 offset;
    float eps;
} SGLHeadRMSNormParams;

/// `x = cap * tanh(x / cap)` over `count` fp32 values (final-logit soft-capping).
typedef struct SGLSoftcapParams {
    SGL_PTR(float) x;
    sgl_u64 count;
    float cap;
    sgl_i32 pad0;
} SGLSoftcapParams;

/// Dummy weights: `x[i] = low + (high - low) * u(seed, i)` with `u` uniform in [0, 1) from a counter hash
/// (reproducible, no state), over `count` elements.
typedef struct SGLFillUniformParams {
    SGL_PTR(void) x;
    sgl_u64 count;
    sgl_u64 seed;
    float low;
    float high;
} SGLFillUniformParams;

/// Skinny GEMM for decode (`m` ≤ 4 rows): `y[r, n] = x[r, :] · w[n, :] (+ bias[n])`, weights `[n, k]` row-major
/// in the element type, `x` in the element type, `y` in the element type or fp32 (`out_f32`), fp32 accumulation.
/// `ksplit` warps (1, 2, 4 or 8) per output column stream its weight row with 16-byte loads, each over one
/// contiguous part of `k`, and add up in a fixed order; `k` must be a multiple of 16 bytes.
typedef struct SGLGemvParams {
    SGL_PTR(const void) x;
    SGL_PTR(const void) w;
    SGL_PTR(void) y;
    SGL_PTR(const void) bias;
    sgl_i32 m;
    sgl_i32 n;
    sgl_i32 k;
    sgl_i32 ksplit;
} SGLGemvParams;

/// Mixture-of-experts routing: per token, softmax over the `experts` fp32 router logits (row `t` at
/// `logits + t * stride`), the `top_k` most probable experts (ties: lower index), their probabilities
/// renormalized to sum to 1 when `normalize`. Writes `topk_ids` / `topk_weights` `[tokens, top_k]`.
typedef struct SGLMoERouteParams {
    SGL_PTR(const float) logits;
    SGL_PTR(sgl_i32) topk_ids;
    SGL_PTR(float) topk_weights;
    sgl_i32 tokens;
    sgl_i32 experts;
    sgl_i32 stride;
    sgl_i32 top_k;
    sgl_i32 normalize;
    sgl_i32 pad0;
} SGLMoERouteParams;

/// Groups the `pairs` (token, choice) pairs by expert, in pair order within an expert (deterministic):
/// `offsets[e] ..< offsets[e + 1]` are expert `e`'s slots, `slot_rows[s]` the token row slot `s` reads
/// (`pair / top_k`), `pair_slots[p]` the slot of pair `p`. One block.
typedef struct SGLMoEAlignParams {
    SGL_PTR(const sgl_i32) topk_ids;
    SGL_PTR(sgl_i32) offsets;
    SGL_PTR(sgl_i32) slot_rows;
    SGL_PTR(sgl_i32) pair_slots;
    sgl_i32 pairs;
    sgl_i32 experts;
    sgl_i32 top_k;
    sgl_i32 pad0;
} SGLMoEAlignParams;

/// Grouped skinny GEMM over experts: for every slot `s` of expert `e` (`offsets[e] <= s < offsets[e + 1]`),
/// `y[s, :] = x[row(s), :] · w[e]ᵀ` with `row(s) = x_rows[s]` (or `s` when `x_rows` is null), weights
/// `[experts, n, k]`, fp32 accumulation, `y` in the element type. `k` must be a multiple of 16 bytes.
typedef struct SGLMoEGemmParams {
    SGL_PTR(const void) x;
    SGL_PTR(const sgl_i32) x_rows;
    SGL_PTR(const void) w;
    SGL_PTR(void) y;
    SGL_PTR(const sgl_i32) offsets;
    sgl_i32 n;
    sgl_i32 k;
    sgl_i32 experts;
    sgl_i32 pad0;
} SGLMoEGemmParams;

/// `out[t, :] = Σ_j topk_weights[t, j] · expert_out[pair_slots[t · top_k + j], :]`, plus
/// `sigmoid(shared_gate[t · gate_stride]) · shared_out[t, :]` when `shared_out` is set (Qwen2-MoE's shared
/// expert); summed in fp32, stored once in the element type.
typedef struct SGLMoECombineParams {
    SGL_PTR(const void) expert_out;
    SGL_PTR(const sgl_i32) pair_slots;
    SGL_PTR(const float) topk_weights;
    SGL_PTR(const void) shared_out;
    SGL_PTR(const float) shared_gate;
    SGL_PTR(void) out;
    sgl_i32 tokens;
    sgl_i32 dim;
    sgl_i32 top_k;
    sgl_i32 gate_stride;
} SGLMoECombineParams;

/// GPUs a one-shot all-reduce spans at most.
#define SGL_MAX_TP 8

/// One-shot all-reduce over the GPUs of one process (peer access over NVLink): every rank copies its `count`
/// elements of `data` into its own exchange buffer (the half of parity `step & 1`, `half_bytes` each), tells every
/// peer through their `flags` (`[SGL_MAX_TP ranks][max_blocks]` step numbers, written by the peers), waits for
/// theirs, then sums all ranks' buffers in rank order (so every rank gets the same bits) into `data`. Block `b`
/// handles the `b`-th slice on every rank and keeps its step count in `counters[b]`, so graph replays count on.
typedef struct SGLAllReduceParams {
    SGL_PTR(void) data;
    SGL_PTR(void) exchange[SGL_MAX_TP];
    SGL_PTR(unsigned long long) flags[SGL_MAX_TP];
    SGL_PTR(unsigned long long) counters;
    sgl_u64 count;
    sgl_u64 half_bytes;
    sgl_i32 rank;
    sgl_i32 size;
    sgl_i32 max_blocks;
    sgl_i32 pad0;
} SGLAllReduceParams;

// The layouts are pinned so host (Swift/C) and device (NVRTC) code agree; a change must update both sizes.
#ifdef __cplusplus
#define SGL_ASSERT_SIZE(T, N) static_assert(sizeof(T) == N, #T " layout changed")
#else
#define SGL_ASSERT_SIZE(T, N) _Static_assert(sizeof(T) == N, #T " layout changed")
#endif
SGL_ASSERT_SIZE(SGLEmbeddingParams, 48);
SGL_ASSERT_SIZE(SGLAddRMSNormParams, 48);
SGL_ASSERT_SIZE(SGLRopeStoreKVParams, 80);
SGL_ASSERT_SIZE(SGLGatedActParams, 32);
SGL_ASSERT_SIZE(SGLDecodeAttentionParams, 120);
SGL_ASSERT_SIZE(SGLAttentionCombineParams, 48);
SGL_ASSERT_SIZE(SGLGatherRowsParams, 32);
SGL_ASSERT_SIZE(SGLBitmaskParams, 24);
SGL_ASSERT_SIZE(SGLArgmaxParams, 48);
SGL_ASSERT_SIZE(SGLSamplingParams, 88);
SGL_ASSERT_SIZE(SGLLogitEdit, 20);
SGL_ASSERT_SIZE(SGLLogitEditParams, 40);
SGL_ASSERT_SIZE(SGLExtendAttentionParams, 112);
SGL_ASSERT_SIZE(SGLRecordSlotsParams, 40);
SGL_ASSERT_SIZE(SGLTakeCarriedParams, 32);
SGL_ASSERT_SIZE(SGLAddBiasParams, 24);
SGL_ASSERT_SIZE(SGLHeadRMSNormParams, 40);
SGL_ASSERT_SIZE(SGLSoftcapParams, 24);
SGL_ASSERT_SIZE(SGLFillUniformParams, 32);
SGL_ASSERT_SIZE(SGLGemvParams, 48);
SGL_ASSERT_SIZE(SGLGemvNormParams, 152);
SGL_ASSERT_SIZE(SGLMoERouteParams, 48);
SGL_ASSERT_SIZE(SGLMoEAlignParams, 48);
SGL_ASSERT_SIZE(SGLMoEGemmParams, 56);
SGL_ASSERT_SIZE(SGLMoECombineParams, 64);
SGL_ASSERT_SIZE(SGLAllReduceParams, 176);

#endif
