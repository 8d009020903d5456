// HostTensor (the public dense tensor) and TensorView (the kernels' read-only operand view).
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "compiler/interp/Kernels.h"

namespace bitnetc {

HostTensor HostTensor::zeros(DType t, std::vector<int64_t> shape) {
  if (t == DType::Ternary) fail("a host tensor cannot have the ternary dtype");
  HostTensor h;
  h.dtype = t;
  h.shape = std::move(shape);
  // Overflow-checked: a shape from a corrupt config (e.g. a huge max_position_embeddings for the
  // KV cache) must give an error, not a wrapped size and writes past the buffer.
  uint64_t bytes = dtypeSize(t);
  for (int64_t d : h.shape) {
    if (d < 0) fail("a host tensor cannot have a negative dimension");
    if (__builtin_mul_overflow(bytes, uint64_t(d), &bytes) || bytes > uint64_t(PTRDIFF_MAX))
      fail("a host tensor of shape ", shapeString(h.shape), " is too large to allocate");
  }
  try {
    h.bytes.assign(size_t(bytes), 0);
  } catch (const std::bad_alloc&) {
    fail("cannot allocate ", bytes, " bytes for a host tensor of shape ", shapeString(h.shape));
  }
  return h;
}

HostTensor HostTensor::fromF32(std::vector<int64_t> shape, const std::vector<float>& v) {
  HostTensor h = zeros(DType::F32, std::move(shape));
  if (int64_t(v.size()) != h.numElements())
    fail("HostTensor::fromF32: ", v.size(), " values for ", h.numElements(), " elements");
  if (!v.empty()) std::memcpy(h.bytes.data(), v.data(), v.size() * 4);
  return h;
}

HostTensor HostTensor::fromI32(std::vector<int64_t> shape, const std::vector<int32_t>& v) {
  HostTensor h = zeros(DType::I32, std::move(shape));
  if (int64_t(v.size()) != h.numElements())
    fail("HostTensor::fromI32: ", v.size(), " values for ", h.numElements(), " elements");
  if (!v.empty()) std::memcpy(h.bytes.data(), v.data(), v.size() * 4);
  return h;
}

HostTensor HostTensor::scalarI64(int64_t v) {
  HostTensor h = zeros(DType::I64, {});
  std::memcpy(h.bytes.data(), &v, 8);
  return h;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace interp {

int64_t TensorView::numElements() const { return product(shape); }

float TensorView::floatAt(int64_t i) const {
  if (!isFloat(dtype)) fail(describe(), " is not a float tensor");
  return floatElementAt(dtype, data, i);
}

void TensorView::toF32(int64_t offset, int64_t count, float* out) const {
  switch (dtype) {
    case DType::F32:
      std::memcpy(out, data + 4 * offset, size_t(count) * 4);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, data + 2 * (offset + i), 2);
        const uint32_t bits = uint32_t(b) << 16;  // bf16 is the top half of an f32
        std::memcpy(out + i, &bits, 4);
      }
      return;
    default:
      for (int64_t i = 0; i < count; ++i) out[i] = floatAt(offset + i);
  }
}

template <typename T>
static T loadAs(const uint8_t* data, int64_t i) {
  T v;
  std::memcpy(&v, data + sizeof(T) * size_t(i), sizeof(T));
  return v;
}

double TensorView::doubleAt(int64_t i) const {
  if (dtype == DType::F64) return loadAs<double>(data, i);
  if (isFloat(dtype)) return double(floatElementAt(dtype, data, i));
  if (dtype == DType::U64) return double(loadAs<uint64_t>(data, i));
  return double(intAt(i));
}

uint64_t TensorView::uintAt(int64_t i) const {
  if (dtype == DType::U64) return loadAs<uint64_t>(data, i);
  return uint64_t(intAt(i));
}

int64_t TensorView::intAt(int64_t i) const {
  switch (dtype) {
    case DType::I8: return int8_t(data[i]);
    case DType::U8: case DType::Bool: return data[i];
    case DType::I16: return loadAs<int16_t>(data, i);
    case DType::U16: return loadAs<uint16_t>(data, i);
    case DType::U32: return loadAs<uint32_t>(data, i);
    case DType::U64: return int64_t(loadAs<uint64_t>(data, i));
    case DType::I32: {
      int32_t v;
      std::memcpy(&v, data + 4 * i, 4);
      return v;
    }
    case DType::I64: {
      int64_t v;
      std::memcpy(&v, data + 8 * i, 8);
      return v;
    }
    default:
      fail(describe(), " is not an integer tensor");
  }
}

std::string TensorView::describe() const {
  std::string name = value ? value->ref() : (weight ? "@" + weight->name : "operand");
  std::string s = name + " (" + std::string(dtypeName(dtype)) + " " + shapeString(shape);
  return s + ")";
}

}  // namespace interp
}  // namespace bitnetc
