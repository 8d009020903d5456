#include "frontends/safetensors/TernaryWeights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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

Weight ternarizeLatent(const SafetensorsTensor& t, int64_t out, int64_t in) {
  const size_t n = size_t(out * in);
  std::vector<float> w(n);
  if (t.dtypeName == "F32") {
    std::memcpy(w.data(), t.data, n * 4);
  } else if (t.dtypeName == "BF16" || t.dtypeName == "F16") {
    const bool bf16 = t.dtypeName == "BF16";
    for (size_t i = 0; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, t.data + 2 * i, 2);
      w[i] = bf16 ? bf16ToFloat(b) : f16ToFloat(b);
    }
  } else {
    fail(t.file->path(), ": tensor \"", t.name, "\" has dtype ", t.dtypeName, ", expected BF16, F16 or F32");
  }
  double sum = 0;
  for (float x : w) sum += std::fabs(double(x));
  const float mean = float(sum / double(n));
  if (!std::isfinite(mean))
    fail(t.file->path(), ": tensor \"", t.name, "\" has non-finite values; cannot ternarize it");
  const float scale = std::max(mean, 1e-5f);
  const float inv = 1.0f / scale;
  std::vector<int8_t> ternary(n);
  for (size_t i = 0; i < n; ++i)
    ternary[i] = int8_t(std::clamp(std::nearbyint(w[i] * inv), -1.0f, 1.0f));
  return makeTernaryWeight(t.name, out, in, ternary, kLayoutHFBlocked, ScaleRule::Mul, scale);
}

}  // namespace bitnetc
