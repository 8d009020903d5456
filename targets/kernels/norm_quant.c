/* rms_norm, act_quant and their fusion rms_norm_quant, per row of the last dim (docs/IR.md).
 * rms_norm: r = 1 / sqrt(mean(x^2) + eps) with the sum of squares in f64 in the interpreter's
 *           order (bit-identical), rounded to f32; y = w * (x * r) in f32.
 * act_quant: s = 127 / max(max_k |x_k|, 1e-5); q = clamp(roundeven(x * s), -128, 127), the
 *            same f32 operations as the interpreter, so q and s are bit-exact.
 * Test-only faults (bitnet__fault): skip-act-quant, per-tensor-act-quant, as the interpreter. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/transpose8.h"

typedef struct norm_ctx {
  const float* x;
  const void* w;
  int64_t wtype;
  float* y;
  int64_t N;
  float eps;
} norm_ctx;

/* The interpreter's sums of squares of up to NQ_ROWS rows: f64 (the squares are exact), each
 * over i = 0, 1, .. in order, so every mean is bit-identical. One row's sum is a chain of
 * dependent adds (4 cycles an element); rows side by side in vector lanes (an 8 x 8 transpose
 * per 8 elements) run 8 chains at once: prefill normalizes many rows. */
#define NQ_ROWS 8
typedef double nq_v8d __attribute__((vector_size(64)));

static void sum_squares_rows(const float* x, int64_t N, int rows, double sums[NQ_ROWS]) {
  nq_v8d acc = {0};
  int64_t i = 0;
  if (rows > 1)
    for (; i + 8 <= N; i += 8) {
      bk_v8f t[NQ_ROWS], col[NQ_ROWS];
      for (int r = 0; r < NQ_ROWS; ++r) {
        memset(&t[r], 0, sizeof t[r]);
        if (r < rows) memcpy(&t[r], x + r * N + i, sizeof t[r]);
      }
      bk_transpose8(t, col);
      for (int e = 0; e < 8; ++e) {
        const nq_v8d v = __builtin_convertvector(col[e], nq_v8d);
        acc += v * v;
      }
    }
  for (int r = 0; r < rows; ++r) {
    double sum = acc[r];
    for (int64_t k = i; k < N; ++k) sum += (double)x[r * N + k] * (double)x[r * N + k];
    sums[r] = sum;
  }
}

static void norm_row_f32w(const float* restrict x, const float* restrict w, float* restrict y,
                          int64_t n, float r) {
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * r);
}

static void norm_row_bf16w(const float* restrict x, const uint16_t* restrict w, float* restrict y,
                           int64_t n, float r) {
  for (int64_t i = 0; i < n; ++i) y[i] = bk_bf16_to_f32(w[i]) * (x[i] * r);
}

static void norm_row_f16w(const float* restrict x, const uint16_t* restrict w, float* restrict y,
                          int64_t n, float r) {
  for (int64_t i = 0; i < n; ++i) y[i] = bk_f16_to_f32(w[i]) * (x[i] * r);
}

/* r = 1 / sqrt(mean(x^2) + eps) of up to NQ_ROWS rows from x. */
static void norm_rows_r(const norm_ctx* c, const float* x, int rows, float r[NQ_ROWS]) {
  double sums[NQ_ROWS];
  sum_squares_rows(x, c->N, rows, sums);
  for (int i = 0; i < rows; ++i) {
    const float mean = (float)(sums[i] / (double)c->N);
    r[i] = 1.0f / __builtin_sqrtf(mean + c->eps);
  }
}

/* y[0 .. n) = w * (x * r) for the elements i0 .. i0 + n of a row x. */
static void norm_elements(const norm_ctx* c, const float* x, int64_t i0, int64_t n, float r, float* y) {
  switch (c->wtype) {
    case BITNET_BF16: norm_row_bf16w(x + i0, (const uint16_t*)c->w + i0, y, n, r); break;
    case BITNET_F16: norm_row_f16w(x + i0, (const uint16_t*)c->w + i0, y, n, r); break;
    default: norm_row_f32w(x + i0, (const float*)c->w + i0, y, n, r); break;
  }
}

static void rms_norm_range(void* vctx, int64_t begin, int64_t end) {
  const norm_ctx* c = (const norm_ctx*)vctx;
  for (int64_t row0 = begin; row0 < end; row0 += NQ_ROWS) {
    const int rows = end - row0 < NQ_ROWS ? (int)(end - row0) : NQ_ROWS;
    float r[NQ_ROWS];
    norm_rows_r(c, c->x + row0 * c->N, rows, r);
    for (int i = 0; i < rows; ++i)
      norm_elements(c, c->x + (row0 + i) * c->N, 0, c->N, r[i], c->y + (row0 + i) * c->N);
  }
}

int64_t bitnetk_rms_norm(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *w = &args->operands[1];
  norm_ctx c = {(const float*)x->data, w->data, w->dtype, (float*)args->results[0].data,
                bk_last_dim(x), (float)bk_float_attr(args, 0)};
  if (x->dtype != BITNET_F32 || !bk_is_float(w->dtype) || bk_numel(w) != c.N)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects x f32 [..., N] and w [N]");
  const int64_t rows = c.N ? bk_numel(x) / c.N : 0;
  bk_parallel_for(call, rows, 4 * c.N, rms_norm_range, &c);
  return 0;
}

typedef struct quant_ctx {
  const float* x;
  int8_t* q;
  float* s;
  int64_t K;
  float tensor_max; /* BITNET_FAULT_PER_TENSOR_ACT_QUANT only */
} quant_ctx;

/* std::max(m, v) as the interpreter computes it: a NaN element never becomes the maximum. */
static float abs_max(const float* restrict x, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = __builtin_fabsf(x[i]);
    m = m < v ? v : m;
  }
  return m;
}

static void quantize_row(const float* restrict x, int8_t* restrict q, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) {
    float v = __builtin_roundevenf(x[i] * s);
    v = v != v ? 0.0f : v;
    v = v < -128.0f ? -128.0f : v;
    v = 127.0f < v ? 127.0f : v;
    q[i] = (int8_t)v;
  }
}

static void act_quant_range(void* vctx, int64_t begin, int64_t end) {
  const quant_ctx* c = (const quant_ctx*)vctx;
  for (int64_t row = begin; row < end; ++row) {
    const float* x = c->x + row * c->K;
    float scale;
    if (bitnet__fault == BITNET_FAULT_SKIP_ACT_QUANT) {
      scale = 1.0f; /* test-only: no quantization scale */
    } else {
      float m = abs_max(x, c->K);
      if (bitnet__fault == BITNET_FAULT_PER_TENSOR_ACT_QUANT) m = c->tensor_max; /* test-only */
      scale = 127.0f / (m < 1e-5f ? 1e-5f : m);
    }
    c->s[row] = scale;
    quantize_row(x, c->q + row * c->K, c->K, scale);
  }
}

int64_t bitnetk_act_quant(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 2);
  if (st) return st;
  const bitnet_tensor* x = &args->operands[0];
  if (x->dtype != BITNET_F32 || x->rank < 1)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects x f32 [..., K]");
  quant_ctx c = {(const float*)x->data, (int8_t*)args->results[0].data,
                 (float*)args->results[1].data, bk_last_dim(x), 0.0f};
  const int64_t rows = bk_dims_product(x, 0, x->rank - 1);
  if (bitnet__fault == BITNET_FAULT_PER_TENSOR_ACT_QUANT) c.tensor_max = abs_max(c.x, rows * c.K);
  bk_parallel_for(call, rows, 4 * c.K, act_quant_range, &c);
  return 0;
}

/* ---- rms_norm_quant: rms_norm, then act_quant of its rows (fuse-norm-quant) ----
 * The normalized row is never stored: it is computed twice in L1-sized pieces, once for its
 * absolute maximum and once to quantize, by the same f32 operations as rms_norm, so q and s are
 * exactly those of the two ops (one pass over x's memory instead of writing and reading y). */
#define NQ_PIECE 256

typedef struct norm_quant_ctx {
  norm_ctx n;
  int8_t* q;
  float* s;
  float tensor_max; /* BITNET_FAULT_PER_TENSOR_ACT_QUANT only */
} norm_quant_ctx;

static float norm_row_abs_max(const norm_ctx* c, const float* x, float r) {
  float y[NQ_PIECE], m = 0.0f;
  for (int64_t i = 0; i < c->N; i += NQ_PIECE) {
    const int64_t n = c->N - i < NQ_PIECE ? c->N - i : NQ_PIECE;
    norm_elements(c, x, i, n, r, y);
    const float v = abs_max(y, n);
    m = m < v ? v : m;
  }
  return m;
}

static void norm_quant_range(void* vctx, int64_t begin, int64_t end) {
  const norm_quant_ctx* c = (const norm_quant_ctx*)vctx;
  const int64_t N = c->n.N;
  float rs[NQ_ROWS];
  for (int64_t row = begin; row < end; ++row) {
    const float* x = c->n.x + row * N;
    if ((row - begin) % NQ_ROWS == 0)
      norm_rows_r(&c->n, x, end - row < NQ_ROWS ? (int)(end - row) : NQ_ROWS, rs);
    const float r = rs[(row - begin) % NQ_ROWS];
    float scale;
    if (bitnet__fault == BITNET_FAULT_SKIP_ACT_QUANT) {
      scale = 1.0f; /* test-only: no quantization scale */
    } else {
      float m = norm_row_abs_max(&c->n, x, r);
      if (bitnet__fault == BITNET_FAULT_PER_TENSOR_ACT_QUANT) m = c->tensor_max; /* test-only */
      scale = 127.0f / (m < 1e-5f ? 1e-5f : m);
    }
    c->s[row] = scale;
    float y[NQ_PIECE];
    for (int64_t i = 0; i < N; i += NQ_PIECE) {
      const int64_t n = N - i < NQ_PIECE ? N - i : NQ_PIECE;
      norm_elements(&c->n, x, i, n, r, y);
      quantize_row(y, c->q + row * N + i, n, scale);
    }
  }
}

int64_t bitnetk_rms_norm_quant(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 2);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *w = &args->operands[1];
  norm_quant_ctx c = {{(const float*)x->data, w->data, w->dtype, NULL, bk_last_dim(x), (float)bk_float_attr(args, 0)},
                      (int8_t*)args->results[0].data, (float*)args->results[1].data, 0.0f};
  if (x->dtype != BITNET_F32 || x->rank < 1 || !bk_is_float(w->dtype) || bk_numel(w) != c.n.N)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects x f32 [..., N] and w [N]");
  const int64_t rows = c.n.N ? bk_numel(x) / c.n.N : bk_dims_product(x, 0, x->rank - 1);
  if (bitnet__fault == BITNET_FAULT_PER_TENSOR_ACT_QUANT) /* test-only: the whole tensor's maximum */
    for (int64_t row = 0; row < rows; ++row) {
      const float* xr = c.n.x + row * c.n.N;
      float r[NQ_ROWS];
      norm_rows_r(&c.n, xr, 1, r);
      const float m = norm_row_abs_max(&c.n, xr, r[0]);
      c.tensor_max = c.tensor_max < m ? m : c.tensor_max;
    }
  bk_parallel_for(call, rows, 8 * c.n.N, norm_quant_range, &c);
  return 0;
}
