// bitnetc's command line (LLVM-style options; see docs/CLI.md).
#pragma once
#include <cstdint>
#include <string>

#include "compiler/pass/PassManager.h"
#include "frontends/ModelInput.h"
#include "targets/Backend.h"

namespace bitnetc::driver {

struct DriverOptions {
  std::string input;
  std::string output;
  std::string triple, cpu, attrs;  // -mtriple, -mcpu, -mattr
  int optLevel = 3;
  std::string name;                // --name; "" = from the output file's name
  bool emitGiven = false;
  target::EmitKind emit = target::EmitKind::Lib;
  target::WeightsMode weights = target::WeightsMode::Embed;
  int64_t maxContext = 0;
  ModelInputOptions model;         // --dim, --max-seq, --const-input (ONNX models)
  int64_t maxBatch = 512;
  std::string kernel;
  target::LmHead lmHead = target::LmHead::Keep;  // --lm-head=bf16|int8
  int64_t fault = 0;               // hidden --inject-fault=NAME (test-only): BITNET_FAULT_*
  bool verbose = false;
  PassManagerOptions passes;       // --print-ir-after-all, --time-passes, ... for the IR pipeline
  bool help = false, version = false;
};

extern const char* const kUsage;

// Throws bitnetc::Error on a bad option (the message names it).
DriverOptions parseDriverOptions(int argc, char** argv);

}  // namespace bitnetc::driver
