/* The x86-64 LUT variant over the lut3_5bit layout (bitlinear_common.h), AVX-512 BW:
 *   lut_avx512bw  vpermw zmm: one instruction looks up 32 rows' indices in a 32-entry int16 table
 *                 (it reads the low 5 bits of each word). A word's 2nd and 3rd index come down by
 *                 vpmulhuw with 2^11 and 2^6 (a shift on the multiply ports: measured on Zen 4,
 *                 shifts would compete with vpermw for the shuffle ports). 4 blocks of 32 rows x
 *                 up to 4 tokens of int16 sums, widened to int32 once per chunk of 28 words. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "targets/kernels/bitlinear_common.h"

#if defined(__clang__)
#define LUT_AVX512 __attribute__((target("avx512f,avx512bw,evex512")))
#else
#define LUT_AVX512 __attribute__((target("avx512f,avx512bw")))
#endif

/* acc[0..15] += the low 16 int16 lanes of v, acc[16..31] += the high 16, for the rows < rows. */
LUT_AVX512 static inline void lut_widen_add(__m512i v, int32_t* acc, int64_t rows) {
  const __m512i lo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(v));
  const __m512i hi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(v, 1));
  if (rows >= 32) {
    _mm512_storeu_si512((void*)acc, _mm512_add_epi32(_mm512_loadu_si512((const void*)acc), lo));
    _mm512_storeu_si512((void*)(acc + 16), _mm512_add_epi32(_mm512_loadu_si512((const void*)(acc + 16)), hi));
    return;
  }
  const __mmask16 mlo = rows >= 16 ? (__mmask16)0xFFFF : rows > 0 ? (__mmask16)((1u << rows) - 1) : 0;
  const __mmask16 mhi = rows > 16 ? (__mmask16)((1u << (rows - 16)) - 1) : 0;
  _mm512_mask_storeu_epi32(acc, mlo, _mm512_add_epi32(_mm512_maskz_loadu_epi32(mlo, acc), lo));
  _mm512_mask_storeu_epi32(acc + 16, mhi, _mm512_add_epi32(_mm512_maskz_loadu_epi32(mhi, acc + 16), hi));
}

LUT_AVX512 static inline __attribute__((always_inline)) void lut_tile_avx512_t(
    const uint16_t* words, int64_t cw, const int16_t* tables, int T, int32_t* acc, int64_t stride,
    int64_t rows) {
  __m512i a[LUT_TOKENS][4];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < 4; ++r) a[t][r] = _mm512_setzero_si512();
  const __m512i m5 = _mm512_set1_epi16(1 << 11), m10 = _mm512_set1_epi16(1 << 6);
  for (int64_t x = 0; x < cw; ++x) {
    const int16_t* tb = tables + 3 * x * LUT_TABLE;
    for (int r = 0; r < 4; ++r) {
      const __m512i v = _mm512_loadu_si512((const void*)(words + x * LUT_TILE_ROWS + 32 * r));
      const __m512i i1 = _mm512_mulhi_epu16(v, m5), i2 = _mm512_mulhi_epu16(v, m10);
      for (int t = 0; t < T; ++t) {
        const int16_t* tt = tb + t * LUT_TABLES_PER_TOKEN;
        a[t][r] = _mm512_add_epi16(a[t][r], _mm512_permutexvar_epi16(v, _mm512_load_si512((const void*)tt)));
        a[t][r] = _mm512_add_epi16(a[t][r], _mm512_permutexvar_epi16(i1, _mm512_load_si512((const void*)(tt + 32))));
        a[t][r] = _mm512_add_epi16(a[t][r], _mm512_permutexvar_epi16(i2, _mm512_load_si512((const void*)(tt + 64))));
      }
    }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < 4; ++r) lut_widen_add(a[t][r], acc + t * stride + 32 * r, rows - 32 * r);
}

LUT_AVX512 static void lut_tile_avx512(const uint16_t* words, int64_t cw, const int16_t* tables, int T,
                                       int32_t* acc, int64_t stride, int64_t rows) {
  switch (T) {
    case 1: lut_tile_avx512_t(words, cw, tables, 1, acc, stride, rows); break;
    case 2: lut_tile_avx512_t(words, cw, tables, 2, acc, stride, rows); break;
    case 3: lut_tile_avx512_t(words, cw, tables, 3, acc, stride, rows); break;
    default: lut_tile_avx512_t(words, cw, tables, 4, acc, stride, rows); break;
  }
}

static const lut_isa lut_avx512bw = {lut_tile_avx512};

int64_t bitnetk_bitlinear_lut_avx512bw(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__lut_run(call, args, &lut_avx512bw);
}

#endif /* __x86_64__ */
