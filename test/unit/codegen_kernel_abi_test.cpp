// KernelAbi: the kernel symbol per op, attributes encoded in OpDef order into ints and floats
// (defaults for absent optional ones, cast.to as a dtype code), the op description.
#include <gtest/gtest.h>

#include "compiler/ir/Parser.h"
#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/codegen/KernelAbi.h"

namespace bitnetc::target {
namespace {

// "dense<[...]>" with n ternary values.
std::string ternaryDense(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(i % 3 - 1);
  return "dense<[" + s + "]>";
}

// A module with one function @f(%x: tensor<4 x 8 x f32>) -> (outType) whose ops are `body`.
std::unique_ptr<Module> parseBody(const std::string& body, const std::string& outType) {
  return parseModule("bir 1\nweight @t : ternary<8 x 8> layout \"i8\" scale mul 0.5 = " +
                         ternaryDense(64) + "\nfunc @f(%x: tensor<4 x 8 x f32>) -> (" + outType +
                         ") {\n" + body + "\n}\n",
                     "in.bir");
}

const Op& firstOp(const Module& m) { return *m.function("f")->ops().at(0); }

TEST(CodegenKernelAbi, IntsAndFloatsInDefinitionOrder) {
  // Written in another order than OpDefs (heads, kv_heads, head_dim, scale).
  auto m = parseModule(R"(bir 1
func @f(%q: tensor<3 x 8 x f32>, %k: tensor<3 x 4 x f32>, %pos: tensor<i64>) -> (tensor<3 x 8 x f32>)
    state(%kc: tensor<16 x 1 x 4 x f32>, %vc: tensor<16 x 1 x 4 x f32>) {
  %a = attention(%q, %k, %k, %kc, %vc, %pos) {scale = 0.5, head_dim = 4, kv_heads = 1, heads = 2} : tensor<3 x 8 x f32>
  return %a
}
)",
                       "in.bir");
  const KernelAttrs a = encodeKernelAttrs(firstOp(*m));
  EXPECT_EQ(a.ints, (std::vector<int64_t>{2, 1, 4}));
  EXPECT_EQ(a.floats, (std::vector<double>{0.5}));
  EXPECT_EQ(kernelSymbol(firstOp(*m)), "bitnetk_attention");
  EXPECT_EQ(describeForKernel(firstOp(*m)), "%a = attention(%q, %k, %k, %kc, %vc, %pos)");
}

TEST(CodegenKernelAbi, IntegerWrittenFloat) {
  auto m = parseBody("  %y = clip(%x) {min = -1, max = 2.5} : tensor<4 x 8 x f32>\n  return %y",
                     "tensor<4 x 8 x f32>");
  const KernelAttrs a = encodeKernelAttrs(firstOp(*m));
  EXPECT_TRUE(a.ints.empty());
  EXPECT_EQ(a.floats, (std::vector<double>{-1.0, 2.5}));
}

TEST(CodegenKernelAbi, ReduceDefaultsAndLists) {
  auto m = parseBody("  %y = reduce_sum(%x) : tensor<1 x 1 x f32>\n  return %y",
                     "tensor<1 x 1 x f32>");
  // axes absent: count 0; keepdims absent: 1.
  EXPECT_EQ(encodeKernelAttrs(firstOp(*m)).ints, (std::vector<int64_t>{0, 1}));
  m = parseBody("  %y = reduce_max(%x) {keepdims = false, axes = [-1]} : tensor<4 x f32>\n  return %y",
                "tensor<4 x f32>");
  EXPECT_EQ(encodeKernelAttrs(firstOp(*m)).ints, (std::vector<int64_t>{1, -1, 0}));
  m = parseBody("  %y = transpose(%x) {perm = [1, 0]} : tensor<8 x 4 x f32>\n  return %y",
                "tensor<8 x 4 x f32>");
  EXPECT_EQ(encodeKernelAttrs(firstOp(*m)).ints, (std::vector<int64_t>{2, 1, 0}));
}

TEST(CodegenKernelAbi, MatmulTransposeDefault) {
  auto m = parseModule(R"(bir 1
func @f(%a: tensor<2 x 3 x f32>, %b: tensor<3 x 4 x f32>, %c: tensor<4 x 3 x f32>) -> (tensor<2 x 4 x f32>, tensor<2 x 4 x f32>) {
  %x = matmul(%a, %b) : tensor<2 x 4 x f32>
  %y = matmul(%a, %c) {transpose_b = true} : tensor<2 x 4 x f32>
  %z = matmul(%a, %c) {transpose_b = true, f32_sum = true} : tensor<2 x 4 x f32>
  return %x, %y
}
)",
                       "in.bir");
  const auto& ops = m->function("f")->ops();
  // [transpose_b, last_row, f32_sum], all defaulting to false.
  EXPECT_EQ(encodeKernelAttrs(*ops[0]).ints, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(encodeKernelAttrs(*ops[1]).ints, (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(encodeKernelAttrs(*ops[2]).ints, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_TRUE(encodeKernelAttrs(*ops[1]).floats.empty());
}

TEST(CodegenKernelAbi, CastToIsADTypeCode) {
  auto m = parseBody("  %y = cast(%x) {to = \"i8\"} : tensor<4 x 8 x i8>\n  return %y",
                     "tensor<4 x 8 x i8>");
  EXPECT_EQ(encodeKernelAttrs(firstOp(*m)).ints, (std::vector<int64_t>{BITNET_I8}));
  m = parseBody("  %y = cast(%x) {to = \"bf16\"} : tensor<4 x 8 x bf16>\n  return %y",
                "tensor<4 x 8 x bf16>");
  EXPECT_EQ(encodeKernelAttrs(firstOp(*m)).ints, (std::vector<int64_t>{BITNET_BF16}));
}

TEST(CodegenKernelAbi, BitlinearKernelAttrPicksTheSymbolAndIsNotPassed) {
  auto m = parseBody(R"(  %q, %s = act_quant(%x) : tensor<4 x 8 x i8>, tensor<4 x f32>
  %y = bitlinear(%q, %s, @t) {kernel = "hf2"} : tensor<4 x 8 x f32>
  %z = bitlinear(%q, %s, @t) : tensor<4 x 8 x f32>
  return %y)",
                     "tensor<4 x 8 x f32>");
  const auto& ops = m->function("f")->ops();
  EXPECT_EQ(kernelSymbol(*ops[0]), "bitnetk_act_quant");
  EXPECT_EQ(kernelSymbol(*ops[1]), "bitnetk_bitlinear_hf2");
  EXPECT_EQ(kernelSymbol(*ops[2]), "bitnetk_bitlinear");
  EXPECT_TRUE(encodeKernelAttrs(*ops[1]).ints.empty());
  EXPECT_TRUE(encodeKernelAttrs(*ops[1]).floats.empty());
  EXPECT_EQ(describeForKernel(*ops[0]), "%q, %s = act_quant(%x)");
  EXPECT_EQ(describeForKernel(*ops[1]), "%y = bitlinear(%q, %s, @t)");
}

TEST(CodegenKernelAbi, KernelNameMustBeAnIdentifier) {
  auto m = parseBody(R"(  %q, %s = act_quant(%x) : tensor<4 x 8 x i8>, tensor<4 x f32>
  %y = bitlinear(%q, %s, @t) {kernel = "a-b"} : tensor<4 x 8 x f32>
  return %y)",
                     "tensor<4 x 8 x f32>");
  try {
    kernelSymbol(*m->function("f")->ops()[1]);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel name 'a-b'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnetc::target
