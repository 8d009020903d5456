/* Reductions (reduce_max, reduce_mean, reduce_sum over `axes`, keepdims) and softmax.
 * As the interpreter: float sums in f64, rounded once (reduce_mean divides the f64 sum); a NaN
 * anywhere in a reduced group gives NaN; integers accumulate in int64 (wrapping) and are
 * truncated to the element type. Every output walks its reduced elements in row-major order,
 * the interpreter's order, so the f64 sums are the same. keepdims changes no byte of the result.
 * Attributes: ints = [axes count, axes..., keepdims]; softmax: ints = [axis]. */
#include "targets/kernels/kernel_util.h"

enum { RED_MAX, RED_MEAN, RED_SUM };

typedef struct red_ctx {
  const uint8_t* x;
  uint8_t* o;
  int64_t dtype, kind;
  /* kept dims (the output's, row-major) and reduced dims, with input element strides */
  int64_t nk, kdims[BITNET_MAX_RANK], kstr[BITNET_MAX_RANK];
  int64_t nr, rdims[BITNET_MAX_RANK], rstr[BITNET_MAX_RANK];
  int64_t count; /* elements per output */
} red_ctx;

static inline double load_f(int64_t t, const uint8_t* p, int64_t i) {
  if (t == BITNET_F32) return ((const float*)p)[i];
  if (t == BITNET_BF16) return bk_bf16_to_f32(((const uint16_t*)p)[i]);
  return bk_f16_to_f32(((const uint16_t*)p)[i]);
}

static inline int64_t load_i(int64_t t, const uint8_t* p, int64_t i) { return bk_load_int(t, p, i); }

static void store_f(int64_t t, uint8_t* p, int64_t i, float v) {
  if (t == BITNET_F32) ((float*)p)[i] = v;
  else if (t == BITNET_BF16) ((uint16_t*)p)[i] = bk_f32_to_bf16(v);
  else ((uint16_t*)p)[i] = bk_f32_to_f16(v);
}

static void store_i(int64_t t, uint8_t* p, int64_t i, int64_t v) { bk_store_int(t, p, i, v); }

/* Sum of f32 x[0, n) in f64, sequentially (the interpreter's order). */
static double sum_f32_seq(const float* x, int64_t n, int* nan) {
  double s = 0;
  int seen = 0;
  for (int64_t i = 0; i < n; ++i) {
    s += x[i];
    seen |= x[i] != x[i];
  }
  *nan |= seen;
  return s;
}

static void reduce_range(void* vctx, int64_t begin, int64_t end) {
  const red_ctx* c = (const red_ctx*)vctx;
  const int floats = bk_is_float(c->dtype);
  const int64_t inner = c->nr ? c->rdims[c->nr - 1] : 1, istr = c->nr ? c->rstr[c->nr - 1] : 0;
  for (int64_t o = begin; o < end; ++o) {
    int64_t base = 0, rest = o;
    for (int64_t d = c->nk - 1; d >= 0; --d) {
      base += (rest % c->kdims[d]) * c->kstr[d];
      rest /= c->kdims[d];
    }
    double facc = c->kind == RED_MAX ? -__builtin_inf() : 0.0;
    const int unsigned_max = c->kind == RED_MAX && bk_is_unsigned(c->dtype); /* compare as uint64 */
    int64_t iacc = c->kind == RED_MAX && !unsigned_max ? INT64_MIN : 0;
    int nan = 0;
    const int64_t groups = inner ? c->count / inner : 0;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t off = base, r = g;
      for (int64_t d = c->nr - 2; d >= 0; --d) {
        off += (r % c->rdims[d]) * c->rstr[d];
        r /= c->rdims[d];
      }
      if (floats && c->dtype == BITNET_F32 && istr == 1 && c->kind != RED_MAX) {
        facc += sum_f32_seq((const float*)c->x + off, inner, &nan);
        continue;
      }
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t i = off + k * istr;
        if (floats) {
          const double v = load_f(c->dtype, c->x, i);
          nan |= v != v;
          if (c->kind == RED_MAX) facc = facc < v ? v : facc;
          else facc += v;
        } else {
          const int64_t v = load_i(c->dtype, c->x, i);
          if (unsigned_max) iacc = (uint64_t)iacc < (uint64_t)v ? v : iacc;
          else if (c->kind == RED_MAX) iacc = iacc < v ? v : iacc;
          else iacc = (int64_t)((uint64_t)iacc + (uint64_t)v);
        }
      }
    }
    if (floats) {
      if (c->kind == RED_MEAN) facc /= (double)c->count;
      store_f(c->dtype, c->o, o, nan ? __builtin_nanf("") : (float)facc);
    } else {
      store_i(c->dtype, c->o, o, iacc);
    }
  }
}

static int64_t reduce(const bitnet_call* call, const bitnet_kernel_args* args, int64_t kind) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  if (x->dtype != o->dtype || !bk_dtype_size(x->dtype) || (kind == RED_MEAN && !bk_is_float(x->dtype)))
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "unsupported element type ", x->dtype, "");
  const int64_t rank = x->rank, naxes = bk_int_attr(args, 0);
  if (naxes < 0 || naxes > rank || args->num_ints < 1 + naxes)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "bad axes count ", naxes, "");
  int reduced[BITNET_MAX_RANK] = {0};
  for (int64_t i = 0; i < naxes; ++i) {
    int64_t a = args->ints[1 + i];
    if (a < 0) a += rank;
    if (a < 0 || a >= rank)
      return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "axis ", args->ints[1 + i],
                             " is out of range");
    reduced[a] = 1;
  }
  if (naxes == 0)
    for (int64_t d = 0; d < rank; ++d) reduced[d] = 1;
  red_ctx c;
  memset(&c, 0, sizeof c);
  c.x = (const uint8_t*)x->data;
  c.o = (uint8_t*)o->data;
  c.dtype = x->dtype;
  c.kind = kind;
  c.count = 1;
  int64_t stride = 1, strides[BITNET_MAX_RANK];
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= x->dims[d];
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) {
      c.rdims[c.nr] = x->dims[d];
      c.rstr[c.nr++] = strides[d];
      c.count *= x->dims[d];
    } else {
      c.kdims[c.nk] = x->dims[d];
      c.kstr[c.nk++] = strides[d];
    }
  }
  const int64_t outputs = bk_numel(o);
  bk_parallel_for(call, outputs, c.count + 1, reduce_range, &c);
  return 0;
}

int64_t bitnetk_reduce_max(const bitnet_call* call, const bitnet_kernel_args* args) {
  return reduce(call, args, RED_MAX);
}
int64_t bitnetk_reduce_mean(const bitnet_call* call, const bitnet_kernel_args* args) {
  return reduce(call, args, RED_MEAN);
}
int64_t bitnetk_reduce_sum(const bitnet_call* call, const bitnet_kernel_args* args) {
  return reduce(call, args, RED_SUM);
}

/* ---- softmax along one axis: max-subtracted, f64 sum, each e / sum rounded once ---- */

typedef struct softmax_ctx {
  const float* x;
  float* o;
  int64_t len, inner;
} softmax_ctx;

static void softmax_range(void* vctx, int64_t begin, int64_t end) {
  const softmax_ctx* c = (const softmax_ctx*)vctx;
  const int64_t len = c->len, inner = c->inner;
  for (int64_t t = begin; t < end; ++t) { /* t = a * inner + b */
    const int64_t a = t / inner, b = t % inner;
    const float* x = c->x + a * len * inner + b;
    float* o = c->o + a * len * inner + b;
    float m = -__builtin_inff();
    for (int64_t k = 0; k < len; ++k) m = m < x[k * inner] ? x[k * inner] : m;
    double sum = 0;
    for (int64_t k = 0; k < len; ++k) {
      const float e = __builtin_expf(x[k * inner] - m);
      o[k * inner] = e;
      sum += e;
    }
    for (int64_t k = 0; k < len; ++k) o[k * inner] = (float)((double)o[k * inner] / sum);
  }
}

int64_t bitnetk_softmax(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor* x = &args->operands[0];
  if (x->dtype != BITNET_F32 || args->results[0].dtype != BITNET_F32 || x->rank < 1)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects f32 of rank >= 1");
  int64_t axis = bk_int_attr(args, 0);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis >= x->rank)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "axis ", bk_int_attr(args, 0),
                           " is out of range");
  softmax_ctx c = {(const float*)x->data, (float*)args->results[0].data, x->dims[axis],
                   bk_dims_product(x, axis + 1, x->rank)};
  const int64_t outer = bk_dims_product(x, 0, axis);
  if (c.inner == 0) return 0;
  bk_parallel_for(call, outer * c.inner, 32 * c.len, softmax_range, &c);
  return 0;
}
