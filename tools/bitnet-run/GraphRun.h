// bitnet-run's mode for generic graphs: reads the inputs (.npy / TensorProto .pb), runs the
// graph once (or --bench times), prints a summary of the outputs, writes them (--output-dir) and
// compares them with expected values (--compare-pb, --expect). Returns the exit status: 1 when
// an output differs.
#pragma once
#include "tools/bitnet-run/Options.h"

namespace bitnetc::run {

int runGraph(const RunOptions& options);

}  // namespace bitnetc::run
