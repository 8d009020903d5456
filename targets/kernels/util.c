/* Error messages of the kernels: "op %q = bitlinear(%x8, %s, @l0.q): <message>" written into
 * call->error (truncated to error_size, always NUL-terminated), without stdio. */
#include "targets/kernels/kernel_util.h"

bitnetk__msg bitnetk__msg_begin(const bitnet_call* call, const bitnet_kernel_args* args) {
  bitnetk__msg m = {call ? call->error : NULL, call && call->error ? call->error_size : 0, 0};
  if (m.cap > 0) m.buf[0] = '\0';
  bitnetk__msg_str(&m, "op ");
  bitnetk__msg_str(&m, args && args->op ? args->op : "(unknown)");
  bitnetk__msg_str(&m, ": ");
  return m;
}

void bitnetk__msg_str(bitnetk__msg* m, const char* s) {
  if (!m->buf || m->cap <= 0 || !s) return;
  while (*s && m->len + 1 < m->cap) m->buf[m->len++] = *s++;
  m->buf[m->len] = '\0';
}

void bitnetk__msg_int(bitnetk__msg* m, int64_t v) {
  char digits[24];
  int n = 0;
  /* Negate in unsigned arithmetic: INT64_MIN has no positive int64 counterpart. */
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    digits[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  char text[26];
  int len = 0;
  if (v < 0) text[len++] = '-';
  while (n) text[len++] = digits[--n];
  text[len] = '\0';
  bitnetk__msg_str(m, text);
}

int64_t bitnetk__fail(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                      const char* text) {
  bitnetk__msg m = bitnetk__msg_begin(call, args);
  bitnetk__msg_str(&m, text);
  return status;
}

int64_t bitnetk__fail_i(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                        const char* t0, int64_t v0, const char* t1) {
  bitnetk__msg m = bitnetk__msg_begin(call, args);
  bitnetk__msg_str(&m, t0);
  bitnetk__msg_int(&m, v0);
  bitnetk__msg_str(&m, t1);
  return status;
}

int64_t bitnetk__fail_ii(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                         const char* t0, int64_t v0, const char* t1, int64_t v1, const char* t2) {
  bitnetk__msg m = bitnetk__msg_begin(call, args);
  bitnetk__msg_str(&m, t0);
  bitnetk__msg_int(&m, v0);
  bitnetk__msg_str(&m, t1);
  bitnetk__msg_int(&m, v1);
  bitnetk__msg_str(&m, t2);
  return status;
}

int64_t bitnetk__fail_iii(const bitnet_call* call, const bitnet_kernel_args* args, int64_t status,
                          const char* t0, int64_t v0, const char* t1, int64_t v1, const char* t2,
                          int64_t v2, const char* t3) {
  bitnetk__msg m = bitnetk__msg_begin(call, args);
  bitnetk__msg_str(&m, t0);
  bitnetk__msg_int(&m, v0);
  bitnetk__msg_str(&m, t1);
  bitnetk__msg_int(&m, v1);
  bitnetk__msg_str(&m, t2);
  bitnetk__msg_int(&m, v2);
  bitnetk__msg_str(&m, t3);
  return status;
}

int64_t bitnetk__check_arity(const bitnet_call* call, const bitnet_kernel_args* args,
                             int64_t min_operands, int64_t max_operands, int64_t results) {
  if (args->num_operands < min_operands || args->num_operands > max_operands)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the kernel got ", args->num_operands,
                            " operands, expected ", min_operands, "");
  if (args->num_results != results)
    return bitnetk__fail_ii(call, args, BITNET_ERR_INTERNAL, "the kernel got ", args->num_results,
                            " results, expected ", results, "");
  return 0;
}
