// Compares an output with its expected value as the ONNX backend tests do
// (numpy.testing.assert_allclose): same element type and shape; floats within
// |actual - expected| <= atol + rtol * |expected| (NaN matches NaN, infinities must be equal);
// integers and bools exactly.
#pragma once
#include <cstdint>
#include <string>

#include "compiler/interp/Interpreter.h"

namespace bitnetc::run {

struct Comparison {
  bool ok = true;
  std::string reason;     // why not: type, shape, or "3 of 12 values differ, first at [1, 0]: ..."
  double maxAbsDiff = 0;  // over the finite float elements
  int64_t mismatches = 0;
};

Comparison compareTensors(const HostTensor& actual, const HostTensor& expected, double rtol, double atol);

// Element i as a double (any element code); for summaries.
double elementAsDouble(const HostTensor& t, int64_t i);

}  // namespace bitnetc::run
