// External weights (--weights=external): the runtime maps the .weights file and checks it
// against the model: missing, too small, wrong magic / ABI / size / hash, truncated, trailing
// bytes, corrupt bytes (verify_weights): each a clear BITNET_ERR_WEIGHTS.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime_test_util.h"

namespace {

using namespace bitnetc::test;
namespace fake = bitnetc::test::fake;
namespace fs = std::filesystem;

class RuntimeWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("bitnetc-runtime-weights-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "fake.weights").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  bitnet_weights_header goodHeader() const {
    bitnet_weights_header h{};
    std::memcpy(h.magic, BITNET_WEIGHTS_MAGIC, 8);
    h.abi_version = BITNET_ABI_VERSION;
    h.weight_bytes = fake::kWeightBytes;
    h.weight_hash = int64_t(bitnet_hash64(fake::weights(), fake::kWeightBytes));
    std::snprintf(h.model_name, sizeof h.model_name, "fake");
    return h;
  }
  // The header, zeros up to BITNET_WEIGHTS_DATA_OFFSET, then blob.
  void write(const bitnet_weights_header& h, const std::vector<uint8_t>& blob) const {
    std::vector<char> bytes(BITNET_WEIGHTS_DATA_OFFSET, 0);
    std::memcpy(bytes.data(), &h, sizeof h);
    bytes.insert(bytes.end(), blob.begin(), blob.end());
    std::ofstream(path_, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  }
  std::vector<uint8_t> goodBlob() const {
    return std::vector<uint8_t>(fake::weights(), fake::weights() + fake::kWeightBytes);
  }
  // Opens the external-weights variant with options->weights_path = path_.
  bitnet_status open(std::string& error, int verify = 0, ModelPtr* keep = nullptr) {
    desc_ = fake::externalWeights("fake.weights");
    bitnet_model_options options{sizeof options, path_.c_str(), verify};
    bitnet_model* m = nullptr;
    char buffer[1024] = "";
    bitnet_status status = bitnet_rt_model_open(&desc_, &options, &m, buffer, sizeof buffer);
    error = buffer;
    if (status != BITNET_OK) {
      EXPECT_EQ(m, nullptr);
    }
    if (keep) keep->reset(m);
    else bitnet__public_model_close(m);
    return status;
  }

  fs::path dir_;
  std::string path_;
  bitnet_model_desc desc_;
};

TEST_F(RuntimeWeights, GoodFileGivesTheSameLogitsAsEmbedded) {
  write(goodHeader(), goodBlob());
  std::string error;
  for (int verify : {0, 1}) {
    ModelPtr m;
    ASSERT_EQ(open(error, verify, &m), BITNET_OK) << error;
    bitnet_model_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(bitnet__public_model_info(m.get(), &info), BITNET_OK);
    EXPECT_EQ(info.weights_external, 1);
    EXPECT_EQ(info.weight_bytes, fake::kWeightBytes);
    SessionPtr s = createSession(m.get());
    std::vector<int32_t> history = someTokens(9, 21);
    EXPECT_EQ(evalAll(s.get(), history), fake::expectedRows(history, 0, 9));
  }
}

TEST_F(RuntimeWeights, MissingFile) {
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "cannot open the weights file " + path_ + " of model 'fake'")) << error;
  EXPECT_TRUE(contains(error, "No such file or directory")) << error;
}

TEST_F(RuntimeWeights, MissingFileBesideTheLibrary) {
  // No weights_path: the runtime looks beside the binary that holds it (here the test binary).
  static const std::string name = "bitnetc-no-such-" + std::to_string(getpid()) + ".weights";
  bitnet_model_desc d = fake::externalWeights(name.c_str());
  bitnet_model* m = nullptr;
  char error[1024];
  EXPECT_EQ(bitnet_rt_model_open(&d, nullptr, &m, error, sizeof error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "/" + name + " of model 'fake'")) << error;
  EXPECT_TRUE(contains(error, "looks for it beside itself")) << error;
  EXPECT_TRUE(contains(error, "weights_path")) << error;
}

TEST_F(RuntimeWeights, FoundBesideTheLibrary) {
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  const std::string name = "bitnetc-runtime-test-" + std::to_string(getpid()) + ".weights";
  path_ = (exe.parent_path() / name).string();
  write(goodHeader(), goodBlob());
  bitnet_model_desc d = fake::externalWeights(name.c_str());
  bitnet_model* m = nullptr;
  char error[1024] = "";
  bitnet_status status = bitnet_rt_model_open(&d, nullptr, &m, error, sizeof error);
  fs::remove(path_);
  ASSERT_EQ(status, BITNET_OK) << error;
  ModelPtr owned(m);
  SessionPtr s = createSession(m);
  std::vector<int32_t> history = someTokens(5, 22);
  // The file is unlinked; the mapping stays valid.
  EXPECT_EQ(evalAll(s.get(), history), fake::expectedRows(history, 0, 5));
}

TEST_F(RuntimeWeights, AbsoluteFileNameInTheDescriptor) {
  write(goodHeader(), goodBlob());
  bitnet_model_desc d = fake::externalWeights(path_.c_str());
  ModelPtr m = openModel(d);
  EXPECT_NE(m, nullptr);
}

TEST_F(RuntimeWeights, TooSmallFile) {
  std::ofstream(path_, std::ios::binary) << "BITNETW1";
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_EQ(error, "the weights file " + path_ + " has 8 bytes: too small for a bitnetc weights file");
}

TEST_F(RuntimeWeights, WrongMagic) {
  bitnet_weights_header h = goodHeader();
  std::memcpy(h.magic, "GGUF\0\0\0\0", 8);
  write(h, goodBlob());
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_EQ(error, path_ + " is not a bitnetc weights file (it does not start with \"BITNETW1\")");
}

TEST_F(RuntimeWeights, WrongAbiVersion) {
  bitnet_weights_header h = goodHeader();
  h.abi_version = 99;
  write(h, goodBlob());
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "has ABI version 99, this runtime reads version")) << error;
}

TEST_F(RuntimeWeights, WrongSize) {
  bitnet_weights_header h = goodHeader();
  h.weight_bytes = fake::kWeightBytes + 64;
  std::snprintf(h.model_name, sizeof h.model_name, "other");
  std::vector<uint8_t> blob = goodBlob();
  blob.resize(blob.size() + 64);
  write(h, blob);
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_EQ(error, "the weights file " + path_ + " holds 397 bytes of weights (model 'other'), model "
                   "'fake' expects 333: a weights file of another model");
}

TEST_F(RuntimeWeights, WrongHash) {
  bitnet_weights_header h = goodHeader();
  h.weight_hash ^= 0x10;
  write(h, goodBlob());
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "has weight hash 0x")) << error;
  EXPECT_TRUE(contains(error, "written by another compilation")) << error;
}

TEST_F(RuntimeWeights, Truncated) {
  std::vector<uint8_t> blob = goodBlob();
  blob.resize(blob.size() - 10);
  write(goodHeader(), blob);
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_EQ(error, "the weights file " + path_ + " has 4419 bytes, expected 4429 (4096 header + 333 "
                   "weights): truncated");
}

TEST_F(RuntimeWeights, TrailingBytes) {
  std::vector<uint8_t> blob = goodBlob();
  blob.push_back(0);
  write(goodHeader(), blob);
  std::string error;
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "trailing bytes")) << error;
}

TEST_F(RuntimeWeights, CorruptBytesAreFoundByVerify) {
  std::vector<uint8_t> blob = goodBlob();
  blob[200] ^= 0x40;
  write(goodHeader(), blob);
  std::string error;
  EXPECT_EQ(open(error, 0), BITNET_OK) << error;  // header and size only
  EXPECT_EQ(open(error, 1), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, path_ + ": the weight bytes do not match their hash")) << error;
  EXPECT_TRUE(contains(error, "corrupt")) << error;
}

TEST_F(RuntimeWeights, PathErrors) {
  std::string error;
  path_ = dir_.string();  // a directory
  EXPECT_EQ(open(error), BITNET_ERR_WEIGHTS);
  EXPECT_TRUE(contains(error, "is not a regular file")) << error;
  path_ = "";
  EXPECT_EQ(open(error), BITNET_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(error, "model_open: options->weights_path is empty");
  bitnet_model_desc noName = fake::externalWeights(nullptr);
  bitnet_model* m = nullptr;
  char buffer[512];
  EXPECT_EQ(bitnet_rt_model_open(&noName, nullptr, &m, buffer, sizeof buffer), BITNET_ERR_INTERNAL);
  EXPECT_TRUE(contains(buffer, "no weights file name")) << buffer;
}

}  // namespace
