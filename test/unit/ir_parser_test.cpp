// The .bir parser: structure of what it builds, errors with line and column, external weights.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/support/Error.h"

namespace bitnetc {
namespace {

std::string parseError(std::string_view text) {
  try {
    parseModule(text, "in.bir");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Parser, BuildsTheModule) {
  auto m = parseModule(R"(bir 1
module {name = "tiny", n = 3, f = 0.5, ok = true, l = [1, 2], fl = [0.5, 2.0], e = []}
dim ?seq <= 16
weight @w : tensor<4 x f32> = dense<[1, 2.5, -3, 0.125]>
func @f(%x: tensor<?seq x 4 x f32>) -> (tensor<?seq x 4 x f32>) {
  %y = rms_norm(%x, @w) {eps = 1e-05} : tensor<?seq x 4 x f32>
  return %y
}
)",
                       "in.bir");
  EXPECT_EQ(m->attrs.getString("name"), "tiny");
  EXPECT_EQ(m->attrs.getInt("n"), 3);
  EXPECT_EQ(m->attrs.getFloat("f"), 0.5);
  EXPECT_TRUE(m->attrs.getBool("ok"));
  EXPECT_EQ(m->attrs.getInts("l"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(m->attrs.getFloats("fl"), (std::vector<double>{0.5, 2.0}));
  EXPECT_TRUE(m->attrs.getInts("e").empty());
  ASSERT_EQ(m->dims().size(), 1u);
  EXPECT_EQ(m->dim("seq").max, 16);
  ASSERT_EQ(m->weights().size(), 1u);
  EXPECT_EQ(m->weights()[0]->toFloats(), (std::vector<float>{1, 2.5f, -3, 0.125f}));
  Function* f = m->function("f");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->ops().size(), 1u);
  const Op& op = *f->ops()[0];
  EXPECT_EQ(op.opcode, "rms_norm");
  EXPECT_EQ(op.operands[0], f->inputs()[0]);
  EXPECT_EQ(op.operands[1], m->weightValue("w"));
  EXPECT_EQ(op.attrs.getFloat("eps"), 1e-05);
  EXPECT_EQ(op.results[0]->type.dims[0], m->dim("seq"));
  EXPECT_EQ(f->outputs(), std::vector<Value*>{op.results[0]});
}

TEST(Parser, ErrorsCarryLineAndColumn) {
  EXPECT_EQ(parseError("bir 1\nfunc @f(%x: tensor<4 x f32>) -> (tensor<4 x f32>) {\n  %y = nope(%x) : tensor<4 x f32>\n  return %y\n}\n"),
            "in.bir:3:8: unknown opcode 'nope'");
  EXPECT_EQ(parseError("bir 1\nfunc @f(%x: tensor<4 x f32>) -> (tensor<4 x f32>) {\n  return %z\n}\n"),
            "in.bir:3:10: unknown value %z");
  EXPECT_EQ(parseError("bir 1\nweight @w : tensor<2 x f32> = dense<[1]>\n"),
            "in.bir:2:31: wrong number of dense elements for @w: tensor<2 x f32> has 2 elements, got 1");
  EXPECT_EQ(parseError("bir 1\nmodule {s = \"abc\n}\n"), "in.bir:2:13: unterminated string");
  EXPECT_EQ(parseError("bir 1\nweight @w : tensor<2 x q7> = dense<[1, 2]>\n"),
            "in.bir:2:24: bad type: unknown element type 'q7'");
  EXPECT_EQ(parseError("bir 1\nmodule {a = @x}\n"),
            "in.bir:2:13: bad attribute value @x: expected an int, float, string, true/false or a list");
  EXPECT_EQ(parseError(""), "in.bir:1:1: expected the header 'bir 1', got end of file");
  // Verifier errors about an op carry the op's position.
  EXPECT_EQ(parseError("bir 1\nfunc @f(%x: tensor<4 x f32>) -> (tensor<4 x i8>) {\n\n   %y = sqrt(%x) : tensor<4 x i8>\n  return %y\n}\n"),
            "in.bir:4:4: verifier: @f: %y = sqrt: result 0 %y is declared tensor<4 x i8> but the op "
            "yields tensor<4 x f32>");
}

TEST(Parser, StringEscapesRoundTrip) {
  auto m = parseModule("bir 1\nmodule {s = \"q\\\"b\\\\n\\nt\\x09\\x7f\\xc3\\xa9\"}\n", "in.bir");
  EXPECT_EQ(m->attrs.getString("s"), std::string("q\"b\\n\nt\t\x7f\xc3\xa9"));
  EXPECT_EQ(printModule(*m), "bir 1\nmodule {s = \"q\\\"b\\\\n\\nt\\x09\\x7f\xc3\xa9\"}\n");
}

TEST(Parser, DenseTernaryIsPackedIntoTheDeclaredLayout) {
  const std::vector<int8_t> values = {1, 0, -1, 1, 1, 1, 0, 0, -1, -1, 0, 1, 0, 1, -1};  // [5, 3]
  auto m = parseModule(
      "bir 1\nweight @t : ternary<5 x 3> layout \"hf_blocked_2bit\" scale div 2.5 = "
      "dense<[1, 0, -1, 1, 1, 1, 0, 0, -1, -1, 0, 1, 0, 1, -1]>\n",
      "in.bir");
  const Weight& w = *m->weights()[0];
  EXPECT_EQ(w.layout, "hf_blocked_2bit");
  EXPECT_EQ(w.scaleRule, ScaleRule::Div);
  EXPECT_EQ(w.scale, 2.5f);
  EXPECT_EQ(std::vector<uint8_t>(w.data, w.data + w.byteSize), packTernary(kLayoutHFBlocked, 5, 3, values));
  EXPECT_EQ(w.unpackTernary(), values);
}

TEST(Parser, DenseIntegersKeepTheirBits) {
  auto m = parseModule(
      "bir 1\nweight @a : tensor<2 x i64> = dense<[-9223372036854775808, 42]>\n"
      "weight @b : tensor<2 x i32> = dense<[-7, 2147483647]>\n",
      "in.bir");
  int64_t a[2];
  std::memcpy(a, m->weights()[0]->data, 16);
  EXPECT_EQ(a[0], INT64_MIN);
  EXPECT_EQ(a[1], 42);
  int32_t b[2];
  std::memcpy(b, m->weights()[1]->data, 8);
  EXPECT_EQ(b[0], -7);
  EXPECT_EQ(b[1], INT32_MAX);
}

class ParserFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bitnetc-parser-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "sub");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(ParserFiles, ExternalPathsResolveAgainstTheBirDirectoryAndPrintAsWritten) {
  const float values[3] = {1.5f, -2.0f, 0.25f};
  std::string bytes = "pad!";  // offset 4
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  write("sub/w.bin", bytes);
  const std::string text =
      "bir 1\nweight @w : tensor<3 x f32> = external \"sub/w.bin\" offset 4\n"
      "weight @v : tensor<4 x u8> = external \"sub/w.bin\" offset 0\n";
  write("m.bir", text);
  auto m = parseFile((dir_ / "m.bir").string());
  const Weight& w = *m->weights()[0];
  EXPECT_EQ(w.toFloats(), (std::vector<float>{1.5f, -2.0f, 0.25f}));
  EXPECT_EQ(w.fileOffset, 4u);
  EXPECT_EQ(w.file->path(), (dir_ / "sub/w.bin").string());
  EXPECT_EQ(w.file, m->weights()[1]->file);  // one mapping per file
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->weights()[1]->data), 4), "pad!");
  EXPECT_EQ(printModule(*m), text);
  // From elsewhere, the relative path does not resolve.
  try {
    parseModule(text, "elsewhere.bir", "/nonexistent");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("elsewhere.bir:2:40: missing weight file \"sub/w.bin\" for @w"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ParserFiles, MissingBirFile) {
  try {
    parseFile((dir_ / "none.bir").string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "none.bir").string() + ": cannot open");
  }
}

}  // namespace
}  // namespace bitnetc
