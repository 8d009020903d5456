// The ternary weight helpers on tiny hand-written tensors: weight_scale reading, the code-3 scan
// with padding slots, and the absmean ternarization's ties and clamping.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/support/Error.h"
#include "frontends/safetensors/TernaryWeights.h"

namespace bitnetc {
namespace {

namespace fs = std::filesystem;

// One-tensor safetensors file; returns the opened file (kept alive by the caller).
std::shared_ptr<SafetensorsFile> oneTensor(const std::string& name, const std::string& dtype,
                                           const std::string& shape, const std::string& data) {
  const std::string header = R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape +
                             R"(,"data_offsets":[0,)" + std::to_string(data.size()) + "]}}";
  const fs::path dir = fs::path(::testing::TempDir()) / ("bitnetc-st-ternary-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[size_t(i)] = char((header.size() >> (8 * i)) & 0xff);
  out << len << header << data;
  out.close();
  return SafetensorsFile::open(path);
}

std::string f32Bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string u16Bytes(uint16_t v) { return std::string{char(v & 0xff), char(v >> 8)}; }

TEST(SafetensorsTernary, WeightScaleShapesAndDTypes) {
  EXPECT_EQ(readWeightScale(*oneTensor("s1.st", "F32", "[]", f32Bytes({1.25f}))->find("t")), 1.25f);
  EXPECT_EQ(readWeightScale(*oneTensor("s2.st", "F32", "[1]", f32Bytes({0.5f}))->find("t")), 0.5f);
  EXPECT_EQ(readWeightScale(*oneTensor("s3.st", "BF16", "[1]", u16Bytes(floatToBf16(1.5f)))->find("t")), 1.5f);
  EXPECT_EQ(readWeightScale(*oneTensor("s4.st", "F16", "[1]", u16Bytes(floatToF16(2.0f)))->find("t")), 2.0f);
}

TEST(SafetensorsTernary, WeightScaleErrors) {
  auto error = [](const std::shared_ptr<SafetensorsFile>& f) {
    try {
      readWeightScale(*f->find("t"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(oneTensor("e1.st", "F32", "[2]", f32Bytes({1, 2}))).find("has shape [2], expected [1]"),
            std::string::npos);
  EXPECT_NE(error(oneTensor("e2.st", "F32", "[1,1]", f32Bytes({1}))).find("has shape [1, 1]"), std::string::npos);
  EXPECT_NE(error(oneTensor("e3.st", "I32", "[1]", f32Bytes({1}))).find("has dtype I32"), std::string::npos);
  EXPECT_NE(error(oneTensor("e4.st", "F32", "[1]", f32Bytes({-1.0f}))).find("finite and positive"), std::string::npos);
  EXPECT_NE(error(oneTensor("e5.st", "F32", "[1]", f32Bytes({NAN}))).find("finite and positive"), std::string::npos);
  EXPECT_NE(error(oneTensor("e6.st", "F32", "[1]", f32Bytes({INFINITY}))).find("finite and positive"),
            std::string::npos);
  const std::string e = error(oneTensor("e7.st", "F32", "[1]", f32Bytes({0.0f})));
  EXPECT_NE(e.find("e7.st: tensor \"t\" holds the scale 0"), std::string::npos) << e;
}

TEST(SafetensorsTernary, Code3ScanSkipsPaddingSlots) {
  // out = 5, in = 2: R = 2 packed rows; slot 2 of packed row 1 is row 5 and slot 3 of both rows
  // (rows 6, 7) are padding. 0xF5 = slots 0,1 code 1 and slots 2,3 code 3.
  auto padOnly = oneTensor("p1.st", "U8", "[2,2]", std::string{char(0x15 | 0xC0), 0x15, char(0xF5), char(0xF5)});
  EXPECT_NO_THROW(checkPackedTernary(*padOnly->find("t"), 5, 2));
  // Slot 2 of packed row 0 is row 4: real.
  auto real = oneTensor("p2.st", "U8", "[2,2]", std::string{0x15, char(0x15 | 0x30), 0x15, 0x15});
  try {
    checkPackedTernary(*real->find("t"), 5, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid packed code 3 at packed [0, 1] (row 4 of the ternary matrix)"),
              std::string::npos)
        << e.what();
  }
}

TEST(SafetensorsTernary, AbsmeanTiesRoundToEvenAndClamp) {
  // mean|W| = 8 / 8 = 1, so y = W: 0.5 and -0.5 are ties that round to 0; 1.5 -> 2 clamps to 1.
  auto f = oneTensor("l1.st", "F32", "[4,2]", f32Bytes({0.5f, -0.5f, 1.5f, -1.5f, 1.0f, -1.0f, 2.0f, 0.0f}));
  Weight w = ternarizeLatent(*f->find("t"), 4, 2);
  EXPECT_EQ(w.scale, 1.0f);
  EXPECT_EQ(w.scaleRule, ScaleRule::Mul);
  EXPECT_EQ(w.layout, "hf_blocked_2bit");
  EXPECT_EQ(w.unpackTernary(), (std::vector<int8_t>{0, 0, 1, -1, 1, -1, 1, 0}));
  // Packed: R = 1, row i in slot i: codes (T + 1) of column 0 = 1, 2, 2, 2 -> 0b10101001.
  EXPECT_EQ(w.data[0], 0xA9);
}

TEST(SafetensorsTernary, AbsmeanPaddingAndTinyScale) {
  // out = 3: one padding slot (row 3) holding code 1. All-zero weights: scale clamps to 1e-5.
  auto zeros = oneTensor("l2.st", "BF16", "[3,1]", std::string(6, '\0'));
  Weight w = ternarizeLatent(*zeros->find("t"), 3, 1);
  EXPECT_EQ(w.scale, 1e-5f);
  EXPECT_EQ(w.data[0], 0x55);  // codes 1,1,1 and padding 1
  EXPECT_EQ(w.unpackTernary(), (std::vector<int8_t>{0, 0, 0}));
}

TEST(SafetensorsTernary, AbsmeanRejectsNonFinite) {
  auto f = oneTensor("l3.st", "F32", "[1,2]", f32Bytes({1.0f, INFINITY}));
  try {
    ternarizeLatent(*f->find("t"), 1, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("l3.st: tensor \"t\" has non-finite values"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitnetc
