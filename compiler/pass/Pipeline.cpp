#include "compiler/pass/Pipeline.h"

namespace bitnetc {

std::string_view defaultPipeline() {
  // cse first: merging duplicate act_quants leaves the copies dead for dce.
  return "cse,dce";
}

}  // namespace bitnetc
