#include "tools/bitnet-run/Npy.h"

#include <cstring>
#include <fstream>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"
#include "tools/bitnet-run/TensorIO.h"

namespace bitnetc::run {

namespace {

// numpy's descr of an element code, "" when numpy has none (bf16).
std::string descrOf(DType t) {
  switch (int(t)) {
    case BITNET_F32: return "<f4";
    case BITNET_F16: return "<f2";
    case BITNET_F64: return "<f8";
    case BITNET_I8: return "|i1";
    case BITNET_I16: return "<i2";
    case BITNET_I32: return "<i4";
    case BITNET_I64: return "<i8";
    case BITNET_U8: return "|u1";
    case BITNET_U16: return "<u2";
    case BITNET_U32: return "<u4";
    case BITNET_U64: return "<u8";
    case BITNET_BOOL: return "|b1";
    default: return "";
  }
}

}  // namespace

void writeNpy(const std::string& path, const HostTensor& t, bool keepF16) {
  std::string descr = descrOf(t.dtype);
  std::vector<uint8_t> widened;
  const std::vector<uint8_t>* data = &t.bytes;
  if (t.dtype == DType::BF16 || (t.dtype == DType::F16 && !keepF16)) {
    descr = "<f4";
    widened.resize(size_t(t.numElements()) * 4);
    for (int64_t i = 0; i < t.numElements(); ++i) {
      const uint16_t b = t.as<uint16_t>()[i];
      const float f = t.dtype == DType::BF16 ? bf16ToFloat(b) : f16ToFloat(b);
      std::memcpy(widened.data() + 4 * i, &f, 4);
    }
    data = &widened;
  }
  if (descr.empty()) fail(path, ": cannot write a tensor of element type ", int(t.dtype), " as .npy");
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 ? "," : i + 1 < t.shape.size() ? ", " : "");
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces and '\n' to 64 bytes.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) fail(path, ": cannot create");
  const uint16_t len = uint16_t(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  const char lenBytes[2] = {char(len & 0xff), char(len >> 8)};
  out.write(lenBytes, 2);
  out.write(header.data(), std::streamsize(header.size()));
  out.write(reinterpret_cast<const char*>(data->data()), std::streamsize(data->size()));
  if (!out) fail(path, ": write failed");
}

// readNpy: the inverse, for any file numpy.save writes for these types.
HostTensor readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail(path, ": not a .npy file");
  const int major = uint8_t(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, ": truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i) headerLen |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    fail(path, ": .npy format version ", major, " is not supported");
  }
  if (start + headerLen > bytes.size()) fail(path, ": truncated .npy header");
  const std::string header = bytes.substr(start, headerLen);
  // The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  auto valueAfter = [&](const std::string& key) -> size_t {
    size_t at = header.find("'" + key + "'");
    if (at == std::string::npos) fail(path, ": .npy header has no '", key, "': ", header);
    at = header.find(':', at);
    if (at == std::string::npos) fail(path, ": malformed .npy header: ", header);
    return header.find_first_not_of(' ', at + 1);
  };
  size_t d = valueAfter("descr");
  if (d == std::string::npos || header[d] != '\'') fail(path, ": malformed descr in .npy header: ", header);
  std::string descr = header.substr(d + 1, header.find('\'', d + 1) - d - 1);
  if (header.compare(valueAfter("fortran_order"), 4, "True") == 0)
    fail(path, ": Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
  size_t s = valueAfter("shape");
  if (s == std::string::npos || header[s] != '(') fail(path, ": malformed shape in .npy header: ", header);
  std::vector<int64_t> shape;
  for (size_t p = s + 1; p < header.size() && header[p] != ')';) {
    if (header[p] == ' ' || header[p] == ',') {
      ++p;
      continue;
    }
    size_t used = 0;
    shape.push_back(std::stoll(header.substr(p), &used));
    if (used == 0 || shape.back() < 0) fail(path, ": malformed shape in .npy header: ", header);
    p += used;
  }
  // '=' and '<' are little-endian here; one-byte types may say '|'.
  if (!descr.empty() && (descr[0] == '=' || descr[0] == '|')) descr[0] = '<';
  static const std::pair<const char*, int> kTypes[] = {
      {"<f4", BITNET_F32}, {"<f2", BITNET_F16}, {"<f8", BITNET_F64}, {"<i1", BITNET_I8},
      {"<i2", BITNET_I16}, {"<i4", BITNET_I32}, {"<i8", BITNET_I64}, {"<u1", BITNET_U8},
      {"<u2", BITNET_U16}, {"<u4", BITNET_U32}, {"<u8", BITNET_U64}, {"<b1", BITNET_BOOL}};
  int code = -1;
  for (const auto& [name, c] : kTypes)
    if (descr == name) code = c;
  if (code < 0) fail(path, ": .npy element type '", descr, "' is not supported");
  HostTensor t;
  t.dtype = DType(code);
  t.shape = shape;
  const size_t n = size_t(t.numElements()) * typeSize(t.dtype);
  const size_t dataStart = start + headerLen;
  if (bytes.size() - dataStart != n)
    fail(path, ": has ", bytes.size() - dataStart, " data bytes, its shape ", shapeString(shape), " of ", descr,
         " needs ", n);
  t.bytes.assign(bytes.begin() + std::ptrdiff_t(dataStart), bytes.end());
  return t;
}

}  // namespace bitnetc::run
