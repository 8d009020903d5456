#include "frontends/onnx/OnnxTensors.h"

#include <cstring>
#include <filesystem>

#include "compiler/support/Error.h"

namespace bitnetc::onnxfe {

namespace {

using TP = onnx::TensorProto;

const char* irNameOf(int32_t t) {
  switch (t) {
    case TP::FLOAT: return "f32";
    case TP::UINT8: return "u8";
    case TP::INT8: return "i8";
    case TP::UINT16: return "u16";
    case TP::INT16: return "i16";
    case TP::INT32: return "i32";
    case TP::INT64: return "i64";
    case TP::BOOL: return "bool";
    case TP::FLOAT16: return "f16";
    case TP::DOUBLE: return "f64";
    case TP::UINT32: return "u32";
    case TP::UINT64: return "u64";
    case TP::BFLOAT16: return "bf16";
    default: return nullptr;
  }
}

size_t numElements(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

template <typename T>
void put(std::vector<uint8_t>& out, size_t i, T v) {
  std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
}

// The inline bytes of `t` in its IR type's layout (raw_data, or the typed repeated field).
std::vector<uint8_t> inlineBytes(const TP& t, DType dt, size_t count) {
  const size_t size = dtypeSize(dt);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != count * size)
      fail("tensor '", t.name(), "' has ", t.raw_data().size(), " bytes of raw_data, expected ",
           count, " elements of ", dtypeName(dt), " (", count * size, " bytes)");
    return std::vector<uint8_t>(t.raw_data().begin(), t.raw_data().end());
  }
  std::vector<uint8_t> out(count * size);
  auto check = [&](int n, const char* field) {
    if (size_t(n) != count)
      fail("tensor '", t.name(), "' has ", n, " values in ", field, ", expected ", count);
  };
  switch (t.data_type()) {
    case TP::FLOAT:
      check(t.float_data_size(), "float_data");
      for (size_t i = 0; i < count; ++i) put(out, i, t.float_data(int(i)));
      break;
    case TP::DOUBLE:
      check(t.double_data_size(), "double_data");
      for (size_t i = 0; i < count; ++i) put(out, i, t.double_data(int(i)));
      break;
    case TP::INT64:
      check(t.int64_data_size(), "int64_data");
      for (size_t i = 0; i < count; ++i) put(out, i, int64_t(t.int64_data(int(i))));
      break;
    case TP::UINT32:
    case TP::UINT64:
      check(t.uint64_data_size(), "uint64_data");
      for (size_t i = 0; i < count; ++i) {
        if (size == 4) put(out, i, uint32_t(t.uint64_data(int(i))));
        else put(out, i, uint64_t(t.uint64_data(int(i))));
      }
      break;
    default:  // int32_data holds int32, int16, int8, uint16, uint8, bool, float16 and bfloat16 bits
      check(t.int32_data_size(), "int32_data");
      for (size_t i = 0; i < count; ++i) {
        const int32_t v = t.int32_data(int(i));
        if (size == 1) put(out, i, uint8_t(v));
        else if (size == 2) put(out, i, uint16_t(v));
        else put(out, i, v);
      }
  }
  return out;
}

bool isExternal(const TP& t) { return t.has_data_location() && t.data_location() == TP::EXTERNAL; }

// The tensor's bytes, wherever they are (a copy for inline data, a view into the mapping else).
std::vector<uint8_t> allBytes(const TP& t, ExternalFiles& files) {
  const DType dt = irDType(t.data_type(), "tensor '" + t.name() + "'");
  const size_t count = numElements(tensorShape(t));
  if (!isExternal(t)) return inlineBytes(t, dt, count);
  auto r = files.locate(t, count * dtypeSize(dt));
  const uint8_t* p = r.file->data() + r.offset;
  return std::vector<uint8_t>(p, p + count * dtypeSize(dt));
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

DType irDType(int32_t onnxType, const std::string& what) {
  const char* name = irNameOf(onnxType);
  auto dt = name ? dtypeFromName(name) : std::nullopt;
  if (!dt)
    fail(what, " has the element type ", onnxTypeName(onnxType),
         ", which is not supported (supported: float, float16, bfloat16, double, int8/16/32/64, "
         "uint8/16/32/64, bool)");
  return *dt;
}

std::string onnxTypeName(int32_t onnxType) {
  if (TP::DataType_IsValid(onnxType)) return TP::DataType_Name(TP::DataType(onnxType));
  return "type " + std::to_string(onnxType);
}

std::vector<int64_t> tensorShape(const TP& t) {
  std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
  for (int64_t d : shape)
    if (d < 0) fail("tensor '", t.name(), "' has the negative dim ", d);
  return shape;
}

ExternalFiles::Range ExternalFiles::locate(const TP& t, size_t expectedBytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    try {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    } catch (const std::exception&) {
      fail("tensor '", t.name(), "': external data ", kv.key(), " = '", kv.value(), "' is not a number");
    }
  }
  if (location.empty()) fail("tensor '", t.name(), "' is external data without a location");
  std::filesystem::path p(location);
  if (p.is_relative()) p = std::filesystem::path(dir_) / p;
  const std::string file = p.lexically_normal().string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    fail("tensor '", t.name(), "': its external data file ", file, " does not exist");
  auto& mapped = files_[file];
  if (!mapped) mapped = MappedFile::open(file);
  if (offset < 0) fail("tensor '", t.name(), "': external data offset ", offset, " is negative");
  if (length >= 0 && size_t(length) != expectedBytes)
    fail("tensor '", t.name(), "': external data length ", length, " in ", file, " but its type needs ",
         expectedBytes, " bytes");
  if (uint64_t(offset) > mapped->size() || mapped->size() - uint64_t(offset) < expectedBytes)
    fail("tensor '", t.name(), "': external data [", offset, ", ", uint64_t(offset) + expectedBytes,
         ") is outside ", file, " (", mapped->size(), " bytes)");
  return {mapped, uint64_t(offset)};
}

Weight tensorToWeight(const TP& t, const std::string& name, ExternalFiles& files) {
  const DType dt = irDType(t.data_type(), "tensor '" + t.name() + "'");
  const std::vector<int64_t> shape = tensorShape(t);
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim::fixed(d));
  TensorType type(dt, dims);
  const size_t count = numElements(shape);
  if (!isExternal(t)) return makeOwnedWeight(name, type, inlineBytes(t, dt, count));
  auto r = files.locate(t, count * dtypeSize(dt));
  Weight w;
  w.name = name;
  w.type = type;
  w.file = r.file;
  w.fileOffset = r.offset;
  w.data = r.file->data() + r.offset;
  w.byteSize = count * dtypeSize(dt);
  return w;
}

std::vector<int64_t> tensorInts(const TP& t, ExternalFiles& files) {
  const DType dt = irDType(t.data_type(), "tensor '" + t.name() + "'");
  if (isFloat(dt) || dtypeName(dt) == "f64") fail("tensor '", t.name(), "' is not an integer tensor");
  const std::vector<uint8_t> b = allBytes(t, files);
  const size_t size = dtypeSize(dt), n = b.size() / size;
  const std::string_view nm = dtypeName(dt);
  const bool isSigned = nm[0] == 'i';
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = b.data() + i * size;
    switch (size) {
      case 1: out[i] = isSigned ? int64_t(load<int8_t>(p)) : int64_t(load<uint8_t>(p)); break;
      case 2: out[i] = isSigned ? int64_t(load<int16_t>(p)) : int64_t(load<uint16_t>(p)); break;
      case 4: out[i] = isSigned ? int64_t(load<int32_t>(p)) : int64_t(load<uint32_t>(p)); break;
      default: out[i] = load<int64_t>(p);
    }
  }
  return out;
}

std::vector<double> tensorFloats(const TP& t, ExternalFiles& files) {
  const DType dt = irDType(t.data_type(), "tensor '" + t.name() + "'");
  const std::vector<uint8_t> b = allBytes(t, files);
  const size_t n = b.size() / dtypeSize(dt);
  std::vector<double> out(n);
  if (dtypeName(dt) == "f64") {
    for (size_t i = 0; i < n; ++i) out[i] = load<double>(b.data() + 8 * i);
  } else if (isFloat(dt)) {
    for (size_t i = 0; i < n; ++i) out[i] = floatElementAt(dt, b.data(), int64_t(i));
  } else {
    const std::vector<int64_t> ints = tensorInts(t, files);
    for (size_t i = 0; i < n; ++i) out[i] = double(ints[i]);
  }
  return out;
}

std::vector<uint8_t> encodeElements(DType t, const std::vector<double>& values) {
  const size_t size = dtypeSize(t);
  std::vector<uint8_t> out(values.size() * size);
  const std::string_view nm = dtypeName(t);
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (nm == "f32") put(out, i, float(v));
    else if (nm == "f64") put(out, i, v);
    else if (nm == "bf16") put(out, i, floatToBf16(float(v)));
    else if (nm == "f16") put(out, i, floatToF16(float(v)));
    else if (nm == "bool") put(out, i, uint8_t(v != 0));
    else if (size == 1) put(out, i, uint8_t(int64_t(v)));
    else if (size == 2) put(out, i, uint16_t(int64_t(v)));
    else if (size == 4) put(out, i, uint32_t(int64_t(v)));
    else if (nm == "u64") put(out, i, uint64_t(v));
    else put(out, i, int64_t(v));
  }
  return out;
}

std::vector<uint8_t> encodeInts(DType t, const std::vector<int64_t>& values) {
  const std::string_view nm = dtypeName(t);
  if (isFloat(t) || nm == "f64" || nm == "bool") {
    std::vector<double> d(values.begin(), values.end());
    return encodeElements(t, d);
  }
  const size_t size = dtypeSize(t);
  std::vector<uint8_t> out(values.size() * size);
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t v = values[i];
    if (size == 1) put(out, i, uint8_t(v));
    else if (size == 2) put(out, i, uint16_t(v));
    else if (size == 4) put(out, i, uint32_t(v));
    else put(out, i, v);
  }
  return out;
}

}  // namespace bitnetc::onnxfe
