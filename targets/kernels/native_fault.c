/* The native kernel library (unit tests) runs without deliberate bugs. In a compiled model the
 * generated code defines this constant instead (bitnetc --inject-fault, test-only). */
#include "targets/kernels/bitnet_kernels.h"

const int64_t bitnet__fault = BITNET_FAULT_NONE;
