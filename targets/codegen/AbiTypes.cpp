#include "targets/codegen/AbiTypes.h"

#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/LLVMContext.h>

namespace bitnetc::target::abi {
namespace {

// The struct named `name` in the context, or a new one with `fields`. A struct of that name with
// another body (a stale definition) would silently mislay fields: refuse it.
llvm::StructType* named(llvm::LLVMContext& context, const char* name,
                        llvm::ArrayRef<llvm::Type*> fields) {
  if (llvm::StructType* t = llvm::StructType::getTypeByName(context, name)) {
    if (t->isOpaque()) t->setBody(fields);
    if (t->elements() == fields) return t;
  }
  return llvm::StructType::create(context, fields, name);
}

llvm::Type* i64(llvm::LLVMContext& c) { return llvm::Type::getInt64Ty(c); }
llvm::Type* ptr(llvm::LLVMContext& c) { return llvm::PointerType::getUnqual(c); }
llvm::Type* dims(llvm::LLVMContext& c) { return llvm::ArrayType::get(i64(c), kMaxRank); }

}  // namespace

llvm::StructType* callType(llvm::LLVMContext& c) {
  llvm::Type* p = ptr(c);
  // dims, inputs, outputs, states, state_rows, scratch, weights, pool, error, error_size
  return named(c, "struct.bitnet_call", {p, p, p, p, i64(c), p, p, p, p, i64(c)});
}

llvm::StructType* tensorType(llvm::LLVMContext& c) {
  // data, dtype, rank, dims[8], layout, scale_rule, scale
  return named(c, "struct.bitnet_tensor",
               {ptr(c), i64(c), i64(c), dims(c), i64(c), i64(c), llvm::Type::getDoubleTy(c)});
}

llvm::StructType* kernelArgsType(llvm::LLVMContext& c) {
  llvm::Type* p = ptr(c);
  // op, num_operands, operands, num_results, results, num_ints, ints, num_floats, floats
  return named(c, "struct.bitnet_kernel_args", {p, i64(c), p, i64(c), p, i64(c), p, i64(c), p});
}

llvm::StructType* tensorDescType(llvm::LLVMContext& c) {
  // name, dtype, rank, dims[8]
  return named(c, "struct.bitnet_tensor_desc", {ptr(c), i64(c), i64(c), dims(c)});
}

llvm::StructType* functionDescType(llvm::LLVMContext& c) {
  llvm::Type* p = ptr(c);
  // name, entry, num_inputs, inputs, num_outputs, outputs, num_states, states, scratch_bytes
  return named(c, "struct.bitnet_function_desc", {p, p, i64(c), p, i64(c), p, i64(c), p, i64(c)});
}

llvm::StructType* modelDescType(llvm::LLVMContext& c) {
  llvm::Type* p = ptr(c);
  llvm::Type* n = i64(c);
  std::vector<llvm::Type*> fields(model_desc::NumFields, n);
  for (unsigned f : {model_desc::Name, model_desc::Target, model_desc::MetadataJson,
                     model_desc::DimNames, model_desc::DimMax, model_desc::Functions,
                     model_desc::WeightsEmbedded, model_desc::WeightsFileName,
                     model_desc::Architecture, model_desc::EosIds, model_desc::TokenizerJson})
    fields[f] = p;
  return named(c, "struct.bitnet_model_desc", fields);
}

}  // namespace bitnetc::target::abi
