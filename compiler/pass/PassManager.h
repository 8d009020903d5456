// Runs a pipeline of passes over a module, verifying after each one. Options mirror MLIR's:
//   --passes=a,b,c           the pipeline
//   --print-ir-after-all     print the module to the log after every pass
//   --print-ir-after=NAME    ... after each run of the pass NAME (may be given several times)
//   --time-passes            a table of wall time per pass (and the verifier) on the log
//   --remarks                passes explain their decisions on the log ("remark: PASS: ...";
//                            bitnet-opt -v and bitnetc -v turn it on)
#pragma once
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/pass/Pass.h"

namespace bitnetc {

struct PassManagerOptions {
  std::vector<std::string> pipeline;  // pass names, in order
  bool printAfterAll = false;
  std::vector<std::string> printAfter;
  bool timePasses = false;
  bool remarks = false;
  bool verifyEach = true;

  // Consumes one command-line argument if it is one of the options above; returns false if not.
  // Throws on a malformed value (e.g. "--passes=" with an empty name).
  bool parseFlag(std::string_view arg);
};

// Splits "a,b,c" into names; throws on an empty name.
std::vector<std::string> splitPipeline(std::string_view list);

class PassManager {
 public:
  // Creates the passes named in options.pipeline (throws on an unknown name, also for
  // --print-ir-after names). `log` receives printed IR and the timing table (stderr in tools).
  PassManager(PassManagerOptions options, std::ostream& log);
  ~PassManager();
  void addPass(std::unique_ptr<Pass> pass);
  // Runs all passes; a verifier failure after a pass is reported as "after pass 'x': ...".
  void run(Module& module);

 private:
  PassManagerOptions options_;
  std::ostream& log_;
  std::vector<std::unique_ptr<Pass>> passes_;
};

}  // namespace bitnetc
