/* Data movement and lookups: embedding, gather (numpy take), transpose, reshape, concat.
 * Elements are copied as bytes (results have the operand's element type), except embedding,
 * which converts its f32/bf16/f16 table rows to f32.
 * Attributes: transpose ints = [count, perm...]; concat and gather ints = [axis];
 * reshape ints = [count, shape...] (unused: the result's dims are the actual shape). */
#include "targets/kernels/kernel_util.h"

/* ---- embedding: out[t, :] = f32(table[ids[t], :]) ---- */

typedef struct emb_ctx {
  const void* ids;
  int64_t id_type;
  const uint8_t* table;
  int64_t table_type;
  float* out;
  int64_t H;
} emb_ctx;

static inline int64_t id_at(const void* ids, int64_t type, int64_t i) {
  return type == BITNET_I64 ? ((const int64_t*)ids)[i] : ((const int32_t*)ids)[i];
}

static void embedding_range(void* vctx, int64_t begin, int64_t end) {
  const emb_ctx* c = (const emb_ctx*)vctx;
  const int64_t H = c->H;
  for (int64_t t = begin; t < end; ++t) {
    const int64_t id = id_at(c->ids, c->id_type, t);
    float* restrict o = c->out + t * H;
    if (c->table_type == BITNET_F32) {
      memcpy(o, (const float*)c->table + id * H, (size_t)H * 4);
    } else if (c->table_type == BITNET_BF16) {
      const uint16_t* restrict row = (const uint16_t*)c->table + id * H;
      for (int64_t i = 0; i < H; ++i) o[i] = bk_bf16_to_f32(row[i]);
    } else {
      const uint16_t* restrict row = (const uint16_t*)c->table + id * H;
      for (int64_t i = 0; i < H; ++i) o[i] = bk_f16_to_f32(row[i]);
    }
  }
}

int64_t bitnetk_embedding(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *ids = &args->operands[0], *table = &args->operands[1];
  if ((ids->dtype != BITNET_I32 && ids->dtype != BITNET_I64) || table->rank != 2 ||
      !bk_is_float(table->dtype))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "expects i32 ids and a float [V, H] table");
  const int64_t S = bk_numel(ids), V = table->dims[0];
  for (int64_t t = 0; t < S; ++t) {
    const int64_t id = id_at(ids->data, ids->dtype, t);
    if (id < 0 || id >= V)
      return bitnetk__fail_ii(call, args, BITNET_ERR_TOKEN_OUT_OF_RANGE, "token id ", id,
                              " is out of range for the vocabulary size ", V, "");
  }
  emb_ctx c = {ids->data, ids->dtype, (const uint8_t*)table->data, table->dtype,
               (float*)args->results[0].data, table->dims[1]};
  bk_parallel_for(call, S, c.H, embedding_range, &c);
  return 0;
}

/* ---- gather: out = data[:axis] + indices.shape + data[axis+1:], negative indices wrap ---- */

int64_t bitnetk_gather(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 2, 2, 1);
  if (st) return st;
  const bitnet_tensor *data = &args->operands[0], *idx = &args->operands[1];
  const int64_t esize = bk_dtype_size(data->dtype);
  int64_t axis = bk_int_attr(args, 0);
  if (axis < 0) axis += data->rank;
  if (!esize || axis < 0 || axis >= data->rank || (idx->dtype != BITNET_I32 && idx->dtype != BITNET_I64))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "unsupported operands");
  const int64_t outer = bk_dims_product(data, 0, axis), len = data->dims[axis];
  const int64_t inner = bk_dims_product(data, axis + 1, data->rank) * esize;
  const int64_t count = bk_numel(idx);
  for (int64_t j = 0; j < count; ++j) {
    const int64_t id = id_at(idx->data, idx->dtype, j);
    if (id < -len || id >= len)
      return bitnetk__fail_ii(call, args, BITNET_ERR_INVALID_ARGUMENT, "index ", id,
                              " is out of range for dim ", len, "");
  }
  const uint8_t* src = (const uint8_t*)data->data;
  uint8_t* dst = (uint8_t*)args->results[0].data;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < count; ++j) {
      int64_t id = id_at(idx->data, idx->dtype, j);
      if (id < 0) id += len;
      memcpy(dst + (a * count + j) * inner, src + (a * len + id) * inner, (size_t)inner);
    }
  return 0;
}

/* ---- transpose: out[i0, ..., ir] = x[i_perm^-1...]; rows of the innermost output dim ---- */

typedef struct tr_ctx {
  const uint8_t* x;
  uint8_t* o;
  int64_t esize, rank;
  int64_t odims[BITNET_MAX_RANK], sstr[BITNET_MAX_RANK]; /* output dims, source strides */
} tr_ctx;

#define TR_COPY(T)                                                          \
  for (int64_t i = 0; i < n; ++i) ((T*)dst)[i] = ((const T*)src)[i * step]; \
  break;

static void transpose_range(void* vctx, int64_t begin, int64_t end) {
  const tr_ctx* c = (const tr_ctx*)vctx;
  const int64_t n = c->odims[c->rank - 1], step = c->sstr[c->rank - 1];
  for (int64_t row = begin; row < end; ++row) {
    int64_t off = 0, rest = row;
    for (int64_t d = c->rank - 2; d >= 0; --d) {
      off += (rest % c->odims[d]) * c->sstr[d];
      rest /= c->odims[d];
    }
    const uint8_t* src = c->x + off * c->esize;
    uint8_t* dst = c->o + row * n * c->esize;
    switch (c->esize) {
      case 1: TR_COPY(uint8_t)
      case 2: TR_COPY(uint16_t)
      case 4: TR_COPY(uint32_t)
      default: TR_COPY(uint64_t)
    }
  }
}

int64_t bitnetk_transpose(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor* x = &args->operands[0];
  tr_ctx c;
  memset(&c, 0, sizeof c);
  c.x = (const uint8_t*)x->data;
  c.o = (uint8_t*)args->results[0].data;
  c.esize = bk_dtype_size(x->dtype);
  c.rank = x->rank;
  if (!c.esize || bk_int_attr(args, 0) != x->rank || args->num_ints < 1 + x->rank)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "bad perm or element type");
  if (x->rank == 0) {
    memcpy(c.o, c.x, (size_t)c.esize);
    return 0;
  }
  int64_t strides[BITNET_MAX_RANK], stride = 1;
  for (int64_t d = x->rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= x->dims[d];
  }
  for (int64_t d = 0; d < x->rank; ++d) {
    int64_t p = args->ints[1 + d];
    if (p < 0) p += x->rank;
    if (p < 0 || p >= x->rank)
      return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "perm entry ", args->ints[1 + d],
                             " is out of range");
    c.odims[d] = x->dims[p];
    c.sstr[d] = strides[p];
  }
  const int64_t total = bk_numel(x), n = c.odims[x->rank - 1];
  if (total == 0) return 0;
  bk_parallel_for(call, total / n, n, transpose_range, &c);
  return 0;
}

/* ---- reshape: the same bytes (nothing to do when the result is the operand's buffer) ---- */

int64_t bitnetk_reshape(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, 1, 1);
  if (st) return st;
  const bitnet_tensor *x = &args->operands[0], *o = &args->results[0];
  const int64_t bytes = bk_numel(x) * bk_dtype_size(x->dtype);
  if (o->dtype != x->dtype || bk_numel(o) != bk_numel(x))
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "the result's size differs from the operand's");
  if (o->data != x->data && bytes > 0) memmove(o->data, x->data, (size_t)bytes);
  return 0;
}

/* ---- concat along `axis` ---- */

int64_t bitnetk_concat(const bitnet_call* call, const bitnet_kernel_args* args) {
  int64_t st = bitnetk__check_arity(call, args, 1, INT64_MAX, 1);
  if (st) return st;
  const bitnet_tensor* o = &args->results[0];
  const int64_t esize = bk_dtype_size(o->dtype);
  int64_t axis = bk_int_attr(args, 0);
  if (axis < 0) axis += o->rank;
  if (!esize || axis < 0 || axis >= o->rank)
    return bitnetk__fail(call, args, BITNET_ERR_INTERNAL, "bad axis or element type");
  const int64_t outer = bk_dims_product(o, 0, axis);
  const int64_t inner = bk_dims_product(o, axis + 1, o->rank) * esize;
  const int64_t out_row = o->dims[axis] * inner;
  uint8_t* dst = (uint8_t*)o->data;
  int64_t offset = 0;
  for (int64_t i = 0; i < args->num_operands; ++i) {
    const bitnet_tensor* x = &args->operands[i];
    if (x->dtype != o->dtype || x->rank != o->rank)
      return bitnetk__fail_i(call, args, BITNET_ERR_INTERNAL, "operand ", i, " does not match the result");
    const int64_t part = x->dims[axis] * inner;
    const uint8_t* src = (const uint8_t*)x->data;
    for (int64_t a = 0; a < outer; ++a)
      memcpy(dst + a * out_row + offset, src + a * part, (size_t)part);
    offset += part;
  }
  return 0;
}
