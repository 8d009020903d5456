// The weight store: named constant tensors that live beside the graph. Weights read from a model
// file point into a read-only memory mapping of that file (nothing is copied); weights made by the
// compiler (e.g. ternarized at import, or given inline in a .bir test) own their bytes.
//
// Ternary weights [out, in] hold logical values -1/0/+1. Their bytes are stored in a layout
// (a property that passes may change), and they carry a per-tensor scale with its rule:
//   Mul:  W = T * scale      (2B-4T "autobitlinear", absmean-ternarized 1bitLLM weights)
//   Div:  W = T / scale      (older "bitlinear" exports)
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/Types.h"

namespace bitnetc {

// A read-only mapping of a whole file.
class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::string& path);  // throws Error naming path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the pages read so far from this process's memory (they stay in the page cache and
  // fault back in on the next read). The compiler calls it once it has streamed the weights out,
  // so a 1 GB checkpoint does not count twice in its peak RSS.
  void releasePages() const;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Ternary storage layouts.
//  "hf_blocked_2bit": u8 [ceil(out/4), in], blocked along the output dim (BITNET.md section 3):
//                     with R = ceil(out/4), T[i*R + r, c] = ((P[r,c] >> 2i) & 3) - 1.
//  "i8":              one int8 per weight, row-major [out, in].
//  "mad_2bit":        for the MAD kernels (unsigned 2-bit code x signed int8 activation):
//                     u8 [ceil(out/4), ceil(in/256), 4, 64]. Rows in groups of 4, columns in
//                     blocks of 256; each (group g, block b) is 4 rows x 64 bytes, contiguous;
//                     byte c of row i holds in bits 2j..2j+1 the code T + 1 of
//                     T[4g + i, 256b + 64j + c]. One 64-byte load (or 2 x 32, 4 x 16) and a
//                     mask per j give the codes of 64 consecutive columns, aligned with 64
//                     contiguous activation bytes. Padding (rows >= out, columns >= in): code 1.
//  "lut3_5bit":       for the LUT kernels (one table lookup per 3 weights): u16 words, 1.78 bits
//                     a weight. Word x of row n holds in bits 5j..5j+4 (j = 0..2) the index
//                     9 (T0 + 1) + 3 (T1 + 1) + (T2 + 1) of the columns 9x + 3j + 0..2 (0..26;
//                     bit 15 zero). Rows in tiles of 128, words in chunks of 28 (252 columns: a
//                     sum of 84 lookups of |3 x 128| stays exact in int16), chunk-major so one
//                     chunk's tables serve every tile: [ceil(KW/28)][ceil(out/128)][cw][128],
//                     KW = ceil(in/9), cw = min(28, KW - 28c). Padding: index 13 (zero weights).
inline constexpr std::string_view kLayoutHFBlocked = "hf_blocked_2bit";
inline constexpr std::string_view kLayoutI8 = "i8";
inline constexpr std::string_view kLayoutMad2 = "mad_2bit";
inline constexpr std::string_view kLayoutLut3 = "lut3_5bit";
bool isKnownTernaryLayout(std::string_view layout);
// mad_2bit addressing: byte of T[row, column] = madRowOffset(row, in) + madColumnOffset(column),
// in bits 2 * ((column % 256) / 64) and the next.
size_t madRowOffset(int64_t row, int64_t in);
size_t madColumnOffset(int64_t column);
// lut3_5bit addressing: the u16 index of word `word` (columns 9 word .. 9 word + 8) of `row`.
size_t lutWordIndex(int64_t row, int64_t word, int64_t out, int64_t in);
struct Weight;
// The `in` values of one row of a lut3_5bit weight; throws naming the weight, the row and the
// word on an index above 26 or a set bit 15 (the kernels trust the words).
void decodeLutRow(const Weight& w, int64_t row, int8_t* values);
// Bytes a ternary [out, in] matrix takes in the layout.
size_t ternaryLayoutBytes(std::string_view layout, int64_t out, int64_t in);

enum class ScaleRule : uint8_t { None, Mul, Div };
std::string_view scaleRuleName(ScaleRule r);  // "none", "mul", "div"

struct Weight {
  std::string name;  // without the '@'
  TensorType type;   // static; dtype Ternary for ternary matrices [out, in]
  // Ternary only.
  std::string layout;
  ScaleRule scaleRule = ScaleRule::None;
  float scale = 1.0f;

  // The bytes: either inside a mapped file, or owned.
  const uint8_t* data = nullptr;
  size_t byteSize = 0;
  std::shared_ptr<MappedFile> file;  // set when the bytes come from a file
  uint64_t fileOffset = 0;           // offset of the bytes in that file
  // The file's path as the .bir text wrote it (relative paths are resolved against the .bir's
  // directory when mapped, but printed as written); empty: print file->path().
  std::string filePath;
  std::shared_ptr<std::vector<uint8_t>> owned;  // set when the weight owns its bytes

  bool isTernary() const { return type.dtype == DType::Ternary; }
  int64_t numElements() const { return type.numElementsUpperBound(); }
  // Expected byte size for the type (and layout for ternary).
  size_t expectedBytes() const;

  // Element i (row-major) of a float weight (f32, bf16, f16) as f32.
  float floatAt(int64_t i) const;
  // All elements of a float weight as f32.
  std::vector<float> toFloats() const;
  // The logical ternary matrix [out, in] as int8 -1/0/+1. Throws an Error naming the weight
  // on an invalid code (3 in the 2-bit layout, or a value outside -1..1 in i8).
  std::vector<int8_t> unpackTernary() const;
};

// Builds a weight that owns its bytes.
Weight makeOwnedWeight(std::string name, TensorType type, std::vector<uint8_t> bytes);
// Builds a ternary weight from logical values [out*in] in the given layout, owning its bytes.
Weight makeTernaryWeight(std::string name, int64_t out, int64_t in, const std::vector<int8_t>& values,
                         std::string_view layout, ScaleRule rule, float scale);
// Packs logical ternary values [out, in] into a layout's bytes.
std::vector<uint8_t> packTernary(std::string_view layout, int64_t out, int64_t in,
                                 const std::vector<int8_t>& values);

// Element conversions.
// Element i of a row-major f32/bf16/f16 buffer as f32; `t` must be a float type.
float floatElementAt(DType t, const uint8_t* data, int64_t i);
float bf16ToFloat(uint16_t bits);
float f16ToFloat(uint16_t bits);
uint16_t floatToBf16(float f);  // round to nearest even
uint16_t floatToF16(float f);   // round to nearest even

}  // namespace bitnetc
