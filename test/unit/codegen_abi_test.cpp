// The LLVM struct types codegen builds (targets/codegen/AbiTypes.h) against the C structs of
// runtime/abi/bitnet_abi.h: same size and the same offset for every field, in the x86_64 and
// aarch64 data layouts; and the enum codes codegen passes to kernels.
#include <gtest/gtest.h>

#include <cstddef>

#include <llvm/IR/DataLayout.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/LLVMContext.h>

#include "compiler/ir/Weights.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/codegen/AbiTypes.h"
#include "targets/codegen/KernelAbi.h"

namespace bitnetc::target {
namespace {

// x86_64-linux-gnu and aarch64-linux-gnu data layouts (as clang-19 sets them).
const char* const kLayouts[] = {
    "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128",
    "e-m:e-i8:8:32-i16:16:32-i64:64-i128:128-n32:64-S128-Fn32"};

void expectLayout(llvm::StructType* t, size_t size, std::initializer_list<size_t> offsets) {
  for (const char* layout : kLayouts) {
    llvm::DataLayout dl(layout);
    const llvm::StructLayout* sl = dl.getStructLayout(t);
    EXPECT_EQ(sl->getSizeInBytes(), size) << t->getName().str() << " in " << layout;
    ASSERT_EQ(t->getNumElements(), offsets.size()) << t->getName().str();
    unsigned i = 0;
    for (size_t off : offsets) {
      EXPECT_EQ(sl->getElementOffset(i), off) << t->getName().str() << " field " << i;
      ++i;
    }
  }
}

TEST(CodegenAbi, StructsMatchTheCHeader) {
  llvm::LLVMContext c;
  expectLayout(abi::callType(c), sizeof(bitnet_call),
               {offsetof(bitnet_call, dims), offsetof(bitnet_call, inputs),
                offsetof(bitnet_call, outputs), offsetof(bitnet_call, states),
                offsetof(bitnet_call, state_rows), offsetof(bitnet_call, scratch),
                offsetof(bitnet_call, weights), offsetof(bitnet_call, pool),
                offsetof(bitnet_call, error), offsetof(bitnet_call, error_size)});
  expectLayout(abi::tensorType(c), sizeof(bitnet_tensor),
               {offsetof(bitnet_tensor, data), offsetof(bitnet_tensor, dtype),
                offsetof(bitnet_tensor, rank), offsetof(bitnet_tensor, dims),
                offsetof(bitnet_tensor, layout), offsetof(bitnet_tensor, scale_rule),
                offsetof(bitnet_tensor, scale)});
  expectLayout(abi::kernelArgsType(c), sizeof(bitnet_kernel_args),
               {offsetof(bitnet_kernel_args, op), offsetof(bitnet_kernel_args, num_operands),
                offsetof(bitnet_kernel_args, operands), offsetof(bitnet_kernel_args, num_results),
                offsetof(bitnet_kernel_args, results), offsetof(bitnet_kernel_args, num_ints),
                offsetof(bitnet_kernel_args, ints), offsetof(bitnet_kernel_args, num_floats),
                offsetof(bitnet_kernel_args, floats)});
  expectLayout(abi::tensorDescType(c), sizeof(bitnet_tensor_desc),
               {offsetof(bitnet_tensor_desc, name), offsetof(bitnet_tensor_desc, dtype),
                offsetof(bitnet_tensor_desc, rank), offsetof(bitnet_tensor_desc, dims)});
  expectLayout(abi::functionDescType(c), sizeof(bitnet_function_desc),
               {offsetof(bitnet_function_desc, name), offsetof(bitnet_function_desc, entry),
                offsetof(bitnet_function_desc, num_inputs), offsetof(bitnet_function_desc, inputs),
                offsetof(bitnet_function_desc, num_outputs),
                offsetof(bitnet_function_desc, outputs), offsetof(bitnet_function_desc, num_states),
                offsetof(bitnet_function_desc, states),
                offsetof(bitnet_function_desc, scratch_bytes)});
  using M = bitnet_model_desc;
  expectLayout(abi::modelDescType(c), sizeof(M),
               {offsetof(M, abi_version), offsetof(M, name), offsetof(M, target),
                offsetof(M, metadata_json), offsetof(M, num_dims), offsetof(M, dim_names),
                offsetof(M, dim_max), offsetof(M, num_functions), offsetof(M, functions),
                offsetof(M, weight_bytes), offsetof(M, weight_hash), offsetof(M, weights_embedded),
                offsetof(M, weights_file_name), offsetof(M, is_lm), offsetof(M, architecture),
                offsetof(M, vocab_size), offsetof(M, max_context), offsetof(M, max_batch),
                offsetof(M, bos_token_id), offsetof(M, eos_token_id), offsetof(M, num_eos_ids),
                offsetof(M, eos_ids), offsetof(M, tokenizer_json),
                offsetof(M, tokenizer_json_bytes), offsetof(M, decode_weight_bytes)});
}

TEST(CodegenAbi, PointerFieldsArePointers) {
  llvm::LLVMContext c;
  llvm::StructType* m = abi::modelDescType(c);
  EXPECT_TRUE(m->getElementType(abi::model_desc::WeightsEmbedded)->isPointerTy());
  EXPECT_TRUE(m->getElementType(abi::model_desc::TokenizerJson)->isPointerTy());
  EXPECT_TRUE(m->getElementType(abi::model_desc::TokenizerJsonBytes)->isIntegerTy(64));
  EXPECT_TRUE(m->getElementType(abi::model_desc::DecodeWeightBytes)->isIntegerTy(64));
  EXPECT_TRUE(abi::tensorType(c)->getElementType(abi::tensor::Scale)->isDoubleTy());
  // Asking twice gives the same type (one per context).
  EXPECT_EQ(abi::callType(c), abi::callType(c));
}

TEST(CodegenAbi, Constants) {
  EXPECT_EQ(abi::kMaxRank, unsigned(BITNET_MAX_RANK));
  EXPECT_EQ(abi::kAbiVersion, BITNET_ABI_VERSION);
}

TEST(CodegenAbi, EnumCodes) {
  EXPECT_EQ(abiDType(DType::F32), BITNET_F32);
  EXPECT_EQ(abiDType(DType::BF16), BITNET_BF16);
  EXPECT_EQ(abiDType(DType::F16), BITNET_F16);
  EXPECT_EQ(abiDType(DType::I8), BITNET_I8);
  EXPECT_EQ(abiDType(DType::I32), BITNET_I32);
  EXPECT_EQ(abiDType(DType::I64), BITNET_I64);
  EXPECT_EQ(abiDType(DType::U8), BITNET_U8);
  EXPECT_EQ(abiDType(DType::Ternary), BITNET_TERNARY);
  EXPECT_EQ(abiScaleRule(ScaleRule::None), BITNET_SCALE_NONE);
  EXPECT_EQ(abiScaleRule(ScaleRule::Mul), BITNET_SCALE_MUL);
  EXPECT_EQ(abiScaleRule(ScaleRule::Div), BITNET_SCALE_DIV);
  const std::vector<int8_t> t = {1, 0, -1, 0, 1, 1, -1, -1};
  EXPECT_EQ(abiLayout(makeTernaryWeight("a", 2, 4, t, kLayoutHFBlocked, ScaleRule::Mul, 1)),
            BITNET_LAYOUT_HF_BLOCKED_2BIT);
  EXPECT_EQ(abiLayout(makeTernaryWeight("b", 2, 4, t, kLayoutI8, ScaleRule::Mul, 1)),
            BITNET_LAYOUT_I8);
  EXPECT_EQ(abiLayout(makeOwnedWeight("c", TensorType::of(DType::U8, {2}), {1, 2})),
            BITNET_LAYOUT_NONE);
}

}  // namespace
}  // namespace bitnetc::target
