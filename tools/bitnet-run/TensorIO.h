// Tensors of generic graphs as files: numpy .npy (read and write) and ONNX TensorProto .pb (the
// ONNX test-data format: read and write), for every element type a graph takes or returns.
// Element types are the ABI's codes (runtime/abi/bitnet_abi.h), held in HostTensor::dtype.
#pragma once
#include <cstdint>
#include <string>

#include "compiler/interp/Interpreter.h"

namespace bitnetc::run {

// "f32", ..., "u64" for the codes of bitnet_dtype; throws for a code no tensor file holds.
std::string typeName(DType t);
size_t typeSize(DType t);  // bytes per element

// A .npy file (format 1.0-3.0, C order, little-endian): <f4 <f8 <f2 |i1 <i2 <i4 <i8 |u1 <u2 <u4
// <u8 |b1. Throws naming the file. (In Npy.cpp, beside the writer.)
HostTensor readNpy(const std::string& path);

struct NamedTensor {
  std::string name;  // the TensorProto's name (may be empty)
  HostTensor tensor;
};
// A serialized onnx.TensorProto (raw_data or the typed data fields). Throws naming the file.
NamedTensor readTensorProto(const std::string& path);
// Writes t as a TensorProto with raw_data. bf16 is written as BFLOAT16.
void writeTensorProto(const std::string& path, const std::string& name, const HostTensor& t);

// .npy or .pb by the file's extension.
NamedTensor readTensorFile(const std::string& path);

}  // namespace bitnetc::run
