#!/usr/bin/env python3
"""Measures the weight-specialized ternary GEMV (issue 5: "add/sub code with the ternary pattern
baked into the instructions") against which the cost model was decided; docs/PERFORMANCE.md
has the results. Not part of the product: it generates, per 16 output rows and input column,
one broadcast of the activation and an AVX-512 masked add (rows whose weight is +1) and masked
sub (-1) with the masks as constants, compiles that with clang, checks it against the exact
integer reference and prints G weights/s and the code bytes per weight.

usage: specialized_gemv.py N K [--cc clang-19]   (N a multiple of 16; needs AVX-512F)
"""
import argparse
import os
import random
import subprocess
import tempfile

MAIN = r'''
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void spec(const int32_t* q, int32_t* y);
extern const int8_t T[];
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char** argv) {
  const int N = atoi(argv[1]), K = atoi(argv[2]);
  int32_t *q = malloc(4 * (size_t)K), *y = malloc(4 * (size_t)N);
  for (int k = 0; k < K; ++k) q[k] = rand() % 256 - 128;
  spec(q, y);
  for (int n = 0; n < N; ++n) {
    int32_t r = 0;
    for (int k = 0; k < K; ++k) r += q[k] * T[(size_t)n * K + k];
    if (r != y[n]) { printf("mismatch at row %d\n", n); return 1; }
  }
  double best = 1e9;
  for (int rep = 0; rep < 7; ++rep) {
    int it = 0;
    const double t0 = now();
    while (now() - t0 < 0.05) { spec(q, y); ++it; }
    const double dt = (now() - t0) / it;
    if (dt < best) best = dt;
  }
  printf("%.1f\n", (double)N * K / best / 1e9);
  return 0;
}
'''


def generate(N, K, seed=1):
    rng = random.Random(seed)
    T = [[rng.randint(-1, 1) for _ in range(K)] for _ in range(N)]
    out = ['#include <immintrin.h>', '#include <stdint.h>']
    for b in range(N // 16):
        out.append('__attribute__((target("avx512f"))) static void block%d(const int32_t* q, int32_t* y) {' % b)
        out.append('  __m512i a = _mm512_setzero_si512(), x;')
        for k in range(K):
            plus = sum(1 << r for r in range(16) if T[16 * b + r][k] == 1)
            minus = sum(1 << r for r in range(16) if T[16 * b + r][k] == -1)
            if not plus and not minus:
                continue
            out.append('  x = _mm512_set1_epi32(q[%d]);' % k)
            if plus:
                out.append('  a = _mm512_mask_add_epi32(a, 0x%x, a, x);' % plus)
            if minus:
                out.append('  a = _mm512_mask_sub_epi32(a, 0x%x, a, x);' % minus)
        out.append('  _mm512_storeu_si512(y + %d, a);' % (16 * b))
        out.append('}')
    out.append('void spec(const int32_t* q, int32_t* y) {')
    out += ['  block%d(q, y);' % b for b in range(N // 16)]
    out.append('}')
    out.append('const int8_t T[%d] = {%s};' % (N * K, ','.join(str(v) for row in T for v in row)))
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('N', type=int)
    ap.add_argument('K', type=int)
    ap.add_argument('--cc', default='clang-19')
    a = ap.parse_args()
    if a.N % 16:
        ap.error('N must be a multiple of 16')
    with tempfile.TemporaryDirectory() as d:
        src, main_c, exe = (os.path.join(d, n) for n in ('spec.c', 'main.c', 'spec'))
        open(src, 'w').write(generate(a.N, a.K))
        open(main_c, 'w').write(MAIN)
        subprocess.run([a.cc, '-O2', '-c', src, '-o', src + '.o'], check=True)
        subprocess.run([a.cc, '-O2', main_c, src + '.o', '-o', exe], check=True)
        text = int(subprocess.run(['size', '-A', src + '.o'], capture_output=True, text=True, check=True)
                   .stdout.split('.text')[1].split()[0])
        gws = subprocess.run([exe, str(a.N), str(a.K)], capture_output=True, text=True, check=True).stdout.strip()
    print('specialized %dx%d: %s G w/s, code %.2f bytes a weight (2-bit codes: 0.25)' %
          (a.N, a.K, gws, text / (a.N * a.K)))


if __name__ == '__main__':
    main()
