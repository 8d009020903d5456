#include "compiler/ir/Weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "compiler/support/Error.h"

namespace bitnetc {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(err));
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = size_t(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      fail(path, ": cannot map: ", std::strerror(err));
    }
    file->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return file;
}

void MappedFile::releasePages() const {
  if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

bool isKnownTernaryLayout(std::string_view layout) {
  return layout == kLayoutHFBlocked || layout == kLayoutI8 || layout == kLayoutMad2 || layout == kLayoutLut3;
}

size_t madRowOffset(int64_t row, int64_t in) {
  const int64_t blocks = (in + 255) / 256;
  return size_t((row / 4) * blocks * 256 + (row % 4) * 64);
}

size_t madColumnOffset(int64_t column) { return size_t((column / 256) * 256 + column % 64); }

size_t lutWordIndex(int64_t row, int64_t word, int64_t out, int64_t in) {
  const int64_t words = (in + 8) / 9, tiles = (out + 127) / 128;
  const int64_t chunk = word / 28, cw = std::min<int64_t>(28, words - 28 * chunk);
  return size_t(chunk * 28 * tiles * 128 + (row / 128) * cw * 128 + (word % 28) * 128 + row % 128);
}

size_t ternaryLayoutBytes(std::string_view layout, int64_t out, int64_t in) {
  if (layout == kLayoutHFBlocked) return size_t((out + 3) / 4) * size_t(in);
  if (layout == kLayoutI8) return size_t(out) * size_t(in);
  if (layout == kLayoutMad2) return size_t((out + 3) / 4) * size_t((in + 255) / 256) * 256;
  if (layout == kLayoutLut3) return size_t((out + 127) / 128) * 128 * size_t((in + 8) / 9) * 2;
  fail("unknown ternary layout \"", layout, "\"");
}

std::string_view scaleRuleName(ScaleRule r) {
  switch (r) {
    case ScaleRule::None: return "none";
    case ScaleRule::Mul: return "mul";
    case ScaleRule::Div: return "div";
  }
  return "?";
}

size_t Weight::expectedBytes() const {
  if (isTernary()) {
    auto shape = type.staticShape();
    if (shape.size() != 2) fail("ternary weight @", name, " must be 2-D, is ", type.str());
    return ternaryLayoutBytes(layout, shape[0], shape[1]);
  }
  return size_t(numElements()) * dtypeSize(type.dtype);
}

float Weight::floatAt(int64_t i) const {
  if (!isFloat(type.dtype)) fail("weight @", name, " of type ", type.str(), " is not a float tensor");
  return floatElementAt(type.dtype, data, i);
}

float floatElementAt(DType t, const uint8_t* data, int64_t i) {
  uint16_t half;
  switch (t) {
    case DType::F32: {
      float f;
      std::memcpy(&f, data + 4 * i, 4);
      return f;
    }
    case DType::BF16:
      std::memcpy(&half, data + 2 * i, 2);
      return bf16ToFloat(half);
    case DType::F16:
      std::memcpy(&half, data + 2 * i, 2);
      return f16ToFloat(half);
    default:
      fail("floatElementAt: ", dtypeName(t), " is not a float type");
  }
}

std::vector<float> Weight::toFloats() const {
  std::vector<float> out(static_cast<size_t>(numElements()));
  for (int64_t i = 0; i < numElements(); ++i) out[size_t(i)] = floatAt(i);
  return out;
}

void decodeLutRow(const Weight& w, int64_t row, int8_t* values) {
  const int64_t out = w.type.dims.at(0).size, in = w.type.dims.at(1).size;
  for (int64_t x = 0; x < (in + 8) / 9; ++x) {
    uint16_t word;
    std::memcpy(&word, w.data + 2 * lutWordIndex(row, x, out, in), 2);
    for (int64_t j = 0; j < 3; ++j) {
      const int index = (word >> (5 * j)) & 31;
      if (index > 26 || (word >> 15))
        fail("weight @", w.name, ": invalid lut3_5bit word ", int(word), " at row ", row, ", word ", x,
             " (an index above 26)");
      const int digits[3] = {index / 9, index / 3 % 3, index % 3};
      for (int64_t d = 0; d < 3; ++d)
        if (9 * x + 3 * j + d < in) values[9 * x + 3 * j + d] = int8_t(digits[d] - 1);
    }
  }
}

std::vector<int8_t> Weight::unpackTernary() const {
  auto shape = type.staticShape();
  const int64_t out = shape.at(0), in = shape.at(1);
  std::vector<int8_t> values(size_t(out * in));
  if (layout == kLayoutHFBlocked) {
    const int64_t rows = (out + 3) / 4;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < in; ++c) {
        const uint8_t packed = data[r * in + c];
        for (int64_t i = 0; i < 4; ++i) {
          const int64_t row = i * rows + r;
          const int code = (packed >> (2 * i)) & 3;
          if (row >= out) continue;  // padding of the last block
          if (code == 3)
            fail("weight @", name, ": invalid packed code 3 at packed [", r, ", ", c, "] (row ", row,
                 ")");
          values[size_t(row * in + c)] = int8_t(code - 1);
        }
      }
    }
  } else if (layout == kLayoutMad2) {
    for (int64_t row = 0; row < out; ++row) {
      const uint8_t* base = data + madRowOffset(row, in);
      for (int64_t c = 0; c < in; ++c) {
        const int code = (base[madColumnOffset(c)] >> (2 * ((c % 256) / 64))) & 3;
        if (code == 3) fail("weight @", name, ": invalid packed code 3 at [", row, ", ", c, "]");
        values[size_t(row * in + c)] = int8_t(code - 1);
      }
    }
  } else if (layout == kLayoutLut3) {
    for (int64_t row = 0; row < out; ++row) decodeLutRow(*this, row, values.data() + row * in);
  } else if (layout == kLayoutI8) {
    for (size_t i = 0; i < values.size(); ++i) {
      const int8_t v = int8_t(data[i]);
      if (v < -1 || v > 1) fail("weight @", name, ": value ", int(v), " at ", i, " is not ternary");
      values[i] = v;
    }
  } else {
    fail("weight @", name, ": unknown ternary layout \"", layout, "\"");
  }
  return values;
}

std::vector<uint8_t> packTernary(std::string_view layout, int64_t out, int64_t in,
                                 const std::vector<int8_t>& values) {
  std::vector<uint8_t> bytes(ternaryLayoutBytes(layout, out, in), 0);
  if (layout == kLayoutHFBlocked) {
    const int64_t rows = (out + 3) / 4;
    for (int64_t row = 0; row < out; ++row)
      for (int64_t c = 0; c < in; ++c)
        bytes[size_t((row % rows) * in + c)] |=
            uint8_t((values[size_t(row * in + c)] + 1) << (2 * (row / rows)));
    // Padding rows of the last block get code 1 (zero weight).
    for (int64_t row = out; row < 4 * rows; ++row)
      for (int64_t c = 0; c < in; ++c) bytes[size_t((row % rows) * in + c)] |= uint8_t(1 << (2 * (row / rows)));
  } else if (layout == kLayoutMad2) {
    // Every field starts as code 1 (zero weight: the padding), then the real codes replace it.
    std::fill(bytes.begin(), bytes.end(), uint8_t(0x55));
    for (int64_t row = 0; row < out; ++row) {
      uint8_t* base = bytes.data() + madRowOffset(row, in);
      for (int64_t c = 0; c < in; ++c) {
        const int shift = int(2 * ((c % 256) / 64));
        uint8_t& b = base[madColumnOffset(c)];
        b = uint8_t((b & ~(3 << shift)) | ((values[size_t(row * in + c)] + 1) << shift));
      }
    }
  } else if (layout == kLayoutLut3) {
    const int64_t words = (in + 8) / 9, rows = (out + 127) / 128 * 128;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t x = 0; x < words; ++x) {
        uint16_t word = 0;
        for (int64_t j = 0; j < 3; ++j) {
          int index = 0;
          for (int64_t d = 0; d < 3; ++d) {
            const int64_t c = 9 * x + 3 * j + d;
            index = 3 * index + (row < out && c < in ? values[size_t(row * in + c)] : 0) + 1;
          }
          word = uint16_t(word | index << (5 * j));
        }
        std::memcpy(bytes.data() + 2 * lutWordIndex(row, x, out, in), &word, 2);
      }
  } else {
    for (size_t i = 0; i < values.size(); ++i) bytes[i] = uint8_t(values[i]);
  }
  return bytes;
}

Weight makeOwnedWeight(std::string name, TensorType type, std::vector<uint8_t> bytes) {
  Weight w;
  w.name = std::move(name);
  w.type = std::move(type);
  w.owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  w.data = w.owned->data();
  w.byteSize = w.owned->size();
  return w;
}

Weight makeTernaryWeight(std::string name, int64_t out, int64_t in, const std::vector<int8_t>& values,
                         std::string_view layout, ScaleRule rule, float scale) {
  Weight w = makeOwnedWeight(std::move(name), TensorType::of(DType::Ternary, {out, in}),
                             packTernary(layout, out, in, values));
  w.layout = std::string(layout);
  w.scaleRule = rule;
  w.scale = scale;
  return w;
}

float bf16ToFloat(uint16_t bits) { return std::bit_cast<float>(uint32_t(bits) << 16); }

uint16_t floatToBf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

float f16ToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    const float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000 | (mant << 13));
  return std::bit_cast<float>(sign | (uint32_t(exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t floatToF16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.0f) return sign | 0x7c00;  // rounds to infinity
  if (a < 6.103515625e-05f) {               // subnormal: multiples of 2^-24
    return sign | uint16_t(std::nearbyint(a * 16777216.0f));
  }
  int exp;
  const float m = std::frexp(a, &exp);  // a = m * 2^exp, m in [0.5, 1)
  // 11 significant bits: round m * 2^11 to nearest even.
  uint32_t sig = uint32_t(std::nearbyint(std::ldexp(m, 11)));
  if (sig == 2048) {
    sig = 1024;
    ++exp;
  }
  return sign | uint16_t(((exp - 1 + 15) << 10) | (sig - 1024));
}

}  // namespace bitnetc
