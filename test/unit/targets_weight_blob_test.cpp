// The weight blob writers hash while they stream: their hash is the blob's bitnet_hash64, the
// one hashWeightBlob computes and the runtime checks (verify_weights).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "frontends/safetensors/Import.h"
#include "runtime/abi/bitnet_abi.h"
#include "targets/WeightBlob.h"

namespace bitnetc::target {
namespace {

std::vector<uint8_t> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

TEST(WeightBlob, WritersReturnTheBlobHash) {
  auto m = importCheckpoint(BITNETC_SOURCE_DIR "/test/models/bitnet-tiny-trained", {});
  const WeightBlobPlan plan = planWeightBlob(*m);
  ASSERT_GT(plan.entries.size(), 2u);
  const uint64_t hash = hashWeightBlob(plan);
  auto blob = buildWeightBlobInMemory(plan);
  EXPECT_EQ(hash, bitnet_hash64(blob->data, blob->size));

  const std::string dir = ::testing::TempDir();
  const std::string file = dir + "/bitnetc-blob-test.weights";
  EXPECT_EQ(writeWeightsFile(plan, "tiny", file), hash);
  const std::vector<uint8_t> bytes = readAll(file);
  ASSERT_EQ(bytes.size(), BITNET_WEIGHTS_DATA_OFFSET + plan.totalBytes);
  bitnet_weights_header header;
  std::memcpy(&header, bytes.data(), sizeof header);
  EXPECT_EQ(uint64_t(header.weight_hash), hash);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + BITNET_WEIGHTS_DATA_OFFSET, bytes.end()),
            std::vector<uint8_t>(blob->data, blob->data + blob->size));

  const std::string object = dir + "/bitnetc-blob-test.o";
  EXPECT_EQ(writeWeightsObject(plan, "x86_64-unknown-linux-gnu", "tiny__weights", object), hash);
  std::remove(file.c_str());
  std::remove(object.c_str());
}

}  // namespace
}  // namespace bitnetc::target
