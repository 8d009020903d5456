// The backend pipeline in one place (see Backend.h for the stages).
#include "targets/Backend.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "compiler/ir/Printer.h"
#include "compiler/support/Error.h"
#include "targets/CompileModel.h"
#include "targets/EmbeddedBlobs.h"
#include "targets/ModelHeader.h"
#include "targets/SharedLibraryLink.h"
#include "targets/StagedOutputs.h"
#include "targets/StaticArchive.h"
#include "targets/TargetMachine.h"
#include "targets/TempFiles.h"
#include "targets/WeightBlob.h"

namespace bitnetc::target {
namespace {

// output "dir/tiny.so" -> "dir/tiny" (the header and weights file go beside it).
std::string withoutExtension(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  return dot == std::string::npos || (slash != std::string::npos && dot < slash) ? path
                                                                                 : path.substr(0, dot);
}

std::string baseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) fail("cannot write ", path);
}

void writeLlvmIr(const llvm::Module& m, const std::string& path) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) fail("cannot write ", path, ": ", ec.message());
  m.print(out, nullptr);
}

}  // namespace

void compileModule(Module& module, const BackendOptions& options, EmitKind emit,
                   const std::string& output) {
  StageTimer stage(options.progress);
  // Every file is written under a temporary name and renamed at the end (StagedOutputs.h).
  StagedOutputs outputs;
  runTargetPasses(module, options);
  if (emit == EmitKind::Bir) {
    std::ostringstream text;
    printModule(module, text);
    writeText(outputs.stage(output), text.str());
    outputs.commit();
    return;
  }
  const std::string stemPath = withoutExtension(output);
  const bool external = options.weights == WeightsMode::External;
  const std::string weightsFile = stemPath + ".weights";

  // The weights are read once: written (object or file) and hashed in the same pass, before
  // codegen, which puts the hash into the descriptor. Text outputs only hash them.
  const bool writesWeights = emit == EmitKind::Lib || emit == EmitKind::Static || emit == EmitKind::Obj;
  const WeightBlobPlan plan = planWeightBlob(module);
  TempFiles temp;
  LinkInputs inputs;
  uint64_t hash = 0;
  if (!writesWeights) {
    stage.begin("hash weights");
    hash = hashWeightBlob(plan);
  } else if (external) {
    stage.begin("write weights file");
    hash = writeWeightsFile(plan, options.prefix, outputs.stage(weightsFile));
  } else {
    stage.begin("write weights object");
    // --emit=obj: beside the model object; a library or archive: an input of the link.
    const std::string object = emit == EmitKind::Obj ? outputs.stage(stemPath + ".weights.o")
                                                     : temp.path("weights.o");
    hash = writeWeightsObject(plan, options.target.triple, options.prefix + "__weights", object);
    if (emit != EmitKind::Obj) inputs.objects.push_back(object);
  }
  releaseWeightPages(plan);
  stage.end();

  llvm::LLVMContext context;
  CompiledModel compiled = buildModelModule(module, plan, hash, options, context,
                                            external ? baseName(weightsFile) : "");
  llvm::Module& m = *compiled.module;
  if (emit == EmitKind::LlvmIr) {
    writeLlvmIr(m, outputs.stage(output));
    outputs.commit();
    return;
  }
  if (emit == EmitKind::Asm) {
    stage.begin("codegen (asm)");
    emitMachineCode(m, *compiled.machine, MachineOutput::Assembly, outputs.stage(output));
    stage.end();
    outputs.commit();
    return;
  }
  const std::string object = emit == EmitKind::Obj ? outputs.stage(output) : temp.path("model.o");
  stage.begin("codegen (object)");
  emitMachineCode(m, *compiled.machine, MachineOutput::Object, object);
  stage.end();
  if (emit == EmitKind::Obj) {
    outputs.commit();
    return;
  }
  inputs.objects.insert(inputs.objects.begin(), object);
  const bool tokenizer = compiled.hasTokenizer && options.target.arch == Arch::X86_64;
  if (tokenizer) {
    auto archive = embeddedBlob("tokenizer_shim_x86_64");
    if (!archive) fail("internal: the tokenizer archive is not embedded in bitnetc");
    inputs.tokenizerArchive = temp.path("tokenizer.a");
    writeText(inputs.tokenizerArchive, std::string(*archive));
  }
  if (emit == EmitKind::Lib) {
    stage.begin("link (lld)");
    linkSharedLibrary(options.target, inputs, outputs.stage(output), baseName(output));
    stage.end();
  } else {
    stage.begin("archive");
    writeStaticArchive(inputs, outputs.stage(output));
    stage.end();
  }
  writeText(outputs.stage(stemPath + ".h"), generateModelHeader(module, options, emit, baseName(output)));
  outputs.commit();
}

}  // namespace bitnetc::target
