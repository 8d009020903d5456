/* rope and attention with the KV cache (docs/IR.md).
 * rope: rotate_half pairs (i, i + D/2); inv = f32(1 / powf(theta, f32(2i) / D)), a = f32(pos + t)
 *       * inv, cos/sin computed in f64 and rounded to f32 (as the interpreter).
 * attention: writes k, v at cache rows pos + t (BITNET_ERR_CONTEXT_FULL when pos + S exceeds
 *       the capacity, operand 3's dims[0] = call->state_rows), then each (query row t, head h)
 *       attends to rows 0 .. pos + t of kv head h / (heads / kv_heads): score = f32(q . k) *
 *       scale, softmax with the f64 sum and p = f32(e / sum), out = sum_j p_j v_j.
 *       Every sum is the interpreter's: f64 (products of two f32 are exact) in its order, so
 *       the results are bit-identical to compiler/interp/AttentionOps.cpp.
 *       The query heads of one kv head (GQA) go together, so each cache row is read once for
 *       all of them. Scores live on the stack (ATT_STACK_SCORES floats, 64 KB) while heads x
 *       context fit; beyond, the dot products are recomputed in three passes (same results).
 *       Tasks = (t, kv head) pairs over the pool. Attributes: ints = [heads, kv_heads, head_dim],
 *       floats = [scale] (attention); ints = [heads, head_dim], floats = [theta] (rope).
 * Test-only faults (bitnet__fault): interleaved-rope, gqa-modulo, cache-at-zero, as the
 * interpreter. */
#include "targets/kernels/kernel_util.h"

#define ATT_STACK_SCORES 16384 /* floats: 64 KB of stack per task */
#define ATT_GROUP 16             /* query heads attended together (one pass over the cache) */
#define ATT_KEYS 8               /* cache rows whose dot products run side by side */
#define ATT_DT 128               /* dims of those rows transposed at a time (4 KB) */
#define ATT_DCHUNK 256           /* output dims accumulated at a time (32 KB of f64 sums) */

#ifdef __clang__
#define ATT_EXACT_FMA _Pragma("clang fp contract(fast)")
#else
#define ATT_EXACT_FMA
#endif

static int64_t read_pos(const bitnet_call* call, const bitnet_kernel_args* args,
                        const bitnet_tensor* p, int64_t* pos) {
  if (p->dtype != BITNET_I64 || bk_numel(p) != 1)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "pos must be a scalar i64");
  *pos = *(const int64_t*)p->data;
  if (*pos < 0)
    return bitnetk__fail_i(call, args, BITNET_ERR_INVALID_ARGUMENT, "pos ", *pos, " is negative");
  return 0;
}

/* ---- rope ---- */

typedef struct rope_ctx {
  const float* x;
  float* o;
  int64_t H, D, pos;
  float theta;
} rope_ctx;

static void rope_range(void* vctx, int64_t begin, int64_t end) {
  const rope_ctx* c = (const rope_ctx*)vctx;
  const int64_t H = c->H, D = c->D, half = D / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float inv = 1.0f / __builtin_powf(c->theta, (float)(2 * i) / (float)D);
    for (int64_t t = begin; t < end; ++t) {
      const float a = (float)(c->pos + t) * inv;
      const float cs = (float)__builtin_cos((double)a), sn = (float)__builtin_sin((double)a);
      for (int64_t h = 0; h < H; ++h) {
        int64_t i0 = t * H * D + h * D + i, i1 = i0 + half;
        if (bitnet__fault == BITNET_FAULT_INTERLEAVED_ROPE) /* test-only: the wrong pairs */
          i0 = t * H * D + h * D + 2 * i, i1 = i0 + 1;
        const float x0 = c->x[i0], x1 = c->x[i1];
        c->o[i0] = x0 * cs - x1 * sn;
        c->o[i1] = x1 * cs + x0 * sn;
      }
    }
  }
}

int64_t bitnetk_rope(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor* x = &args->operands[0];
  rope_ctx c = {(const float*)x->data, (float*)args->results[0].data, bk_int_attr(args, 0),
                bk_int_attr(args, 1), 0, (float)bk_float_attr(args, 0)};
  if ((st = read_pos(call, args, &args->operands[1], &c.pos))) return st;
  if (x->dtype != BITNET_F32 || x->rank != 2 || c.H <= 0 || c.D <= 0 || c.D % 2 ||
      x->dims[1] != c.H * c.D)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects x f32 [S, heads * head_dim]");
  bk_parallel_for(call, x->dims[0], 16 * c.H * c.D, rope_range, &c);
  return 0;
}

/* ---- attention ---- */

/* Cache rows are D floats every Hkv * D: a stride the hardware prefetchers serve poorly while
 * the dot products of a row run (measured: 2x at 4000 rows of the 2B-4T shape). */
#define ATT_AHEAD 8
static inline void prefetch_row(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i);
}

typedef struct att_ctx {
  const float* q;
  const float* kc;
  const float* vc;
  float* o;
  int64_t Hq, Hkv, D, pos;
  float scale;
} att_ctx;

/* The query heads attended together: n heads whose q (and output) rows are `stride` floats
 * apart, all reading kv head kvh. */
typedef struct att_heads {
  const float* q;
  float* out;
  int64_t n, stride;
  const float* k; /* cache row j of the kv head at k + j * row */
  const float* v;
  int64_t row, len;
} att_heads;

/* scores[i * ld + r] = f32(q_i . k_{j0 + r}) * scale for the heads i < n and the cache rows
 * r < rows <= ATT_KEYS. Each dot product is the interpreter's: f64 over d = 0, 1, .. in order
 * (products exact, so contraction changes nothing); the rows are transposed into kt in chunks
 * of ATT_DT dims so that ATT_KEYS sums run side by side in vector lanes. */
static void att_scores(const att_heads* g, const att_ctx* c, int64_t j0, int rows, float* scores,
                       int64_t ld) {
  ATT_EXACT_FMA
  const int64_t D = c->D;
  double acc[ATT_GROUP][ATT_KEYS];
  float kt[ATT_DT * ATT_KEYS];
  memset(acc, 0, sizeof acc);
  for (int64_t d0 = 0; d0 < D; d0 += ATT_DT) {
    const int64_t nd = D - d0 < ATT_DT ? D - d0 : ATT_DT;
    for (int r = 0; r < ATT_KEYS; ++r) {
      const float* k = g->k + (j0 + (r < rows ? r : 0)) * g->row + d0;
      for (int64_t d = 0; d < nd; ++d) kt[d * ATT_KEYS + r] = k[d];
    }
    for (int64_t i = 0; i < g->n; ++i) {
      const float* q = g->q + i * g->stride + d0;
      double s[ATT_KEYS];
      memcpy(s, acc[i], sizeof s);
      for (int64_t d = 0; d < nd; ++d) {
        const double x = q[d];
        for (int r = 0; r < ATT_KEYS; ++r) s[r] += x * (double)kt[d * ATT_KEYS + r];
      }
      memcpy(acc[i], s, sizeof s);
    }
  }
  for (int64_t i = 0; i < g->n; ++i)
    for (int r = 0; r < rows; ++r) scores[i * ld + r] = (float)acc[i][r] * c->scale;
}

/* o[d] += p * v[d] for d < n, in f64 (the product of two f32 values is exact). */
static void axpy_f64(double* restrict o, double p, const float* restrict v, int64_t n) {
  ATT_EXACT_FMA
  for (int64_t d = 0; d < n; ++d) o[d] += p * (double)v[d];
}

/* Attention of the heads of g for one query row: the interpreter's loops (compiler/interp/
 * AttentionOps.cpp) with its f64 sums in its order: scores, max, sum_j e_j over j in order,
 * p_j = f32(e_j / sum), out[d] = f32(sum_j p_j v_j[d]) over j in order. Scores (then the p_j)
 * live in `scores` when n * len fit (ATT_STACK_SCORES); otherwise they are recomputed (the same
 * values: the same operations). */
static void attend_heads(const att_heads* g, const att_ctx* c, float* scores) {
  const int64_t n = g->n, len = g->len, D = c->D;
  const int stored = n * len <= ATT_STACK_SCORES;
  float m[ATT_GROUP], blk[ATT_GROUP * ATT_KEYS];
  double sum[ATT_GROUP];
  for (int64_t i = 0; i < n; ++i) m[i] = -__builtin_inff(), sum[i] = 0;
  /* 1. scores and their maximum */
  for (int64_t j0 = 0; j0 < len; j0 += ATT_KEYS) {
    const int rows = len - j0 < ATT_KEYS ? (int)(len - j0) : ATT_KEYS;
    for (int64_t j = j0 + ATT_KEYS; j < j0 + 2 * ATT_KEYS && j < len; ++j)
      prefetch_row(g->k + j * g->row, D); /* the next block */
    att_scores(g, c, j0, rows, blk, ATT_KEYS);
    for (int64_t i = 0; i < n; ++i)
      for (int r = 0; r < rows; ++r) {
        const float s = blk[i * ATT_KEYS + r];
        if (stored) scores[i * len + j0 + r] = s;
        m[i] = m[i] < s ? s : m[i];
      }
  }
  /* 2. e_j = exp(s_j - m) and their f64 sum, j in order */
  if (stored) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < len; ++j) {
        const float e = __builtin_expf(scores[i * len + j] - m[i]);
        scores[i * len + j] = e;
        sum[i] += e;
      }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < len; ++j) scores[i * len + j] = (float)((double)scores[i * len + j] / sum[i]);
  } else {
    for (int64_t j0 = 0; j0 < len; j0 += ATT_KEYS) {
      const int rows = len - j0 < ATT_KEYS ? (int)(len - j0) : ATT_KEYS;
      att_scores(g, c, j0, rows, blk, ATT_KEYS);
      for (int64_t i = 0; i < n; ++i)
        for (int r = 0; r < rows; ++r) sum[i] += __builtin_expf(blk[i * ATT_KEYS + r] - m[i]);
    }
  }
  /* 3. out = sum_j p_j v_j in f64, ATT_DCHUNK dims at a time */
  double acc[ATT_GROUP * ATT_DCHUNK];
  for (int64_t d0 = 0; d0 < D; d0 += ATT_DCHUNK) {
    const int64_t nd = D - d0 < ATT_DCHUNK ? D - d0 : ATT_DCHUNK;
    memset(acc, 0, sizeof(double) * (size_t)(n * ATT_DCHUNK));
    for (int64_t j0 = 0; j0 < len; j0 += ATT_KEYS) {
      const int rows = len - j0 < ATT_KEYS ? (int)(len - j0) : ATT_KEYS;
      if (!stored) {
        att_scores(g, c, j0, rows, blk, ATT_KEYS);
        for (int64_t i = 0; i < n; ++i)
          for (int r = 0; r < rows; ++r)
            blk[i * ATT_KEYS + r] =
                (float)((double)__builtin_expf(blk[i * ATT_KEYS + r] - m[i]) / sum[i]);
      }
      for (int r = 0; r < rows; ++r) {
        const float* v = g->v + (j0 + r) * g->row + d0;
        if (j0 + r + ATT_AHEAD < len) prefetch_row(v + ATT_AHEAD * g->row, nd);
        for (int64_t i = 0; i < n; ++i) {
          const float p = stored ? scores[i * len + j0 + r] : blk[i * ATT_KEYS + r];
          axpy_f64(acc + i * ATT_DCHUNK, p, v, nd);
        }
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < nd; ++d) g->out[i * g->stride + d0 + d] = (float)acc[i * ATT_DCHUNK + d];
  }
}

/* Tasks: (query row t, kv head); the query heads sharing the kv head go together. */
static void attention_range(void* vctx, int64_t begin, int64_t end) {
  const att_ctx* c = (const att_ctx*)vctx;
  const int64_t Hq = c->Hq, Hkv = c->Hkv, D = c->D, group = Hq / Hkv;
  float scores[ATT_STACK_SCORES];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t t = task / Hkv, kvh = task % Hkv;
    /* Heads h0 + i * step read kv head kvh: h / group = kvh, or (test-only) h % Hkv = kvh. */
    const int modulo = bitnet__fault == BITNET_FAULT_GQA_MODULO;
    const int64_t step = modulo ? Hkv : 1;
    for (int64_t h = 0; h < group; h += ATT_GROUP) {
      const int64_t h0 = modulo ? kvh + h * Hkv : kvh * group + h;
      att_heads g = {c->q + t * Hq * D + h0 * D, c->o + t * Hq * D + h0 * D,
                     group - h < ATT_GROUP ? group - h : ATT_GROUP, step * D,
                     c->kc + kvh * D, c->vc + kvh * D, Hkv * D, c->pos + t + 1};
      attend_heads(&g, c, scores);
    }
  }
}

int64_t bitnetk_attention(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 6, 6, 1);
  if (st) return st;
  const bitnet_tensor *q = &args->operands[0], *k = &args->operands[1], *v = &args->operands[2];
  const bitnet_tensor *kc = &args->operands[3], *vc = &args->operands[4];
  att_ctx c = {(const float*)q->data, (const float*)kc->data, (const float*)vc->data,
               (float*)args->results[0].data, bk_int_attr(args, 0), bk_int_attr(args, 1),
               bk_int_attr(args, 2), 0, (float)bk_float_attr(args, 0)};
  if ((st = read_pos(call, args, &args->operands[5], &c.pos))) return st;
  if (c.Hq <= 0 || c.Hkv <= 0 || c.D <= 0 || c.Hq % c.Hkv || q->rank != 2 || k->rank != 2 ||
      v->rank != 2 || kc->rank != 3 || q->dims[1] != c.Hq * c.D || k->dims[1] != c.Hkv * c.D ||
      kc->dims[1] != c.Hkv || kc->dims[2] != c.D || k->dims[0] != q->dims[0] ||
      v->dims[0] != q->dims[0] || v->dims[1] != k->dims[1] || vc->dims[0] != kc->dims[0])
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "operand shapes do not match the attributes");
  const int64_t S = q->dims[0], capacity = kc->dims[0];
  if (c.pos > capacity - S)
    return bitnetk__fail_iii(call, args, BITNET_ERR_CONTEXT_FULL, "context full: pos ", c.pos,
                             " + ", S, " tokens exceed the cache capacity ", capacity, "");
  const size_t row_bytes = (size_t)(c.Hkv * c.D) * 4;
  /* test-only fault: the new rows at cache row 0 instead of pos */
  const int64_t write_row = bitnet__fault == BITNET_FAULT_CACHE_AT_ZERO ? 0 : c.pos;
  memcpy((float*)kc->data + write_row * c.Hkv * c.D, k->data, (size_t)S * row_bytes);
  memcpy((float*)vc->data + write_row * c.Hkv * c.D, v->data, (size_t)S * row_bytes);
  bk_parallel_for(call, S * c.Hkv, (c.pos + S) * c.D * 4 * (c.Hq / c.Hkv), attention_range, &c);
  return 0;
}
