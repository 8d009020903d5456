#include "tools/bitnet-run/Npy.h"

#include <cstring>
#include <fstream>

#include "compiler/support/Error.h"

namespace bitnetc::run {

void writeNpy(const std::string& path, const HostTensor& t) {
  std::string descr;
  std::vector<uint8_t> widened;
  const std::vector<uint8_t>* data = &t.bytes;
  switch (t.dtype) {
    case DType::F32: descr = "<f4"; break;
    case DType::I8: descr = "|i1"; break;
    case DType::U8: descr = "|u1"; break;
    case DType::I32: descr = "<i4"; break;
    case DType::I64: descr = "<i8"; break;
    case DType::BF16:
    case DType::F16: {
      descr = "<f4";
      widened.resize(size_t(t.numElements()) * 4);
      for (int64_t i = 0; i < t.numElements(); ++i) {
        const uint16_t b = t.as<uint16_t>()[i];
        const float f = t.dtype == DType::BF16 ? bf16ToFloat(b) : f16ToFloat(b);
        std::memcpy(widened.data() + 4 * i, &f, 4);
      }
      data = &widened;
      break;
    }
    default: fail(path, ": cannot write a ", dtypeName(t.dtype), " tensor as .npy");
  }
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

}  // namespace bitnetc::run
