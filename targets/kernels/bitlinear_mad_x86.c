/* The x86-64 MAD variants over the mad_2bit layout (bitlinear_common.h): each function carries
 * its ISA in __attribute__((target)), so the one x86_64 bitcode holds all of them; select-kernels
 * calls a variant only on targets with its features (targets/passes/KernelTable.cpp).
 *
 * Codes without shifts: a 64-byte group row is loaded once; (v & 0x03 << 2j) is the code of
 * column 64j + c times 4^j, so each of the 4 masks feeds vpdpbusd directly into an accumulator
 * of scale 4^j; at the end acc_j >> 2j (exact: every lane is a multiple of 4^j) and the sum.
 * Lane bound: |code << 6| <= 128, |q| <= 128, 4 products per dword per block: 65536 * KB < 2^31
 * for K <= MAD_MAX_K.
 *   mad_avx512vnni  vpdpbusd zmm: 4 rows x 4 scales = 16 accumulators; GEMM for prefill.
 *   mad_avxvnni     vpdpbusd ymm: (v, v >> 2) & 0x03 at scale 1 and & 0x30 at scale 16;
 *   mad_avx512vnni_ymm  the same code, EVEX-encoded (AVX-512 VNNI + VL).
 *   mad_avx2        vpmaddubsw + vpmaddwd with the same two scales. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "targets/kernels/bitlinear_common.h"

#if defined(__clang__)
#define MAD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni,evex512")))
#else
#define MAD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni")))
#endif
#define MAD_AVXVNNI __attribute__((target("avx2,avxvnni")))
#define MAD_AVX512VL __attribute__((target("avx2,avx512f,avx512vl,avx512vnni")))
#define MAD_AVX2 __attribute__((target("avx2")))

/* ---- AVX-512 VNNI ---- */

#define R512(r)                                                                  \
  {                                                                              \
    const __m512i v = _mm512_loadu_si512((const void*)(wb + 64 * (r)));          \
    a##r##0 = _mm512_dpbusd_epi32(a##r##0, _mm512_and_si512(v, k0), x0);         \
    a##r##1 = _mm512_dpbusd_epi32(a##r##1, _mm512_and_si512(v, k1), x1);         \
    a##r##2 = _mm512_dpbusd_epi32(a##r##2, _mm512_and_si512(v, k2), x2);         \
    a##r##3 = _mm512_dpbusd_epi32(a##r##3, _mm512_and_si512(v, k3), x3);         \
  }
#define B512(qb)                                                                 \
  {                                                                              \
    const __m512i x0 = _mm512_loadu_si512((const void*)(qb));                   \
    const __m512i x1 = _mm512_loadu_si512((const void*)((qb) + 64));            \
    const __m512i x2 = _mm512_loadu_si512((const void*)((qb) + 128));           \
    const __m512i x3 = _mm512_loadu_si512((const void*)((qb) + 192));           \
    R512(0) R512(1) R512(2) R512(3)                                              \
  }
/* Row r's lanes at scale 1: acc_j >> 2j is exact (every lane of acc_j is a multiple of 4^j). */
#define ROW512(r)                                                          \
  _mm512_add_epi32(_mm512_add_epi32(a##r##0, _mm512_srai_epi32(a##r##1, 2)), \
                   _mm512_add_epi32(_mm512_srai_epi32(a##r##2, 4), _mm512_srai_epi32(a##r##3, 6)))

/* The lane sums of four rows -> d[0..3]: a transpose-add tree, then the 128-bit quarters. */
MAD_AVX512 static inline void mad_reduce4_zmm(__m512i r0, __m512i r1, __m512i r2, __m512i r3, int32_t* d) {
  const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(r0, r1), _mm512_unpackhi_epi32(r0, r1));
  const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(r2, r3), _mm512_unpackhi_epi32(r2, r3));
  const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
  _mm_storeu_si128((__m128i*)d, _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

MAD_AVX512 static void mad_gemv_avx512vnni(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0,
                                           int64_t g1, int32_t* dots) {
  const int64_t KB = (K + 255) / 256, full = K / 256;
  int8_t tail[256] __attribute__((aligned(64)));
  mad_tail_block(tail, q, K);
  const __m512i k0 = _mm512_set1_epi8(0x03), k1 = _mm512_set1_epi8(0x0C);
  const __m512i k2 = _mm512_set1_epi8(0x30), k3 = _mm512_set1_epi8((char)0xC0);
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* wb = w + g * KB * 256;
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00;
    __m512i a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    __m512i a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    for (int64_t b = 0; b < full; ++b, wb += 256) B512(q + 256 * b)
    if (full < KB) B512(tail)
    mad_reduce4_zmm(ROW512(0), ROW512(1), ROW512(2), ROW512(3), dots + 4 * (g - g0));
  }
}

/* GEMM: the group's codes (0..2, one byte per weight) unpacked once per chunk of MAD_KC columns
 * into an L1 tile, then every token reads them: 4 tokens x 4 rows = 16 accumulators, one code
 * and one activation load per 4 vpdpbusd. The partial last 64 columns are masked loads (zero
 * past K: the padding codes meet zeros). */
#define MAD_KC 4096

MAD_AVX512 static inline __attribute__((always_inline)) void mad_tile_avx512(
    const uint8_t codes[4][MAD_KC], const int8_t* q, int64_t K, int64_t k0, int64_t klen, int T,
    int32_t* dots) {
  __m512i acc[4][4];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < 4; ++r) acc[t][r] = _mm512_setzero_si512();
  const int64_t full = klen / 64, rem = klen % 64;
  for (int64_t s = 0; s < full; ++s) {
    const __m512i c0 = _mm512_load_si512((const void*)(codes[0] + 64 * s));
    const __m512i c1 = _mm512_load_si512((const void*)(codes[1] + 64 * s));
    const __m512i c2 = _mm512_load_si512((const void*)(codes[2] + 64 * s));
    const __m512i c3 = _mm512_load_si512((const void*)(codes[3] + 64 * s));
    for (int t = 0; t < T; ++t) {
      const __m512i a = _mm512_loadu_si512((const void*)(q + t * K + k0 + 64 * s));
      acc[t][0] = _mm512_dpbusd_epi32(acc[t][0], c0, a);
      acc[t][1] = _mm512_dpbusd_epi32(acc[t][1], c1, a);
      acc[t][2] = _mm512_dpbusd_epi32(acc[t][2], c2, a);
      acc[t][3] = _mm512_dpbusd_epi32(acc[t][3], c3, a);
    }
  }
  if (rem) {
    const __mmask64 mask = ((__mmask64)1 << rem) - 1;
    for (int r = 0; r < 4; ++r) {
      const __m512i c = _mm512_load_si512((const void*)(codes[r] + 64 * full));
      for (int t = 0; t < T; ++t)
        acc[t][r] = _mm512_dpbusd_epi32(acc[t][r], c,
                                        _mm512_maskz_loadu_epi8(mask, q + t * K + k0 + 64 * full));
    }
  }
  for (int t = 0; t < T; ++t) {
    int32_t d[4];
    mad_reduce4_zmm(acc[t][0], acc[t][1], acc[t][2], acc[t][3], d);
    for (int r = 0; r < 4; ++r) dots[4 * t + r] += d[r];
  }
}

MAD_AVX512 static void mad_gemm_avx512vnni(const int8_t* q, int64_t M, int64_t K, const uint8_t* w,
                                           int64_t g, int32_t* dots) {
  const int64_t KB = (K + 255) / 256;
  uint8_t codes[4][MAD_KC] __attribute__((aligned(64)));
  const __m512i k0 = _mm512_set1_epi8(0x03);
  for (int64_t i = 0; i < 4 * M; ++i) dots[i] = 0;
  for (int64_t b0 = 0; b0 < KB; b0 += MAD_KC / 256) {
    const int64_t nb = KB - b0 < MAD_KC / 256 ? KB - b0 : MAD_KC / 256;
    const int64_t k0c = b0 * 256, klen = K - k0c < nb * 256 ? K - k0c : nb * 256;
    const uint8_t* wb = w + (g * KB + b0) * 256;
    for (int64_t b = 0; b < nb; ++b)
      for (int r = 0; r < 4; ++r) {
        const __m512i v = _mm512_loadu_si512((const void*)(wb + 256 * b + 64 * r));
        uint8_t* dst = codes[r] + 256 * b;
        _mm512_store_si512((void*)dst, _mm512_and_si512(v, k0));
        _mm512_store_si512((void*)(dst + 64), _mm512_and_si512(_mm512_srli_epi16(v, 2), k0));
        _mm512_store_si512((void*)(dst + 128), _mm512_and_si512(_mm512_srli_epi16(v, 4), k0));
        _mm512_store_si512((void*)(dst + 192), _mm512_and_si512(_mm512_srli_epi16(v, 6), k0));
      }
    int64_t m = 0;
    for (; m + 4 <= M; m += 4) mad_tile_avx512(codes, q + m * K, K, k0c, klen, 4, dots + 4 * m);
    for (; m < M; ++m) mad_tile_avx512(codes, q + m * K, K, k0c, klen, 1, dots + 4 * m);
  }
}

static const mad_isa mad_avx512vnni = {mad_gemv_avx512vnni, mad_gemm_avx512vnni};

int64_t bitnetk_bitlinear_mad_avx512vnni(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_avx512vnni);
}

/* ---- AVX-VNNI (ymm) and AVX2: two accumulators per row, scale 1 and scale 16 ---- */

#define RVNNI(r, h)                                                                       \
  {                                                                                       \
    const __m256i v = _mm256_loadu_si256((const __m256i*)(wb + 64 * (r) + 32 * (h)));     \
    const __m256i u = _mm256_srli_epi16(v, 2);                                            \
    lo##r = DPBUSD256(lo##r, _mm256_and_si256(v, m03), x0##h);                            \
    lo##r = DPBUSD256(lo##r, _mm256_and_si256(u, m03), x1##h);                            \
    hi##r = DPBUSD256(hi##r, _mm256_and_si256(v, m30), x2##h);                            \
    hi##r = DPBUSD256(hi##r, _mm256_and_si256(u, m30), x3##h);                            \
  }
#define LOADX(qb)                                                                          \
  const __m256i x00 = _mm256_loadu_si256((const __m256i*)(qb));                            \
  const __m256i x01 = _mm256_loadu_si256((const __m256i*)((qb) + 32));                     \
  const __m256i x10 = _mm256_loadu_si256((const __m256i*)((qb) + 64));                     \
  const __m256i x11 = _mm256_loadu_si256((const __m256i*)((qb) + 96));                     \
  const __m256i x20 = _mm256_loadu_si256((const __m256i*)((qb) + 128));                    \
  const __m256i x21 = _mm256_loadu_si256((const __m256i*)((qb) + 160));                    \
  const __m256i x30 = _mm256_loadu_si256((const __m256i*)((qb) + 192));                    \
  const __m256i x31 = _mm256_loadu_si256((const __m256i*)((qb) + 224));
#define BVNNI(qb)                                                                          \
  {                                                                                        \
    LOADX(qb)                                                                              \
    RVNNI(0, 0) RVNNI(0, 1) RVNNI(1, 0) RVNNI(1, 1) RVNNI(2, 0) RVNNI(2, 1) RVNNI(3, 0)     \
    RVNNI(3, 1)                                                                            \
  }

/* The 8 lane sums of lo + (hi >> 4) of four rows -> 4 int32 (exact: hi lanes are multiples of 16). */
MAD_AVX2 static inline void mad_reduce4_ymm(__m256i l0, __m256i h0, __m256i l1, __m256i h1,
                                            __m256i l2, __m256i h2, __m256i l3, __m256i h3,
                                            int32_t* d) {
  const __m256i r0 = _mm256_add_epi32(l0, _mm256_srai_epi32(h0, 4));
  const __m256i r1 = _mm256_add_epi32(l1, _mm256_srai_epi32(h1, 4));
  const __m256i r2 = _mm256_add_epi32(l2, _mm256_srai_epi32(h2, 4));
  const __m256i r3 = _mm256_add_epi32(l3, _mm256_srai_epi32(h3, 4));
  const __m256i s01 = _mm256_hadd_epi32(r0, r1), s23 = _mm256_hadd_epi32(r2, r3);
  const __m256i s = _mm256_hadd_epi32(s01, s23); /* lanes: r0 r1 r2 r3 per 128-bit half */
  const __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  _mm_storeu_si128((__m128i*)d, t);
}

/* One body, two encodings of vpdpbusd ymm: VEX (AVX-VNNI) and EVEX (AVX-512 VNNI + VL). */
#define MAD_GEMV_VNNI256(NAME)                                                                   \
  static void NAME(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0, int64_t g1,         \
                   int32_t* dots) {                                                              \
    const int64_t KB = (K + 255) / 256, full = K / 256;                                          \
    int8_t tail[256] __attribute__((aligned(32)));                                               \
    mad_tail_block(tail, q, K);                                                                  \
    const __m256i m03 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);                    \
    for (int64_t g = g0; g < g1; ++g) {                                                          \
      const uint8_t* wb = w + g * KB * 256;                                                      \
      __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0;                     \
      __m256i hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;                                        \
      for (int64_t b = 0; b < full; ++b, wb += 256) BVNNI(q + 256 * b)                           \
      if (full < KB) BVNNI(tail)                                                                 \
      mad_reduce4_ymm(lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, dots + 4 * (g - g0));              \
    }                                                                                            \
  }

#define DPBUSD256 _mm256_dpbusd_avx_epi32
MAD_AVXVNNI MAD_GEMV_VNNI256(mad_gemv_avxvnni)
#undef DPBUSD256
#define DPBUSD256 _mm256_dpbusd_epi32
MAD_AVX512VL MAD_GEMV_VNNI256(mad_gemv_vnni256)
#undef DPBUSD256

static const mad_isa mad_avxvnni = {mad_gemv_avxvnni, NULL};
static const mad_isa mad_vnni256 = {mad_gemv_vnni256, NULL};

int64_t bitnetk_bitlinear_mad_avxvnni(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_avxvnni);
}

/* The AVX-VNNI code in its EVEX form: what AVX-512 VNNI CPUs without AVX-VNNI (Zen 4, Ice Lake)
 * run at ymm width; it also tests the AVX-VNNI body on such hosts. */
int64_t bitnetk_bitlinear_mad_avx512vnni_ymm(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_vnni256);
}

/* AVX2: vpmaddubsw pairs (u8 code x s8 q) summed as int16: per row and half, the scale-1 pair
 * sums are within [-1024, 1016] (two masks x 2 products of code <= 2) and the scale-16 ones
 * within [-16384, 16256]; both halves added stay in int16 ([-32768, 32512]), then vpmaddwd by 1
 * widens to int32. */
#define RAVX2(r)                                                                               \
  {                                                                                            \
    const __m256i v0 = _mm256_loadu_si256((const __m256i*)(wb + 64 * (r)));                    \
    const __m256i v1 = _mm256_loadu_si256((const __m256i*)(wb + 64 * (r) + 32));               \
    const __m256i u0 = _mm256_srli_epi16(v0, 2), u1 = _mm256_srli_epi16(v1, 2);                \
    __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v0, m03), x00),         \
                                 _mm256_maddubs_epi16(_mm256_and_si256(u0, m03), x10));        \
    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(_mm256_and_si256(v1, m03), x01));             \
    p = _mm256_add_epi16(p, _mm256_maddubs_epi16(_mm256_and_si256(u1, m03), x11));             \
    __m256i h = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v0, m30), x20),         \
                                 _mm256_maddubs_epi16(_mm256_and_si256(u0, m30), x30));        \
    h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(v1, m30), x21));             \
    h = _mm256_add_epi16(h, _mm256_maddubs_epi16(_mm256_and_si256(u1, m30), x31));             \
    lo##r = _mm256_add_epi32(lo##r, _mm256_madd_epi16(p, ones));                               \
    hi##r = _mm256_add_epi32(hi##r, _mm256_madd_epi16(h, ones));                               \
  }
#define BAVX2(qb)                 \
  {                               \
    LOADX(qb)                     \
    RAVX2(0) RAVX2(1) RAVX2(2) RAVX2(3) \
  }

MAD_AVX2 static void mad_gemv_avx2(const int8_t* q, int64_t K, const uint8_t* w, int64_t g0,
                                   int64_t g1, int32_t* dots) {
  const int64_t KB = (K + 255) / 256, full = K / 256;
  int8_t tail[256] __attribute__((aligned(32)));
  mad_tail_block(tail, q, K);
  const __m256i m03 = _mm256_set1_epi8(0x03), m30 = _mm256_set1_epi8(0x30);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* wb = w + g * KB * 256;
    __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0;
    __m256i hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    for (int64_t b = 0; b < full; ++b, wb += 256) BAVX2(q + 256 * b)
    if (full < KB) BAVX2(tail)
    mad_reduce4_ymm(lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, dots + 4 * (g - g0));
  }
}

static const mad_isa mad_avx2 = {mad_gemv_avx2, NULL};

int64_t bitnetk_bitlinear_mad_avx2(const bitnet_call* call, const bitnet_kernel_args* args) {
  return bitnetk__mad_run(call, args, &mad_avx2);
}

#endif /* __x86_64__ */
