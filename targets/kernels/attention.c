/* rope and attention with the KV cache (docs/IR.md).
 * rope: rotate_half pairs (i, i + D/2); inv = f32(1 / powf(theta, f32(2i) / D)), a = f32(pos + t)
 *       * inv, cos/sin computed in f64 and rounded to f32 (as the interpreter).
 * attention: writes k, v at cache rows pos + t (BITNET_ERR_CONTEXT_FULL when pos + S exceeds
 *       the capacity, operand 3's dims[0] = call->state_rows), then each (query row t, head h)
 *       attends to rows 0 .. pos + t of kv head h / (heads / kv_heads): score = (q . k) * scale,
 *       softmax with the f64 sum and p = f32(e / sum), out = sum_j p_j v_j.
 *       Every sum is the interpreter's f32 order (docs/IR.md): q . k over d = 0, 1, .. and out[d]
 *       over j = 0, 1, .. in f32, each product rounded then added (no FMA: the bitcode is built
 *       with -ffp-contract=off), the softmax sum in f64 over j in order, so the results are
 *       bit-identical to compiler/interp/AttentionOps.cpp. The q . k sums of ATT_KEYS cache rows
 *       run side by side in vector lanes over a transposed copy of the rows, which every
 *       (query row, head) unit of a task shares: the query heads of one kv head (GQA) and up to
 *       8 query rows of a prefill go together. Scores live on the stack (ATT_STACK_SCORES floats,
 *       64 KB) while units x context fit; beyond (one query row per task), the dot products are
 *       recomputed in three passes (same results).
 *       Why f32 and not f64 sums (the order before): every cache element then needs no f32 -> f64
 *       conversion and a vector holds twice the lanes (docs/PERFORMANCE.md, attention).
 *       Tasks = (row block, kv head) over the pool. Attributes: ints = [heads, kv_heads,
 *       head_dim], floats = [scale] (attention); ints = [heads, head_dim], floats = [theta] (rope).
 * Test-only faults (bitnet__fault): interleaved-rope, gqa-modulo, cache-at-zero, as the
 * interpreter. */
#include "targets/kernels/kernel_util.h"
#include "targets/kernels/transpose8.h"

#define ATT_STACK_SCORES 16384 /* floats: 64 KB of stack per task */
#define ATT_UNITS 32             /* (query row, head) pairs attended together (one pass over the cache) */
#define ATT_KB 16                /* key cache rows per transposed block (one 16-lane vector) */
#define ATT_KEYS 64              /* cache rows whose dot products run side by side (4 blocks) */
#define ATT_DT 32                /* dims of those rows summed at a time (8 KB of keys) */
#define ATT_DCHUNK 256           /* output dims accumulated at a time (32 KB of sums) */
#define ATT_VD 64                /* output dims summed in registers at a time (4 x 16) */

/* Sixteen f32 lanes (generic vectors: one AVX-512 register, two AVX2, four SSE2 / NEON); eight
 * for the transposition tiles (transpose8.h). */
typedef float att_v16f __attribute__((vector_size(64)));

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

/* expf(d) of a max-subtracted score. Below -104, e^d is under half the smallest subnormal, so
 * expf returns 0: the same bits without glibc's slow path (it sets errno on each underflow;
 * with random weights most of a long context's scores underflow). The call gets 0 instead of d
 * there, because the backend speculates it on every lane of a vectorized loop. */
static inline float att_exp(float d) {
  const int under = d < -104.0f;
  const float e = __builtin_expf(under ? 0.0f : d);
  return under ? 0.0f : e;
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
  int64_t S;             /* query rows */
  int64_t C;             /* cache capacity (rows) */
  int64_t rows_per_task; /* query rows attended together (they share the transposed keys) */
  float scale;
} att_ctx;

/* One (query row, head) pair: its q row, its output row, the cache rows it attends (len). */
typedef struct att_unit {
  const float* q;
  float* out;
  int64_t len;
} att_unit;

/* The units attended together: they read the same kv head; maxlen = the largest len. */
typedef struct att_units {
  att_unit u[ATT_UNITS];
  int64_t n, maxlen;
  int64_t kvh;    /* the kv head (the key cache is blocked: att_scores) */
  const float* v; /* value cache row j of the kv head at v + j * row */
  int64_t row;
} att_units;

/* The key cache's layout, private to this kernel (no API and no other op reads a state; the
 * interpreter keeps rows): rows in blocks of ATT_KB, each block transposed, so the q . k sums of
 * a block's rows take one vector load per dim and no query pays a transposition. Key j of kv
 * head h, dim d is at
 *   kc + B * Hkv * D + (h * D + d) * nb + (j - B),  B = j - j % ATT_KB,  nb = min(ATT_KB, C - B)
 * (C the capacity; only the last block of a capacity that is not a multiple of ATT_KB is
 * narrower). The value cache keeps rows [C, Hkv, D]: p . v reads rows. */
static inline int64_t key_block_rows(int64_t C, int64_t B) { return C - B < ATT_KB ? C - B : ATT_KB; }

/* Key rows row0 .. row0 + S - 1 from k [S, Hkv * D] into the blocked cache. */
static void store_keys(float* kc, int64_t C, int64_t row_len, const float* k, int64_t S, int64_t row0) {
  for (int64_t t = 0; t < S; ++t) {
    const int64_t j = row0 + t, B = j - j % ATT_KB, nb = key_block_rows(C, B);
    float* blk = kc + B * row_len + (j - B);
    const float* src = k + t * row_len;
    for (int64_t e = 0; e < row_len; ++e) blk[e * nb] = src[e];
  }
}

/* scores[i * ld + r] = (q_i . k_{j0 + r}) * scale for the units i < n with len > j0 and the
 * cache rows r < rows <= ATT_KEYS (rows past a unit's len are computed and never used; j0 is a
 * multiple of ATT_KB). Each dot product is the interpreter's: f32 over d = 0, 1, .. in order,
 * each product rounded; the ATT_KEYS / ATT_KB blocks give as many independent chains, in
 * chunks of ATT_DT dims that every unit passes over while they are in L1. */
static void att_scores(const att_units* g, const att_ctx* c, int64_t j0, int rows, float* scores,
                       int64_t ld) {
  enum { NB = ATT_KEYS / ATT_KB };
  const int64_t D = c->D, row_len = c->Hkv * D;
  const float* kb[NB]; /* dim d0 + d of block b's rows at kb[b] + d * ATT_KB */
  float narrow[NB][ATT_DT][ATT_KB]; /* a narrower last block, widened per chunk */
  att_v16f acc[ATT_UNITS][NB];
  memset(acc, 0, sizeof(att_v16f) * NB * (size_t)g->n);
  for (int64_t d0 = 0; d0 < D; d0 += ATT_DT) {
    const int64_t nd = D - d0 < ATT_DT ? D - d0 : ATT_DT;
    for (int b = 0; b < NB; ++b) {
      const int64_t B = j0 + b * ATT_KB;
      if (B >= j0 + rows) { /* past the rows: repeat block 0 (computed, never used) */
        kb[b] = kb[0];
        continue;
      }
      const int64_t nb = key_block_rows(c->C, B);
      const float* src = c->kc + B * row_len + (g->kvh * D + d0) * nb;
      kb[b] = src;
      if (nb < ATT_KB) {
        memset(narrow[b], 0, sizeof narrow[b]);
        for (int64_t d = 0; d < nd; ++d) memcpy(narrow[b][d], src + d * nb, (size_t)nb * 4);
        kb[b] = &narrow[b][0][0];
      }
    }
    for (int64_t i = 0; i < g->n; ++i) {
      if (g->u[i].len <= j0) continue;
      const float* q = g->u[i].q + d0;
      att_v16f s[NB];
      for (int b = 0; b < NB; ++b) s[b] = acc[i][b];
      for (int64_t d = 0; d < nd; ++d) { /* NB independent chains, each over d in order */
        const float x = q[d];
        for (int b = 0; b < NB; ++b) {
          att_v16f k;
          memcpy(&k, kb[b] + d * ATT_KB, sizeof k);
          s[b] += x * k;
        }
      }
      for (int b = 0; b < NB; ++b) acc[i][b] = s[b];
    }
  }
  for (int64_t i = 0; i < g->n; ++i) {
    const float* a = (const float*)acc[i];
    for (int r = 0; r < rows; ++r) scores[i * ld + r] = a[r] * c->scale;
  }
}

/* o[d] += p * v[d] for d < n, in f32 (the product rounded, then added). */
static void axpy_f32(float* restrict o, float p, const float* restrict v, int64_t n) {
  for (int64_t d = 0; d < n; ++d) o[d] += p * v[d];
}

/* out[d] = sum_j p[j] * v_j[d] in f32 for j < len, j in order for every d, ATT_VD dims (four
 * vectors) at a time: the sums stay in registers while the rows v_j stream by. */
static void att_pv(const att_units* g, const att_ctx* c, const float* p, int64_t len, float* out) {
  const int64_t D = c->D;
  int64_t d0 = 0;
  for (; d0 + ATT_VD <= D; d0 += ATT_VD) {
    att_v16f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    const float* v = g->v + d0;
    for (int64_t j = 0; j < len; ++j, v += g->row) {
      const float pj = p[j];
      att_v16f f0, f1, f2, f3;
      memcpy(&f0, v, sizeof f0);
      memcpy(&f1, v + 16, sizeof f1);
      memcpy(&f2, v + 32, sizeof f2);
      memcpy(&f3, v + 48, sizeof f3);
      s0 += pj * f0;
      s1 += pj * f1;
      s2 += pj * f2;
      s3 += pj * f3;
    }
    memcpy(out + d0, &s0, sizeof s0);
    memcpy(out + d0 + 16, &s1, sizeof s1);
    memcpy(out + d0 + 32, &s2, sizeof s2);
    memcpy(out + d0 + 48, &s3, sizeof s3);
  }
  if (d0 < D) { /* the last D % ATT_VD dims */
    float acc[ATT_VD] = {0};
    for (int64_t j = 0; j < len; ++j) axpy_f32(acc, p[j], g->v + j * g->row + d0, D - d0);
    for (int64_t d = d0; d < D; ++d) out[d] = acc[d - d0];
  }
}

/* Attention of the units of g: the interpreter's loops (compiler/interp/AttentionOps.cpp) with
 * its sums in its order: scores, max, the f64 sum_j e_j over j in order, p_j = f32(e_j / sum),
 * out[d] = sum_j p_j v_j[d] in f32 over j in order. The scores (then the p_j) live in `scores`
 * when n * maxlen fit (ATT_STACK_SCORES); otherwise (one query row per task, long contexts)
 * they are recomputed: the same values from the same operations. */
static void attend(const att_units* g, const att_ctx* c, float* scores) {
  const int64_t n = g->n, L = g->maxlen, D = c->D;
  const int stored = n * L <= ATT_STACK_SCORES;
  float m[ATT_UNITS], blk[ATT_UNITS * ATT_KEYS];
  double sum[ATT_UNITS];
  for (int64_t i = 0; i < n; ++i) m[i] = -__builtin_inff(), sum[i] = 0;
  /* 1. scores and their maximum */
  for (int64_t j0 = 0; j0 < L; j0 += ATT_KEYS) {
    const int rows = L - j0 < ATT_KEYS ? (int)(L - j0) : ATT_KEYS;
    for (int64_t B = j0 + ATT_KEYS; B < j0 + 2 * ATT_KEYS && B < L; B += ATT_KB) /* the next blocks */
      prefetch_row(c->kc + B * g->row + g->kvh * D * key_block_rows(c->C, B), D * key_block_rows(c->C, B));
    if (stored) /* the value rows p . v will read, while the scores are computed */
      for (int r = 0; r < rows; ++r) prefetch_row(g->v + (j0 + r) * g->row, D);
    att_scores(g, c, j0, rows, blk, ATT_KEYS);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t valid = g->u[i].len - j0 < rows ? g->u[i].len - j0 : rows;
      float mi = m[i]; /* in a register: through m[i] every compare waited for the last store */
      for (int64_t r = 0; r < valid; ++r) {
        const float s = blk[i * ATT_KEYS + r];
        if (stored) scores[i * L + j0 + r] = s;
        mi = mi < s ? s : mi;
      }
      m[i] = mi;
    }
  }
  /* 2. e_j = exp(s_j - m) and their f64 sum, j in order; then p_j */
  if (stored) {
    for (int64_t i = 0; i < n; ++i) {
      float* si = scores + i * L;
      for (int64_t j = 0; j < g->u[i].len; ++j) {
        const float e = att_exp(si[j] - m[i]);
        si[j] = e;
        sum[i] += e;
      }
      for (int64_t j = 0; j < g->u[i].len; ++j) si[j] = (float)((double)si[j] / sum[i]);
    }
    /* 3. out = sum_j p_j v_j in f32, j in order for every d */
    for (int64_t i = 0; i < n; ++i) att_pv(g, c, scores + i * L, g->u[i].len, g->u[i].out);
    return;
  }
  for (int64_t j0 = 0; j0 < L; j0 += ATT_KEYS) {
    const int rows = L - j0 < ATT_KEYS ? (int)(L - j0) : ATT_KEYS;
    att_scores(g, c, j0, rows, blk, ATT_KEYS);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t r = 0; r < rows && j0 + r < g->u[i].len; ++r)
        sum[i] += att_exp(blk[i * ATT_KEYS + r] - m[i]);
  }
  float acc[ATT_UNITS * ATT_DCHUNK];
  for (int64_t d0 = 0; d0 < D; d0 += ATT_DCHUNK) {
    const int64_t nd = D - d0 < ATT_DCHUNK ? D - d0 : ATT_DCHUNK;
    memset(acc, 0, sizeof(float) * (size_t)(n * ATT_DCHUNK));
    for (int64_t j0 = 0; j0 < L; j0 += ATT_KEYS) {
      const int rows = L - j0 < ATT_KEYS ? (int)(L - j0) : ATT_KEYS;
      att_scores(g, c, j0, rows, blk, ATT_KEYS);
      for (int64_t r = 0; r < rows; ++r) {
        const float* v = g->v + (j0 + r) * g->row + d0;
        if (j0 + r + ATT_AHEAD < L) prefetch_row(v + ATT_AHEAD * g->row, nd);
        for (int64_t i = 0; i < n; ++i) {
          if (j0 + r >= g->u[i].len) continue;
          const float p = (float)((double)att_exp(blk[i * ATT_KEYS + r] - m[i]) / sum[i]);
          axpy_f32(acc + i * ATT_DCHUNK, p, v, nd);
        }
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t d = 0; d < nd; ++d) g->u[i].out[d0 + d] = acc[i * ATT_DCHUNK + d];
  }
}

/* Tasks: (block of rows_per_task query rows, kv head); the query heads sharing the kv head and
 * those rows go together (up to ATT_UNITS (row, head) units), so every cache row is read and
 * transposed once for all of them. */
static void attention_range(void* vctx, int64_t begin, int64_t end) {
  const att_ctx* c = (const att_ctx*)vctx;
  const int64_t Hq = c->Hq, Hkv = c->Hkv, D = c->D, group = Hq / Hkv, T = c->rows_per_task;
  float scores[ATT_STACK_SCORES];
  /* Heads h0 + i * step read kv head kvh: h / group = kvh, or (test-only) h % Hkv = kvh. */
  const int modulo = bitnet__fault == BITNET_FAULT_GQA_MODULO;
  const int64_t heads = group < ATT_UNITS ? group : ATT_UNITS;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t t0 = (task / Hkv) * T, kvh = task % Hkv;
    const int64_t t1 = t0 + T < c->S ? t0 + T : c->S;
    for (int64_t h = 0; h < group; h += heads) {
      const int64_t nh = group - h < heads ? group - h : heads;
      att_units g;
      g.n = 0;
      g.kvh = kvh;
      g.v = c->vc + kvh * D;
      g.row = Hkv * D;
      g.maxlen = c->pos + t1;
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t i = 0; i < nh; ++i) {
          const int64_t hq = modulo ? kvh + (h + i) * Hkv : kvh * group + h + i;
          g.u[g.n].q = c->q + t * Hq * D + hq * D;
          g.u[g.n].out = c->o + t * Hq * D + hq * D;
          g.u[g.n].len = c->pos + t + 1;
          ++g.n;
        }
      attend(&g, c, scores);
    }
  }
}

int64_t bitnetk_attention(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 6, 6, 1);
  if (st) return st;
  const bitnet_tensor *q = &args->operands[0], *k = &args->operands[1], *v = &args->operands[2];
  const bitnet_tensor *kc = &args->operands[3], *vc = &args->operands[4];
  att_ctx c = {.q = (const float*)q->data, .kc = (const float*)kc->data, .vc = (const float*)vc->data,
               .o = (float*)args->results[0].data, .Hq = bk_int_attr(args, 0), .Hkv = bk_int_attr(args, 1),
               .D = bk_int_attr(args, 2), .rows_per_task = 1, .scale = (float)bk_float_attr(args, 0)};
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
  c.C = capacity;
  store_keys((float*)kc->data, capacity, c.Hkv * c.D, (const float*)k->data, S, write_row);
  memcpy((float*)vc->data + write_row * c.Hkv * c.D, v->data, (size_t)S * row_bytes);
  /* Query rows per task: as many (up to 8) as keep every unit's scores on the stack. */
  const int64_t group = c.Hq / c.Hkv, nh = group < ATT_UNITS ? group : ATT_UNITS;
  c.S = S;
  while (c.rows_per_task < 8 && 2 * c.rows_per_task <= S && 2 * c.rows_per_task * nh <= ATT_UNITS &&
         2 * c.rows_per_task * nh * (c.pos + S) <= ATT_STACK_SCORES)
    c.rows_per_task *= 2;
  const int64_t blocks = (S + c.rows_per_task - 1) / c.rows_per_task;
  bk_parallel_for(call, blocks * c.Hkv, c.rows_per_task * (c.pos + S) * c.D * 4 * group,
                  attention_range, &c);
  return 0;
}
