// LLVM's side of a target: the TargetMachine for a TargetInfo, the O-level pipeline with its
// TTI, and object/assembly emission.
#pragma once
#include <memory>
#include <string>

#include "targets/TargetInfo.h"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace bitnetc::target {

// largeData: the module's data may exceed 2 GiB (x86-64: CodeModel::Medium).
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const TargetInfo& target, int optLevel,
                                                         bool largeData, bool forJit = false);

// Sets the module's triple and data layout, and every function's target-cpu/target-features to
// the target's (bitcode libraries are compiled for a generic CPU).
void retargetModule(llvm::Module& module, llvm::TargetMachine& tm);

// Runs the default<O0..O3> module pipeline with the target's TTI.
void optimizeModule(llvm::Module& module, llvm::TargetMachine& tm, int optLevel);

enum class MachineOutput { Object, Assembly };
void emitMachineCode(llvm::Module& module, llvm::TargetMachine& tm, MachineOutput kind,
                     const std::string& path);

}  // namespace bitnetc::target
