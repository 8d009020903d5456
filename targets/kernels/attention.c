/* rope and attention with the KV cache (docs/IR.md).
 * rope: rotate_half pairs (i, i + D/2); inv = f32(1 / powf(theta, f32(2i) / D)), a = f32(pos + t)
 *       * inv, cos/sin computed in f64 and rounded to f32 (as the interpreter).
 * attention: writes k, v at cache rows pos + t (BITNET_ERR_CONTEXT_FULL when pos + S exceeds
 *       the capacity, operand 3's dims[0] = call->state_rows), then each (query row t, head h)
 *       attends to rows 0 .. pos + t of kv head h / (heads / kv_heads): score = f32(q . k) *
 *       scale, softmax with the f64 sum and p = f32(e / sum), out = sum_j p_j v_j.
 *       q . k and the p v sums run in f32 (the interpreter uses f64: last-ulp differences).
 *       The query heads of one kv head (GQA) go together, so each cache row is read once for
 *       all of them. Scores live on the stack (ATT_STACK_SCORES floats, 64 KB) while heads x
 *       context fit; beyond, the dot products are recomputed in three passes (same results).
 *       Tasks = (t, kv head) pairs over the pool. Attributes: ints = [heads, kv_heads, head_dim],
 *       floats = [scale] (attention); ints = [heads, head_dim], floats = [theta] (rope). */
#include "targets/kernels/kernel_util.h"

#define ATT_LANES 16
#define ATT_STACK_SCORES 16384 /* floats: 64 KB of stack per task */
#define ATT_GROUP 16             /* query heads attended together (one pass over the cache) */

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
        const int64_t i0 = t * H * D + h * D + i, i1 = i0 + half;
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

static float dot_f32(const float* restrict a, const float* restrict b, int64_t n) {
  float s[ATT_LANES] = {0};
  int64_t k = 0;
  for (; k + ATT_LANES <= n; k += ATT_LANES)
    for (int l = 0; l < ATT_LANES; ++l) s[l] += a[k + l] * b[k + l];
  for (int l = 0; k + l < n; ++l) s[l] += a[k + l] * b[k + l];
  for (int w = ATT_LANES / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) s[l] += s[l + w];
  return s[0];
}

static void axpy(float* restrict o, float p, const float* restrict v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] += p * v[i];
}

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

/* Query heads [h0, h0 + n) of one kv head (n <= ATT_GROUP) for query row t: every cache row is
 * read once for all of them. */
static void attend_heads(const att_ctx* c, int64_t t, int64_t kvh, int64_t h0, int64_t n,
                         float* scores) {
  const int64_t Hq = c->Hq, Hkv = c->Hkv, D = c->D, len = c->pos + t + 1;
  const float* q = c->q + t * Hq * D + h0 * D;
  float* out = c->o + t * Hq * D + h0 * D;
  const float* kh = c->kc + kvh * D; /* cache row j at kh + j * Hkv * D */
  const float* vh = c->vc + kvh * D;
  const int stored = n * len <= ATT_STACK_SCORES; /* else recompute the dot products */
  float m[ATT_GROUP];
  double sum[ATT_GROUP];
  for (int64_t h = 0; h < n; ++h) m[h] = -__builtin_inff(), sum[h] = 0;
  for (int64_t j = 0; j < len; ++j) {
    const float* k = kh + j * Hkv * D;
    if (j + ATT_AHEAD < len) prefetch_row(k + ATT_AHEAD * Hkv * D, D);
    for (int64_t h = 0; h < n; ++h) {
      const float s = dot_f32(q + h * D, k, D) * c->scale;
      if (stored) scores[h * len + j] = s;
      m[h] = m[h] < s ? s : m[h];
    }
  }
  for (int64_t j = 0; j < len; ++j) {
    const float* k = kh + j * Hkv * D;
    if (!stored && j + ATT_AHEAD < len) prefetch_row(k + ATT_AHEAD * Hkv * D, D);
    for (int64_t h = 0; h < n; ++h) {
      const float s = stored ? scores[h * len + j] : dot_f32(q + h * D, k, D) * c->scale;
      const float e = __builtin_expf(s - m[h]);
      if (stored) scores[h * len + j] = e;
      sum[h] += e;
    }
  }
  for (int64_t i = 0; i < n * D; ++i) out[i] = 0.0f;
  for (int64_t j = 0; j < len; ++j) {
    const float* k = kh + j * Hkv * D;
    const float* v = vh + j * Hkv * D;
    if (j + ATT_AHEAD < len) {
      prefetch_row(v + ATT_AHEAD * Hkv * D, D);
      if (!stored) prefetch_row(k + ATT_AHEAD * Hkv * D, D);
    }
    for (int64_t h = 0; h < n; ++h) {
      const float e = stored ? scores[h * len + j]
                             : __builtin_expf(dot_f32(q + h * D, k, D) * c->scale - m[h]);
      axpy(out + h * D, (float)((double)e / sum[h]), v, D);
    }
  }
}

/* Tasks: (query row t, kv head); the query heads sharing the kv head go together. */
static void attention_range(void* vctx, int64_t begin, int64_t end) {
  const att_ctx* c = (const att_ctx*)vctx;
  const int64_t group = c->Hq / c->Hkv;
  float scores[ATT_STACK_SCORES];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t t = task / c->Hkv, kvh = task % c->Hkv;
    for (int64_t h = 0; h < group; h += ATT_GROUP)
      attend_heads(c, t, kvh, kvh * group + h, group - h < ATT_GROUP ? group - h : ATT_GROUP, scores);
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
  memcpy((float*)kc->data + c.pos * c.Hkv * c.D, k->data, (size_t)S * row_bytes);
  memcpy((float*)vc->data + c.pos * c.Hkv * c.D, v->data, (size_t)S * row_bytes);
  bk_parallel_for(call, S * c.Hkv, (c.pos + S) * c.D * 4 * (c.Hq / c.Hkv), attention_range, &c);
  return 0;
}
