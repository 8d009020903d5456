/* Internal to the kernels: an 8 x 8 f32 transpose on generic vectors (the backend lowers the
 * shuffles to the target's: AVX2/AVX-512 vshufps/vpermt2ps, two SSE2/NEON registers a row).
 * Used where sums must run in vector lanes over rows (attention's keys, rms_norm's rows) while
 * each lane keeps the reference's order over elements. */
#ifndef BITNET_TRANSPOSE8_H
#define BITNET_TRANSPOSE8_H

typedef float bk_v8f __attribute__((vector_size(32)));

/* col[e][r] = t[r][e]: three rounds of two-input shuffles (unpack pairs, pairs of pairs,
 * halves). */
static inline void bk_transpose8(const bk_v8f t[8], bk_v8f col[8]) {
  bk_v8f a[8], b[8];
  for (int i = 0; i < 8; i += 2) {
    a[i] = __builtin_shufflevector(t[i], t[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    a[i + 1] = __builtin_shufflevector(t[i], t[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    b[i] = __builtin_shufflevector(a[i], a[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    b[i + 1] = __builtin_shufflevector(a[i], a[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    b[i + 2] = __builtin_shufflevector(a[i + 1], a[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    b[i + 3] = __builtin_shufflevector(a[i + 1], a[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int e = 0; e < 4; ++e) {
    col[e] = __builtin_shufflevector(b[e], b[e + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    col[e + 4] = __builtin_shufflevector(b[e], b[e + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

#endif /* BITNET_TRANSPOSE8_H */
