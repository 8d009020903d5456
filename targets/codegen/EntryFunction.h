// One entry function per IR function: `i64 @bitnet__fn_<name>(ptr %call)` (bitnet_entry_fn).
// It first refuses sizes the memory plan cannot hold (a dynamic dim over its planning bound,
// state_rows over the states' rows: BITNET_ERR_INVALID_ARGUMENT), then calls one internal
// function per op, `i64 @bitnet__op_<name>.<first result>(ptr %call)`,
// which fills a bitnet_kernel_args on the stack (operand and result tensors with their data
// pointers and actual dims, attributes as KernelAbi.h encodes them) and returns the status of
// the op's kernel; the entry returns the first non-zero status at once. Outputs that no op writes
// directly (a function input, state or weight, or a value listed twice) are copied at the end.
#pragma once
#include <string>

#include "compiler/ir/IR.h"
#include "targets/WeightBlob.h"
#include "targets/codegen/MemoryPlan.h"

namespace llvm {
class Function;
class Module;
}  // namespace llvm

namespace bitnetc::target {

std::string entrySymbol(const Function& function);  // "bitnet__fn_<name>"

llvm::Function* emitEntryFunction(llvm::Module& out, const Module& module,
                                  const Function& function, const MemoryPlan& plan,
                                  const WeightBlobPlan& weights);

}  // namespace bitnetc::target
