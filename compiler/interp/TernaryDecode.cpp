// Decoding ternary weights row by row, per their layout.
#include "compiler/interp/Kernels.h"

namespace bitnetc::interp {

void decodeTernaryRow(const Weight& w, int64_t n, Fault fault, int8_t* row) {
  const auto& dims = w.type.dims;
  const int64_t out = dims.at(0).size, in = dims.at(1).size;
  if (w.layout == kLayoutHFBlocked) {
    const int64_t R = (out + 3) / 4;
    // Blocked along the output dim: T[i*R + r, c] = ((P[r, c] >> 2i) & 3) - 1.
    int64_t r = n % R, i = n / R;
    if (fault == Fault::InterleavedPacking) r = n / 4, i = n % 4;  // wrong on purpose
    const uint8_t* packed = w.data + r * in;
    const int shift = int(2 * i);
    for (int64_t c = 0; c < in; ++c) {
      const int code = (packed[c] >> shift) & 3;
      if (code == 3)
        fail("weight @", w.name, ": invalid packed code 3 at packed [", r, ", ", c, "] (row ", n, ")");
      row[c] = int8_t(code - 1);
    }
  } else if (w.layout == kLayoutMad2) {
    const uint8_t* base = w.data + madRowOffset(n, in);
    for (int64_t c = 0; c < in; ++c) {
      const int code = (base[madColumnOffset(c)] >> (2 * ((c % 256) / 64))) & 3;
      if (code == 3) fail("weight @", w.name, ": invalid packed code 3 at [", n, ", ", c, "]");
      row[c] = int8_t(code - 1);
    }
  } else if (w.layout == kLayoutLut3) {
    decodeLutRow(w, n, row);
  } else if (w.layout == kLayoutI8) {
    const int8_t* src = reinterpret_cast<const int8_t*>(w.data) + n * in;
    for (int64_t c = 0; c < in; ++c) {
      if (src[c] < -1 || src[c] > 1)
        fail("weight @", w.name, ": value ", int(src[c]), " at [", n, ", ", c, "] is not ternary");
      row[c] = src[c];
    }
  } else {
    fail("weight @", w.name, ": unknown ternary layout \"", w.layout, "\"");
  }
}

}  // namespace bitnetc::interp
