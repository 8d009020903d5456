#include "frontends/safetensors/TernaryWeights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "compiler/support/Error.h"

namespace bitnetc {

namespace {

// A byte holds a code 3 in slot i iff bits 2i and 2i+1 are both set: (b & (b >> 1)) has bit 2i
// set. In a 64-bit word the shift carries bit 0 of byte k+1 into bit 7 of byte k, which the
// even-bit mask drops.
constexpr uint64_t kEvenBits = 0x5555555555555555ull;

// True when some byte of [p, p+n) has a code 3 in any slot.
bool anyCode3(const uint8_t* p, size_t n) {
  size_t i = 0;
  constexpr size_t kBlock = 4096;
  for (; i + kBlock <= n; i += kBlock) {
    uint64_t acc = 0;
    for (size_t j = 0; j < kBlock; j += 8) {
      uint64_t w;
      std::memcpy(&w, p + i + j, 8);
      acc |= w & (w >> 1);
    }
    if (acc & kEvenBits) return true;
  }
  for (; i < n; ++i)
    if (p[i] & (p[i] >> 1) & 0x55) return true;
  return false;
}

[[noreturn]] void failCode3(const SafetensorsTensor& t, int64_t r, int64_t c, int slot, int64_t rows) {
  fail(t.file->path(), ": tensor \"", t.name, "\": invalid packed code 3 at packed [", r, ", ", c, "] (row ",
       slot * rows + r, " of the ternary matrix)");
}

// Drops the whole pages inside [p, p+n) from this process's page tables; a read-only private
// file mapping refaults them from the page cache if they are touched again.
void releasePages(const uint8_t* p, size_t n) {
  static const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (uintptr_t(p) + n) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

void checkPackedTernary(const SafetensorsTensor& t, int64_t out, int64_t in) {
  const int64_t rows = (out + 3) / 4;
  // Packed rows whose four slots are all real rows: r + 3*rows < out. The last few rows of the
  // block may hold padding slots (rows >= out), whose codes are ignored.
  const int64_t fullRows = std::clamp<int64_t>(out - 3 * rows, 0, rows);
  const uint8_t* p = t.data;
  if (anyCode3(p, size_t(fullRows * in))) {
    for (int64_t r = 0; r < fullRows; ++r)
      for (int64_t c = 0; c < in; ++c) {
        const uint8_t b = p[r * in + c];
        for (int slot = 0; slot < 4; ++slot)
          if (((b >> (2 * slot)) & 3) == 3) failCode3(t, r, c, slot, rows);
      }
  }
  for (int64_t r = fullRows; r < rows; ++r)
    for (int64_t c = 0; c < in; ++c) {
      const uint8_t b = p[r * in + c];
      for (int slot = 0; slot < 4 && slot * rows + r < out; ++slot)
        if (((b >> (2 * slot)) & 3) == 3) failCode3(t, r, c, slot, rows);
    }
  releasePages(t.data, t.byteSize);
}

float readWeightScale(const SafetensorsTensor& t) {
  if (t.numElements() != 1 || t.shape.size() > 1)
    fail(t.file->path(), ": tensor \"", t.name, "\" has shape ", t.shapeStr(), ", expected [1] (one scale per tensor)");
  float v = 0;
  if (t.dtypeName == "BF16") {
    uint16_t b;
    std::memcpy(&b, t.data, 2);
    v = bf16ToFloat(b);
  } else if (t.dtypeName == "F16") {
    uint16_t b;
    std::memcpy(&b, t.data, 2);
    v = f16ToFloat(b);
  } else if (t.dtypeName == "F32") {
    std::memcpy(&v, t.data, 4);
  } else {
    fail(t.file->path(), ": tensor \"", t.name, "\" has dtype ", t.dtypeName, ", expected BF16, F16 or F32");
  }
  if (!std::isfinite(v) || v <= 0)
    fail(t.file->path(), ": tensor \"", t.name, "\" holds the scale ", v, "; a weight scale must be finite and positive");
  return v;
}

Weight fileWeight(const SafetensorsTensor& t, TensorType type) {
  Weight w;
  w.name = t.name;
  w.type = std::move(type);
  w.data = t.data;
  w.byteSize = t.byteSize;
  w.file = t.file->mapped();
  w.fileOffset = t.fileOffset;
  return w;
}

namespace {

// Rows of a BF16/F16/F32 tensor converted to f32, one row at a time (F16 through a table: latent
// checkpoints have billions of elements).
class LatentRows {
 public:
  LatentRows(const SafetensorsTensor& t, int64_t in) : data_(t.data), in_(size_t(in)), row_(size_t(in)) {
    if (t.dtypeName == "F32") kind_ = F32;
    else if (t.dtypeName == "BF16") kind_ = BF16;
    else if (t.dtypeName == "F16") kind_ = F16;
    else fail(t.file->path(), ": tensor \"", t.name, "\" has dtype ", t.dtypeName, ", expected BF16, F16 or F32");
    if (kind_ == F16) {
      static const std::vector<float> table = [] {
        std::vector<float> v(65536);
        for (uint32_t i = 0; i < 65536; ++i) v[i] = f16ToFloat(uint16_t(i));
        return v;
      }();
      f16_ = table.data();
    }
  }
  const float* row(int64_t r) {
    float* dst = row_.data();
    if (kind_ == F32) {
      std::memcpy(dst, data_ + 4 * in_ * size_t(r), 4 * in_);
      return dst;
    }
    const uint8_t* src = data_ + 2 * in_ * size_t(r);
    for (size_t c = 0; c < in_; ++c) {
      uint16_t b;
      std::memcpy(&b, src + 2 * c, 2);
      dst[c] = kind_ == BF16 ? std::bit_cast<float>(uint32_t(b) << 16) : f16_[b];
    }
    return dst;
  }

 private:
  enum Kind { F32, BF16, F16 } kind_ = F32;
  const uint8_t* data_;
  size_t in_;
  std::vector<float> row_;
  const float* f16_ = nullptr;
};

}  // namespace

Weight ternarizeLatent(const SafetensorsTensor& t, int64_t out, int64_t in) {
  LatentRows rows(t, in);
  // sum |W| in fp64; four accumulators only reorder exact-enough fp64 additions.
  double acc[4] = {0, 0, 0, 0};
  for (int64_t r = 0; r < out; ++r) {
    const float* w = rows.row(r);
    int64_t c = 0;
    for (; c + 4 <= in; c += 4)
      for (int k = 0; k < 4; ++k) acc[k] += std::fabs(double(w[c + k]));
    for (; c < in; ++c) acc[0] += std::fabs(double(w[c]));
  }
  const double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  const float mean = float(sum / double(out * in));
  if (!std::isfinite(mean))
    fail(t.file->path(), ": tensor \"", t.name, "\" has non-finite values; cannot ternarize it");
  const float scale = std::max(mean, 1e-5f);
  const float inv = 1.0f / scale;

  // Ternarize straight into hf_blocked_2bit: row i*R + r goes to bits 2i..2i+1 of packed row r.
  // Padding slots (rows >= out) get code 1, a zero weight.
  const int64_t packedRows = (out + 3) / 4;
  std::vector<uint8_t> packed(size_t(packedRows * in), 0);
  for (int64_t row = 0; row < 4 * packedRows; ++row) {
    const int shift = int(2 * (row / packedRows));
    uint8_t* dst = packed.data() + (row % packedRows) * in;
    if (row >= out) {
      for (int64_t c = 0; c < in; ++c) dst[c] |= uint8_t(1 << shift);
      continue;
    }
    const float* w = rows.row(row);
    // clamp(roundeven(y), -1, 1) + 1 without a rounding call: ties at +-0.5 round to even (0).
    for (int64_t c = 0; c < in; ++c) {
      const float y = w[c] * inv;
      const int code = 1 + int(y > 0.5f) - int(y < -0.5f);  // branchless: the signs are random
      dst[c] |= uint8_t(code << shift);
    }
  }
  releasePages(t.data, t.byteSize);
  Weight result = makeOwnedWeight(t.name, TensorType::of(DType::Ternary, {out, in}), std::move(packed));
  result.layout = std::string(kLayoutHFBlocked);
  result.scaleRule = ScaleRule::Mul;
  result.scale = scale;
  return result;
}

}  // namespace bitnetc
