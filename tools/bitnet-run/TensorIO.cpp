// typeName/typeSize, ONNX TensorProto files and the dispatch by extension (readNpy is in Npy.cpp).
#include "tools/bitnet-run/TensorIO.h"

#include <cstring>
#include <fstream>

#include <onnx/onnx_pb.h>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"

namespace bitnetc::run {

std::string typeName(DType t) {
  static const char* const kNames[] = {"f32", "bf16", "f16", "i8",  "i32", "i64", "u8",
                                       "ternary", "bool", "f64", "i16", "u16", "u32", "u64"};
  const int code = int(t);
  if (code < 0 || code >= int(std::size(kNames))) fail("unknown element type code ", code);
  return kNames[code];
}

size_t typeSize(DType t) {
  const int64_t size = bitnet_dtype_size(int64_t(t));
  if (size <= 0) fail("element type ", typeName(t), " has no per-element size");
  return size_t(size);
}

namespace {

// ONNX TensorProto::DataType <-> ABI element codes.
struct TypePair {
  int onnx;
  int code;
};
constexpr TypePair kOnnxTypes[] = {
    {onnx::TensorProto::FLOAT, BITNET_F32},    {onnx::TensorProto::UINT8, BITNET_U8},
    {onnx::TensorProto::INT8, BITNET_I8},      {onnx::TensorProto::UINT16, BITNET_U16},
    {onnx::TensorProto::INT16, BITNET_I16},    {onnx::TensorProto::INT32, BITNET_I32},
    {onnx::TensorProto::INT64, BITNET_I64},    {onnx::TensorProto::BOOL, BITNET_BOOL},
    {onnx::TensorProto::FLOAT16, BITNET_F16},  {onnx::TensorProto::DOUBLE, BITNET_F64},
    {onnx::TensorProto::UINT32, BITNET_U32},   {onnx::TensorProto::UINT64, BITNET_U64},
    {onnx::TensorProto::BFLOAT16, BITNET_BF16}};

template <typename T>
void put(std::vector<uint8_t>& out, size_t i, T v) {
  std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
}

}  // namespace

NamedTensor readTensorProto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  onnx::TensorProto p;
  if (!p.ParseFromIstream(&in)) fail(path, ": not a serialized onnx.TensorProto");
  int code = -1;
  for (const auto& [o, c] : kOnnxTypes)
    if (o == p.data_type()) code = c;
  if (code < 0) fail(path, ": tensor '", p.name(), "' has ONNX data type ", p.data_type(), ", which bitnet-run does not read");
  if (p.data_location() == onnx::TensorProto::EXTERNAL) fail(path, ": external data is not supported in a test-data tensor");
  NamedTensor nt;
  nt.name = p.name();
  HostTensor& t = nt.tensor;
  t.dtype = DType(code);
  for (int64_t d : p.dims()) {
    if (d < 0) fail(path, ": negative dim ", d);
    t.shape.push_back(d);
  }
  const size_t n = size_t(t.numElements()), size = typeSize(t.dtype);
  t.bytes.assign(n * size, 0);
  auto count = [&](int have) {
    if (size_t(have) != n) fail(path, ": tensor '", p.name(), "' holds ", have, " values, its dims ", shapeString(t.shape), " need ", n);
  };
  if (p.has_raw_data()) {
    if (p.raw_data().size() != n * size)
      fail(path, ": tensor '", p.name(), "' has ", p.raw_data().size(), " raw bytes, its dims ", shapeString(t.shape),
           " of ", typeName(t.dtype), " need ", n * size);
    std::memcpy(t.bytes.data(), p.raw_data().data(), n * size);
    return nt;
  }
  // The typed fields, as onnx.proto defines them per data type.
  switch (code) {
    case BITNET_F32:
      count(p.float_data_size());
      for (size_t i = 0; i < n; ++i) put(t.bytes, i, p.float_data(int(i)));
      break;
    case BITNET_F64:
      count(p.double_data_size());
      for (size_t i = 0; i < n; ++i) put(t.bytes, i, p.double_data(int(i)));
      break;
    case BITNET_I64:
      count(p.int64_data_size());
      for (size_t i = 0; i < n; ++i) put(t.bytes, i, p.int64_data(int(i)));
      break;
    case BITNET_U32: case BITNET_U64:
      count(p.uint64_data_size());
      for (size_t i = 0; i < n; ++i) {
        if (code == BITNET_U32) put(t.bytes, i, uint32_t(p.uint64_data(int(i))));
        else put(t.bytes, i, p.uint64_data(int(i)));
      }
      break;
    default:  // int32_data: i32, i16, i8, u16, u8, bool, f16 and bf16 bits
      count(p.int32_data_size());
      for (size_t i = 0; i < n; ++i) {
        const int32_t v = p.int32_data(int(i));
        switch (size) {
          case 1: put(t.bytes, i, uint8_t(v)); break;
          case 2: put(t.bytes, i, uint16_t(v)); break;
          default: put(t.bytes, i, v); break;
        }
      }
  }
  return nt;
}

void writeTensorProto(const std::string& path, const std::string& name, const HostTensor& t) {
  int onnxType = -1;
  for (const auto& [o, c] : kOnnxTypes)
    if (c == int(t.dtype)) onnxType = o;
  if (onnxType < 0) fail(path, ": cannot write a ", typeName(t.dtype), " tensor as a TensorProto");
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(onnxType);
  for (int64_t d : t.shape) p.add_dims(d);
  p.set_raw_data(t.bytes.data(), t.bytes.size());
  std::ofstream out(path, std::ios::binary);
  if (!out || !p.SerializeToOstream(&out)) fail(path, ": cannot write");
}

NamedTensor readTensorFile(const std::string& path) {
  const auto endsWith = [&](const char* s) {
    const size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  if (endsWith(".npy")) return {"", readNpy(path)};
  if (endsWith(".pb")) return readTensorProto(path);
  fail(path, ": an input file is a .npy (numpy.save) or a .pb (onnx.TensorProto)");
}

}  // namespace bitnetc::run
