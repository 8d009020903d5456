// LLVM struct types mirroring the C structs of runtime/abi/bitnet_abi.h field by field (every
// field is 8 bytes, so the layouts agree without padding rules), and the field indices codegen
// uses. The names match what clang gives the C structs (`struct.bitnet_call`), so the types
// read the same in the linked module; the IRMover maps them by structure either way.
#pragma once

namespace llvm {
class LLVMContext;
class StructType;
}  // namespace llvm

namespace bitnetc::target::abi {

inline constexpr unsigned kMaxRank = 8;  // BITNET_MAX_RANK
inline constexpr long kAbiVersion = 1;   // BITNET_ABI_VERSION

// Field indices, in declaration order of the C structs.
namespace call {
enum : unsigned { Dims, Inputs, Outputs, States, StateRows, Scratch, Weights, Pool, Error, ErrorSize,
                  NumFields };
}
namespace tensor {
enum : unsigned { Data, DType, Rank, Dims, Layout, ScaleRule, Scale, NumFields };
}
namespace kernel_args {
enum : unsigned { Op, NumOperands, Operands, NumResults, Results, NumInts, Ints, NumFloats, Floats,
                  NumFields };
}
namespace tensor_desc {
enum : unsigned { Name, DType, Rank, Dims, NumFields };
}
namespace function_desc {
enum : unsigned { Name, Entry, NumInputs, Inputs, NumOutputs, Outputs, NumStates, States,
                  ScratchBytes, NumFields };
}
namespace model_desc {
enum : unsigned {
  AbiVersion, Name, Target, MetadataJson, NumDims, DimNames, DimMax, NumFunctions, Functions,
  WeightBytes, WeightHash, WeightsEmbedded, WeightsFileName, IsLm, Architecture, VocabSize,
  MaxContext, MaxBatch, BosTokenId, EosTokenId, NumEosIds, EosIds, TokenizerJson,
  TokenizerJsonBytes, DecodeWeightBytes, NumFields
};
}

// The named struct types of `context` (created on first use, then shared).
llvm::StructType* callType(llvm::LLVMContext& context);
llvm::StructType* tensorType(llvm::LLVMContext& context);
llvm::StructType* kernelArgsType(llvm::LLVMContext& context);
llvm::StructType* tensorDescType(llvm::LLVMContext& context);
llvm::StructType* functionDescType(llvm::LLVMContext& context);
llvm::StructType* modelDescType(llvm::LLVMContext& context);

}  // namespace bitnetc::target::abi
