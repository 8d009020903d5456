// The safetensors reader on small files written here byte by byte: a valid file, then one
// structural defect at a time, each of which must be an Error naming the file and the tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/support/Error.h"
#include "frontends/safetensors/SafetensorsFile.h"

namespace bitnetc {
namespace {

namespace fs = std::filesystem;

std::string tempPath(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("bitnetc-st-reader-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string u64le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file: header length, header, data. headerLen overrides the length field.
std::string writeST(const std::string& name, const std::string& header, const std::string& data,
                    int64_t headerLen = -1) {
  const std::string path = tempPath(name);
  writeBytes(path, u64le(headerLen < 0 ? header.size() : uint64_t(headerLen)) + header + data);
  return path;
}

// Runs open() and returns the Error's message ("" if it did not throw).
std::string openError(const std::string& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expectMentions(const std::string& message, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(message.empty()) << "expected an error";
  for (const auto& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
}

TEST(SafetensorsReader, ReadsTensorsAndMetadata) {
  // f32 [2] = {1.5, -2}, u8 [2, 3], an empty tensor, metadata.
  std::string data(14, '\0');
  const float f[2] = {1.5f, -2.0f};
  std::memcpy(data.data(), f, 8);
  for (int i = 0; i < 6; ++i) data[size_t(8 + i)] = char(i + 1);
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"U8","shape":[2,3],"data_offsets":[8,14]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"BF16","shape":[0,4],"data_offsets":[8,8]}})";
  const std::string path = writeST("valid.safetensors", header, data);
  auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->dataSectionOffset(), 8 + header.size());

  const SafetensorsTensor* a = file->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtypeName, "F32");
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->shape, std::vector<int64_t>{2});
  EXPECT_EQ(a->byteSize, 8u);
  EXPECT_EQ(a->fileOffset, 8 + header.size());
  float got[2];
  std::memcpy(got, a->data, 8);
  EXPECT_EQ(got[0], 1.5f);
  EXPECT_EQ(got[1], -2.0f);
  // No copy: the tensor points into the mapping.
  EXPECT_EQ(a->data, file->mapped()->data() + a->fileOffset);

  const SafetensorsTensor* b = file->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::U8);
  EXPECT_EQ(b->shapeStr(), "[2, 3]");
  EXPECT_EQ(b->data[5], 6);
  EXPECT_EQ(file->find("e")->numElements(), 0);
  EXPECT_EQ(file->find("missing"), nullptr);
}

TEST(SafetensorsReader, KnowsDTypesWithoutIRType) {
  const std::string path =
      writeST("f64.safetensors", R"({"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0'));
  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->find("d")->elementSize, 8u);
  EXPECT_FALSE(file->find("d")->dtype.has_value());
}

TEST(SafetensorsReader, FileShorterThanEightBytes) {
  const std::string path = tempPath("short.safetensors");
  writeBytes(path, "abc");
  expectMentions(openError(path), {path, "shorter than the 8-byte header length"});
}

TEST(SafetensorsReader, MissingFile) {
  expectMentions(openError(tempPath("nonexistent.safetensors")), {"nonexistent.safetensors", "cannot open"});
}

TEST(SafetensorsReader, HeaderLengthPastEnd) {
  const std::string path = writeST("past.safetensors", "{}", "", 1000);
  expectMentions(openError(path), {path, "header length 1000", "past the end"});
}

TEST(SafetensorsReader, HeaderNotJson) {
  const std::string path = writeST("badjson.safetensors", R"({"a" {"dtype":"F32"}})", "");
  expectMentions(openError(path), {path, "not valid JSON"});
}

TEST(SafetensorsReader, HeaderNotObject) {
  const std::string path = writeST("array.safetensors", "[1, 2]", "");
  expectMentions(openError(path), {path, "not a JSON object"});
}

TEST(SafetensorsReader, UnknownDType) {
  const std::string path =
      writeST("dtype.safetensors", R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", "xx");
  expectMentions(openError(path), {path, "tensor \"w\"", "unknown dtype \"Q4\"", "BF16"});
}

TEST(SafetensorsReader, BadShapes) {
  for (const std::string shape : {"3", "[2,-1]", "[2.5]", "[\"2\"]"}) {
    const std::string path = writeST("shape.safetensors",
                                     R"({"w":{"dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,2]}})", "xx");
    expectMentions(openError(path), {path, "tensor \"w\"", "shape"});
  }
}

TEST(SafetensorsReader, BadDataOffsets) {
  for (const std::string offs : {"[0]", "[0,1,2]", "[-1,1]", "\"0,2\"", "[0.0,2]"}) {
    const std::string path = writeST("offs.safetensors",
                                     R"({"w":{"dtype":"U8","shape":[2],"data_offsets":)" + offs + "}}", "xx");
    expectMentions(openError(path), {path, "tensor \"w\"", "data_offsets"});
  }
  const std::string path =
      writeST("order.safetensors", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[2,0]}})", "xx");
  expectMentions(openError(path), {path, "tensor \"w\"", "begin > end"});
}

TEST(SafetensorsReader, MissingField) {
  const std::string path = writeST("field.safetensors", R"({"w":{"dtype":"U8","shape":[2]}})", "xx");
  expectMentions(openError(path), {path, "tensor \"w\"", "missing \"data_offsets\""});
}

TEST(SafetensorsReader, WrongSize) {
  const std::string path =
      writeST("size.safetensors", R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}})", "xxxx");
  expectMentions(openError(path), {path, "tensor \"w\"", "wrong size", "needs 6 bytes", "give 4"});
}

TEST(SafetensorsReader, TruncatedData) {
  const std::string path =
      writeST("trunc.safetensors", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "12345678");
  expectMentions(openError(path),
                 {path, "tensor \"w\" ends at byte 16 but the data section has 8 bytes (file truncated?)"});
}

TEST(SafetensorsReader, OverlappingTensors) {
  const std::string path = writeST(
      "overlap.safetensors",
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
      "123456");
  expectMentions(openError(path), {path, "\"a\"", "\"b\"", "overlap"});
}

TEST(SafetensorsReader, MetadataMustBeStrings) {
  const std::string path = writeST("meta.safetensors", R"({"__metadata__":{"n":1}})", "");
  expectMentions(openError(path), {path, "__metadata__", "\"n\""});
}

// Sharded checkpoints: model.safetensors.index.json maps names to shard files.
class ShardedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("bitnetc-st-shards-" + std::string(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto st = [](const std::string& header, const std::string& data) {
      return u64le(header.size()) + header + data;
    };
    writeBytes((dir_ / "s1.safetensors").string(),
               st(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "ab"));
    writeBytes((dir_ / "s2.safetensors").string(),
               st(R"({"y":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})", "c"));
  }
  void writeIndex(const std::string& weightMap) {
    writeBytes((dir_ / "model.safetensors.index.json").string(),
               R"({"metadata":{"total_size":3},"weight_map":)" + weightMap + "}");
  }
  std::string openError() {
    try {
      CheckpointTensors::open(dir_.string());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(ShardedCheckpoint, FindsTensorsAcrossShards) {
  writeIndex(R"({"x":"s1.safetensors","y":"s2.safetensors"})");
  CheckpointTensors ct = CheckpointTensors::open(dir_.string());
  EXPECT_TRUE(ct.sharded());
  EXPECT_EQ(ct.files().size(), 2u);
  ASSERT_NE(ct.find("x"), nullptr);
  ASSERT_NE(ct.find("y"), nullptr);
  EXPECT_EQ(ct.find("x")->data[1], 'b');
  EXPECT_EQ(ct.find("y")->data[0], 'c');
  EXPECT_NE(ct.find("y")->file->path().find("s2.safetensors"), std::string::npos);
  EXPECT_EQ(ct.find("z"), nullptr);
  EXPECT_EQ(ct.names(), (std::vector<std::string>{"x", "y"}));
}

TEST_F(ShardedCheckpoint, MissingShard) {
  writeIndex(R"({"x":"s1.safetensors","y":"s3.safetensors"})");
  expectMentions(openError(), {"model.safetensors.index.json", "shard \"s3.safetensors\"", "\"y\"", "missing"});
}

TEST_F(ShardedCheckpoint, TensorNotInItsShard) {
  writeIndex(R"({"x":"s2.safetensors"})");
  expectMentions(openError(), {"model.safetensors.index.json", "\"x\"", "s2.safetensors", "no such tensor"});
}

TEST_F(ShardedCheckpoint, IndexWithoutWeightMap) {
  writeBytes((dir_ / "model.safetensors.index.json").string(), R"({"metadata":{}})");
  expectMentions(openError(), {"model.safetensors.index.json", "weight_map"});
}

TEST_F(ShardedCheckpoint, BrokenShardNamesShard) {
  writeBytes((dir_ / "s2.safetensors").string(), "xy");
  writeIndex(R"({"x":"s1.safetensors","y":"s2.safetensors"})");
  expectMentions(openError(), {"s2.safetensors", "shorter than the 8-byte header length"});
}

TEST(CheckpointTensors, EmptyFolder) {
  fs::path dir = fs::path(::testing::TempDir()) / ("bitnetc-st-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    CheckpointTensors::open(dir.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    expectMentions(e.what(), {dir.string(), "no model.safetensors"});
  }
  fs::remove_all(dir);  // tests leave nothing behind in /tmp
}

}  // namespace
}  // namespace bitnetc
