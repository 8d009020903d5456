/* The AArch64 MAD variant over the mad_2bit layout (bitlinear_common.h): NEON + dotprod (sdot).
 * Codes as signed bytes: v & 0x03 (scale 1), v & 0x0C (scale 4), v & 0x30 (scale 16) and
 * v >> 6 (scale 1; a byte shift, no mask) are all <= 32, so sdot (s8 x s8) takes them; three
 * accumulators per row, combined with exact arithmetic shifts at the end. 16-byte loads: byte
 * c..c+15 of a group row against activations 64j + c..c+15. */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "targets/kernels/bitlinear_common.h"

#define MAD_DOT __attribute__((target("dotprod")))

MAD_DOT static inline int32_t mad_row_neon(const uint8_t* wb, const int8_t* q, int64_t full,
                                           int64_t KB, const int8_t* tail) {
  const uint8x16_t m03 = vdupq_n_u8(0x03), m0c = vdupq_n_u8(0x0C), m30 = vdupq_n_u8(0x30);
  int32x4_t a = vdupq_n_s32(0), b4 = a, c16 = a;
  for (int64_t b = 0; b < KB; ++b, wb += 256) {
    const int8_t* qb = b < full ? q + 256 * b : tail;
    for (int p = 0; p < 4; ++p) {
      const uint8x16_t v = vld1q_u8(wb + 16 * p);
      a = vdotq_s32(a, vreinterpretq_s8_u8(vandq_u8(v, m03)), vld1q_s8(qb + 16 * p));
      b4 = vdotq_s32(b4, vreinterpretq_s8_u8(vandq_u8(v, m0c)), vld1q_s8(qb + 64 + 16 * p));
      c16 = vdotq_s32(c16, vreinterpretq_s8_u8(vandq_u8(v, m30)), vld1q_s8(qb + 128 + 16 * p));
      a = vdotq_s32(a, vreinterpretq_s8_u8(vshrq_n_u8(v, 6)), vld1q_s8(qb + 192 + 16 * p));
    }
  }
  return vaddvq_s32(vaddq_s32(a, vaddq_s32(vshrq_n_s32(b4, 2), vshrq_n_s32(c16, 4))));
}

MAD_DOT static void mad_gemv_neondot(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0,
                                     int64_t g1, int32_t* dots) {
  const int64_t KB = (K + 255) / 256, full = K / 256;
  int8_t tail[256] __attribute__((aligned(16)));
  mad_tail_block(tail, q, K);
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t i = 0; i < 4; ++i)
      dots[4 * (g - g0) + i] = mad_row_neon(w + g * KB * 256 + 64 * i, q, full, KB, tail);
}

static const mad_isa mad_neondot = {mad_gemv_neondot, NULL};

int64_t bitnetk_bitlinear_mad_neondot(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_neondot);
}

#endif /* __aarch64__ */
