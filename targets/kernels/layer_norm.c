/* layer_norm: x f32 [..., N...] normalized over the dims axis..rank-1 (N elements per row), as
 * the interpreter (compiler/interp/LayerNormOps.cpp):
 *   mean = f32(sum x / N), d = x - mean, var = f32(sum d*d / N)  (sums in f64 in index order)
 *   r = 1 / sqrt(var + eps), y = (d * r) * scale + bias           (f32)
 * Attributes: ints = [axis], floats = [eps]. Rows are split across the pool's threads. */
#include "targets/kernels/kernel_util.h"

typedef struct ln_ctx {
  const float* x;
  const bitnet_tensor* scale;
  const bitnet_tensor* bias;
  float* y;
  int64_t N;
  float eps;
} ln_ctx;

static void ln_range(void* vctx, int64_t begin, int64_t end) {
  const ln_ctx* c = (const ln_ctx*)vctx;
  const int64_t N = c->N;
  for (int64_t row = begin; row < end; ++row) {
    const float* restrict x = c->x + row * N;
    float* restrict y = c->y + row * N;
    double sum = 0;
    for (int64_t i = 0; i < N; ++i) sum += (double)x[i];
    const float mean = (float)(sum / (double)N);
    double sq = 0;
    for (int64_t i = 0; i < N; ++i) {
      const float d = x[i] - mean;
      sq += (double)d * (double)d;
    }
    const float var = (float)(sq / (double)N);
    const float r = 1.0f / __builtin_sqrtf(var + c->eps);
    for (int64_t i = 0; i < N; ++i) {
      const float d = x[i] - mean;
      const float t = d * r;
      const float u = t * bk_load_f32(c->scale->dtype, c->scale->data, i);
      y[i] = u + bk_load_f32(c->bias->dtype, c->bias->data, i);
    }
  }
}

int64_t bitnetk_layer_norm(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 3, 3, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *s = &args->operands[1], *b = &args->operands[2];
  const bitnet_tensor* o = &args->results[0];
  int64_t axis = bk_int_attr(args, 0);
  if (axis < 0) axis += x->rank;
  if (x->dtype != BITNET_F32 || o->dtype != BITNET_F32 || axis < 0 || axis >= x->rank ||
      !bk_is_float(s->dtype) || !bk_is_float(b->dtype))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects f32 x and float scale and bias");
  ln_ctx c = {(const float*)x->data, s, b, (float*)o->data, bk_dims_product(x, axis, x->rank),
              (float)bk_float_attr(args, 0)};
  if (bk_numel(s) != c.N || bk_numel(b) != c.N)
    return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "scale and bias need the ", c.N, " normalized elements");
  bk_parallel_for(call, bk_dims_product(x, 0, axis), c.N * 8, ln_range, &c);
  return 0;
}
