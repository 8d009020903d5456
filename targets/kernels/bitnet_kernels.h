/* The op kernels: one `bitnetk_<opcode>` per opcode of compiler/ir/OpDefs.cpp, with the
 * signature of bitnet_kernel_fn (runtime/abi/bitnet_abi.h), plus the bitlinear variants that
 * select-kernels names in the `kernel` attribute (bitnetk_bitlinear_<kernel>).
 * Semantics: docs/IR.md, bit-exact with the reference interpreter (compiler/interp/): the same
 * f32 operations and libm calls, integer sums in any order, float sums in f64 in the
 * interpreter's order (docs/TESTING.md). Compiled to bitcode per target triple and natively
 * (tests). */
#ifndef BITNET_KERNELS_H
#define BITNET_KERNELS_H

#include "runtime/abi/bitnet_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(opcode) for every opcode; codegen and tests can walk the list. */
#define BITNET_KERNEL_OPCODES(X)                                                              \
  X(embedding) X(rms_norm) X(act_quant) X(rms_norm_quant) X(bitlinear) X(rope) X(attention)     \
  X(relu2) X(silu)                                                                            \
  X(clip) X(cast) X(softmax) X(matmul) X(transpose) X(reshape) X(concat) X(gather) X(add)     \
  X(sub) X(mul) X(max) X(min) X(div) X(pow) X(neg) X(abs) X(relu) X(sqrt) X(exp) X(sigmoid)   \
  X(reciprocal) X(round) X(reduce_max) X(reduce_mean) X(reduce_sum) X(equal) X(less)          \
  X(greater) X(where) X(expand) X(range) X(slice) X(trilu) X(layer_norm) X(shape)             \
  X(matmul_integer) X(matmul_nbits)

/* The bitlinear variants (select-kernels' table in targets/passes/KernelTable.cpp) that the
 * kernels built for this architecture define: portable ones everywhere, ISA ones per arch. */
#if defined(__x86_64__)
#define BITNET_BITLINEAR_KERNELS(X) X(hf2) X(i8) X(mad) X(mad_avx2) X(mad_avxvnni) X(mad_avx512vnni) \
  X(mad_avx512vnni_ymm) X(lut) X(lut_avx512bw)
#elif defined(__aarch64__)
#define BITNET_BITLINEAR_KERNELS(X) X(hf2) X(i8) X(mad) X(mad_neondot) X(lut)
#else
#define BITNET_BITLINEAR_KERNELS(X) X(hf2) X(i8) X(mad) X(lut)
#endif

/* Test-only deliberate bugs, to prove that the e2e tests of compiled code are sharp
 * (bitnetc --inject-fault=NAME, docs/CLI.md): the numbering of the interpreter's enum Fault
 * (compiler/interp/Interpreter.h; the driver checks that they agree), the same semantics.
 * Generated code defines bitnet__fault as a constant (BITNET_FAULT_NONE in every normal build),
 * so O3 folds the kernels' checks away; the native kernel library defines it as 0. */
enum {
  BITNET_FAULT_NONE = 0,
  BITNET_FAULT_SKIP_ACT_QUANT = 1,       /* act_quant: s = 1, q = clip(round(x)) */
  BITNET_FAULT_PER_TENSOR_ACT_QUANT = 2, /* act_quant: one absmax over the whole tensor */
  BITNET_FAULT_INTERLEAVED_PACKING = 3,  /* hf2: logical row 4r + i from packed row r, code i */
  BITNET_FAULT_DIVIDE_SCALE = 4,         /* bitlinear: the mul scale rule applied as div */
  BITNET_FAULT_GQA_MODULO = 5,           /* attention: query head h reads kv head h % kv_heads */
  BITNET_FAULT_INTERLEAVED_ROPE = 6,     /* rope: pairs (2i, 2i + 1) instead of (i, i + D/2) */
  BITNET_FAULT_CACHE_AT_ZERO = 7         /* attention: new k/v at cache rows t, not pos + t */
};
extern const int64_t bitnet__fault;

#define BITNET_DECLARE_KERNEL(op) \
  int64_t bitnetk_##op(const bitnet_call* call, const bitnet_kernel_args* args);
BITNET_KERNEL_OPCODES(BITNET_DECLARE_KERNEL)
#undef BITNET_DECLARE_KERNEL

#define BITNET_DECLARE_BITLINEAR(name) \
  int64_t bitnetk_bitlinear_##name(const bitnet_call* call, const bitnet_kernel_args* args);
BITNET_BITLINEAR_KERNELS(BITNET_DECLARE_BITLINEAR)
#undef BITNET_DECLARE_BITLINEAR

#ifdef __cplusplus
}
#endif

#endif /* BITNET_KERNELS_H */
