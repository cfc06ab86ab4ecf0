/*
 * ivkit native ABI: the only exported header of libivkit (CPU) and libivkit_cuda (CUDA).
 *
 * Plain C, no libtorch types: tensors cross as raw pointers (the caller's libtorch tensors, contiguous),
 * sizes, a dtype code and, for CUDA, a cudaStream_t passed as void*. Kernels never allocate.
 * Every function returns an ivkit_status_t; on failure ivkit_last_error() (CPU library) or
 * ivkit_cuda_last_error() (CUDA library) gives a thread-local message. Nothing here exits, aborts or prints.
 */
#ifndef IVKIT_IVKIT_H
#define IVKIT_IVKIT_H

#include <stdint.h>

#define IVKIT_API __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t ivkit_status_t;
enum {
    IVKIT_OK = 0,
    IVKIT_ERR_INVALID_ARGUMENT = 1,
    IVKIT_ERR_OUT_OF_MEMORY = 2,
    IVKIT_ERR_CUDA = 3,
    IVKIT_ERR_UNSUPPORTED = 4,
    IVKIT_ERR_INTERNAL = 5
};

/* Element types of tensor arguments (the subset of c10::ScalarType ivkit kernels support). */
typedef int32_t ivkit_dtype_t;
enum {
    IVKIT_DTYPE_F32 = 0,
    IVKIT_DTYPE_BF16 = 1,
    IVKIT_DTYPE_F16 = 2
};

/* ---- CPU library (libivkit) ------------------------------------------------------------------ */

/* Version of the native library; the Java side checks it equals the jar's version. */
IVKIT_API const char* ivkit_version(void);
/* Message of the last failed call on this thread ("" when none). */
IVKIT_API const char* ivkit_last_error(void);
/* A call that does nothing and returns IVKIT_OK: measures the JNI crossing. */
IVKIT_API ivkit_status_t ivkit_noop(void);
/* Threads of the loaded OpenBLAS (the BLAS under libtorch), or -1 when no OpenBLAS is loaded. */
IVKIT_API int ivkit_blas_get_threads(void);
/* Sets them (n >= 1); returns the count before, or -1 (nothing changed) when no OpenBLAS is loaded or n < 1. */
IVKIT_API int ivkit_blas_set_threads(int n);

/*
 * add_rows: the residual-stream intervention.
 *   x[rows[i], :] += scale * scales[i] * v[i * v_row_stride, :]     for i in [0, n)
 * x      [n_rows, d]  dtype, contiguous (a [batch, pos, d_model] activation viewed as rows)
 * v      [n_v, d]     same dtype; v_row_stride = 1 gives one vector per selected row, 0 one shared vector
 * rows   [n]          int64, each in [0, n_rows), all distinct (one position per batch row)
 * scales [n]          float32 per-row factors, or NULL for all 1
 * Math in fp32, one rounding to dtype per element.
 */
IVKIT_API ivkit_status_t ivkit_add_rows(void* x, int64_t n_rows, int64_t d, ivkit_dtype_t dtype,
                                        const void* v, int64_t v_row_stride,
                                        const int64_t* rows, const float* scales, int64_t n, float scale);

/*
 * gather_heads: read per-head attention outputs z at one position per batch row.
 *   z         [batch, seq, heads, d_head]  dtype, contiguous (blocks.L.attn.hook_z)
 *   positions [batch] int64 in [0, seq)
 *   accumulate = 0: out [batch, heads, d_head] dtype,   out[b, h, :] = z[b, positions[b], h, :]
 *   accumulate = 1: out [heads, d_head] float32,       out[h, :] += sum_b z[b, positions[b], h, :]
 *                   (a running sum for mean activations; fp32 accumulation in batch order)
 */
IVKIT_API ivkit_status_t ivkit_gather_heads(const void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                            ivkit_dtype_t dtype, const int64_t* positions, void* out, int32_t accumulate);

/* Modes of patch_heads. */
enum { IVKIT_PATCH_REPLACE = 0, IVKIT_PATCH_ADD = 1 };

/*
 * patch_heads: overwrite or add to single heads of z, in place.
 *   z [batch, seq, heads, d_head] dtype, contiguous
 *   for i in [0, n): z[rows[i], positions[i], head_idx[i], :] (=|+=) values[i * values_row_stride, :]
 *   rows, positions, head_idx [n] int64; the (row, position, head) triples are distinct
 *   values [n_v, d_head] dtype; values_row_stride 1 = one value per patch, 0 = one shared value
 */
IVKIT_API ivkit_status_t ivkit_patch_heads(void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                           ivkit_dtype_t dtype, const int64_t* rows, const int64_t* positions,
                                           const int64_t* head_idx, const void* values, int64_t values_row_stride,
                                           int64_t n, int32_t mode);

/* Directions of kl_rows (p_cur = softmax(current / T), p_ref = softmax(reference / T)). */
enum {
    IVKIT_KL_FORWARD = 0, /* KL(p_ref || p_cur): distillation */
    IVKIT_KL_REVERSE = 1  /* KL(p_cur || p_ref): the IV authors' F.kl_div(log p_ref, p_cur) */
};
/* Element type of kl_rows' optional row mask. */
enum {
    IVKIT_MASK_NONE = 0, /* mask is NULL: every row has weight 1 */
    IVKIT_MASK_U8 = 1,   /* uint8 / bool [rows]: weight 1 where non-zero, 0 elsewhere */
    IVKIT_MASK_F32 = 2   /* float32 [rows]: per-row weights */
};

/*
 * kl_rows: temperature-scaled KL divergence per row of logits, and its gradient w.r.t. the current logits.
 *   current, reference [rows, vocab] dtype (the same for both), contiguous; math in fp32
 *   a = current / T, b = reference / T, p = softmax(a), q = softmax(b), w_r = mask weight of row r
 *   FORWARD: loss[r] = w_r * sum_j q_j (log q_j - log p_j);   grad[r, j] = w_r / T * (p_j - q_j)
 *   REVERSE: loss[r] = w_r * sum_j p_j (log p_j - log q_j);   grad[r, j] = w_r / T * p_j (log p_j - log q_j - KL_r)
 *   loss [rows] float32; grad [rows, vocab] of grad_dtype (float32 or dtype), or NULL for no gradient.
 * One streaming pass per row (online max / sum-exp of both rows, no softmax in memory), a second pass only to write
 * grad. Rows of weight 0 get loss 0 and grad 0. Logits must be finite; |logit / T| up to 1e4 and more is stable.
 * threads: worker threads over rows (<= 1: the calling thread only).
 */
IVKIT_API ivkit_status_t ivkit_kl_rows(const void* current, const void* reference, int64_t rows, int64_t vocab,
                                       ivkit_dtype_t dtype, const void* mask, int32_t mask_kind, float temperature,
                                       int32_t direction, float* loss, void* grad, ivkit_dtype_t grad_dtype,
                                       int32_t threads);

/*
 * kl_topk_rows: kl_rows against a cached top-k reference instead of a reference row, coarse-grained to k + 1 outcomes
 * (the k cached tokens and one "rest" bucket); equal, value and gradient, to kl_rows against the dense reference that
 * spreads the cached rest mass Q over the other tokens in the current proportions.
 *   current  [rows, vocab] dtype, contiguous; math in fp32, sums and the per-row finish in double
 *   ids      [rows, k] int32, each in [0, vocab), distinct within a row (1 <= k < vocab)
 *   logq     [rows, k] float32: the reference's log-probabilities log q_i at those ids (temperature T)
 *   log_rest [rows] float32: log Q, the log of the reference's mass on the other vocab - k tokens
 *   a = current / T, p = softmax(a), I = ids of the row, w_r = mask weight of row r,
 *   P = 1 - sum_{i in I} p_i, computed as Z_rest / Z in double (Z = sum_j e^{a_j - max a}, Z_rest its part off I, so
 *       a rest of 1e-20 keeps its digits), taken as 1e-30 when smaller (all rest terms underflowed)
 *   REVERSE: loss[r] = w_r * (sum_I p_i (log p_i - log q_i) + P (log P - log Q))
 *            grad[r, j] = w_r / T * p_j (h_j - KL_r), h_i = log p_i - log q_i on I, h_j = log P - log Q off I
 *   FORWARD: loss[r] = w_r * (sum_I q_i (log q_i - log p_i) + Q (log Q - log P))
 *            grad[r, i] = w_r / T * (p_i - q_i) on I, grad[r, j] = w_r / T * p_j (1 - Q / P) off I
 *   mask / mask_kind, temperature, direction, loss, grad / grad_dtype: as kl_rows.
 * Logits must be finite (-inf entries are fine as long as a row has a finite one); log q and log Q finite.
 * Rows of weight 0 get loss 0 and grad 0; neither their logits nor their ids, logq, log_rest are read. The CPU path
 * rejects ids out of range or repeated in a read row before writing anything (IVKIT_ERR_INVALID_ARGUMENT).
 * threads: worker threads over rows (<= 1: the calling thread only).
 */
IVKIT_API ivkit_status_t ivkit_kl_topk_rows(const void* current, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                            const int32_t* ids, const float* logq, const float* log_rest, int64_t k,
                                            const void* mask, int32_t mask_kind, float temperature, int32_t direction,
                                            float* loss, void* grad, ivkit_dtype_t grad_dtype, int32_t threads);

/*
 * topk_logprobs: what the reference cache keeps of a logits row: its k most likely tokens at temperature T, their
 * log-probabilities and the log of the other tokens' mass (the inputs ids, logq, log_rest of kl_topk_rows).
 *   logits   [rows, vocab] dtype, contiguous; math in fp32, sums in double; 1 <= k < vocab <= 2^31 - 1
 *   ids      [rows, k] int32, written: a top-k set of logits / T per row, by descending value (ties in any order)
 *   logp     [rows, k] float32, written: log_softmax(logits / T) at ids
 *   log_rest [rows] float32, written: log(Z_rest / Z), Z = sum_j e^{a_j - max a} (a = logits / T), Z_rest its part off
 *            ids summed on its own (a rest of 1e-20 keeps its digits), at least log(1e-30) (all rest terms underflowed)
 * Logits must be finite (-inf entries are fine as long as a row has a finite one).
 * CPU: one max pass and one streaming pass per row (exp sums and a candidate buffer of about 2k + 1024 entries per
 * thread, the only allocation), then a sort of the k kept. threads: worker threads over rows (<= 1: the calling thread
 * only).
 */
IVKIT_API ivkit_status_t ivkit_topk_logprobs(const void* logits, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                             float temperature, int64_t k, int32_t* ids, float* logp, float* log_rest,
                                             int32_t threads);

/* ---- CUDA library (libivkit_cuda; built with -Pcuda) ----------------------------------------- */

IVKIT_API const char* ivkit_cuda_version(void);
IVKIT_API const char* ivkit_cuda_last_error(void);
/* Number of visible CUDA devices; 0 when there is no GPU or driver (never fails). */
IVKIT_API int32_t ivkit_cuda_device_count(void);
/* Same contract as ivkit_add_rows; pointers are device pointers, work is queued on stream. */
IVKIT_API ivkit_status_t ivkit_cuda_add_rows(void* x, int64_t n_rows, int64_t d, ivkit_dtype_t dtype,
                                             const void* v, int64_t v_row_stride,
                                             const int64_t* rows, const float* scales, int64_t n, float scale,
                                             void* stream);

/* Same contracts as the CPU functions; device pointers, queued on stream. */
IVKIT_API ivkit_status_t ivkit_cuda_gather_heads(const void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                                 ivkit_dtype_t dtype, const int64_t* positions, void* out,
                                                 int32_t accumulate, void* stream);
IVKIT_API ivkit_status_t ivkit_cuda_patch_heads(void* z, int64_t batch, int64_t seq, int64_t heads, int64_t d_head,
                                                ivkit_dtype_t dtype, const int64_t* rows, const int64_t* positions,
                                                const int64_t* head_idx, const void* values, int64_t values_row_stride,
                                                int64_t n, int32_t mode, void* stream);

/* Same contract as ivkit_kl_rows (no threads argument); one block per row, queued on stream. */
IVKIT_API ivkit_status_t ivkit_cuda_kl_rows(const void* current, const void* reference, int64_t rows, int64_t vocab,
                                            ivkit_dtype_t dtype, const void* mask, int32_t mask_kind, float temperature,
                                            int32_t direction, float* loss, void* grad, ivkit_dtype_t grad_dtype,
                                            void* stream);

/* Same contract as ivkit_kl_topk_rows (no threads argument); one block per row, queued on stream; vocab up to 385024
 * (IVKIT_ERR_UNSUPPORTED above). The ids are not checked for repeats (the caller's duty); a read row with an id out of
 * range gets loss NaN, and nothing outside the tensors is read or written. */
IVKIT_API ivkit_status_t ivkit_cuda_kl_topk_rows(const void* current, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                                 const int32_t* ids, const float* logq, const float* log_rest, int64_t k,
                                                 const void* mask, int32_t mask_kind, float temperature,
                                                 int32_t direction, float* loss, void* grad, ivkit_dtype_t grad_dtype,
                                                 void* stream);

/* Same contract as ivkit_topk_logprobs (no threads argument); one block per row, queued on stream; k up to 4096
 * (IVKIT_ERR_UNSUPPORTED above: the kept pairs live in shared memory). */
IVKIT_API ivkit_status_t ivkit_cuda_topk_logprobs(const void* logits, int64_t rows, int64_t vocab, ivkit_dtype_t dtype,
                                                  float temperature, int64_t k, int32_t* ids, float* logp,
                                                  float* log_rest, void* stream);

#ifdef __cplusplus
}
#endif
#endif /* IVKIT_IVKIT_H */
