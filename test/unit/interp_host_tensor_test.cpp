// HostTensor::zeros on shapes from untrusted files: sizes that overflow or cannot be allocated
// are errors, never a wrapped size.
#include <gtest/gtest.h>

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Error.h"

using namespace bitnetc;

namespace {

TEST(HostTensor, ZerosHasTheRequestedSize) {
  HostTensor t = HostTensor::zeros(DType::F32, {3, 5});
  EXPECT_EQ(t.numElements(), 15);
  EXPECT_EQ(t.bytes.size(), 60u);
}

TEST(HostTensor, ZerosRefusesAnOverflowingShape) {
  // 2^62 x 2 x 16 floats: the element count wraps int64 to 0 without the check.
  try {
    HostTensor::zeros(DType::F32, {int64_t(1) << 62, 2, 16});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[4611686018427387904, 2, 16] is too large to allocate"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(HostTensor::zeros(DType::F32, {int64_t(1) << 61}), Error);  // 2^63 bytes
  EXPECT_THROW(HostTensor::zeros(DType::F32, {2, -1}), Error);
}

}  // namespace
