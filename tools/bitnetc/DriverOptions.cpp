#include "tools/bitnetc/DriverOptions.h"

#include <filesystem>

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Error.h"
#include "compiler/support/ParseInt.h"
#include "targets/kernels/bitnet_kernels.h"

namespace bitnetc::driver {

const char* const kUsage =
    "usage: bitnetc MODEL -o OUT [options]\n"
    "  MODEL   a checkpoint folder (config.json + model.safetensors), an ONNX model (.onnx) or a\n"
    "          .bir file\n"
    "  -o OUT  the output; its extension picks --emit when not given (.so lib, .a static, .o obj,\n"
    "          .ll llvm-ir, .s asm, .bir bir)\n"
    "options:\n"
    "  -O0 -O1 -O2 -O3           optimization level (default -O3)\n"
    "  -mtriple=T -mcpu=C -mattr=+a,-b\n"
    "                            target (default: the host, -mcpu=native); e.g. -mcpu=x86-64-v3,\n"
    "                            -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1\n"
    "  --name=PREFIX             prefix of every exported symbol (default: OUT's file name)\n"
    "  --emit=lib|static|obj|llvm-ir|asm|bir\n"
    "                            lib: a .so (with OUT.h); static: a .a (with OUT.h); obj: the object\n"
    "                            without runtime link; llvm-ir/asm: optimized code; bir: the IR after\n"
    "                            the target passes\n"
    "  --weights=embed|external  weights inside the library (default) or in OUT.weights beside it\n"
    "  --max-context=N           context length of the compiled model (default: the config's)\n"
    "  --dim NAME=N              ONNX models: bound of the dynamic dim NAME (a dim_param)\n"
    "  --max-seq=N               ONNX models: bound of every other dynamic dim (default 512)\n"
    "  --const-input NAME=FILE   ONNX models: the graph input NAME is the TensorProto in FILE\n"
    "  --max-batch=N             tokens per forward call; longer prefills are chunked (default 512)\n"
    "  --kernel=SPEC             force bitlinear kernels: NAME, or PATTERN=NAME per layer\n"
    "  --lm-head=bf16|int8       LM head weights: as in the checkpoint (bf16, exact; default) or\n"
    "                            int8 per row with f32 row scales (half the bytes; docs/PERFORMANCE.md)\n"
    "  --print-ir-after-all      print the IR after each pass and the LLVM IR after codegen and O3\n"
    "  --time-passes             time each IR pass\n"
    "  -v                        print each stage and its time\n"
    "  --version, -h/--help\n";

namespace {


target::EmitKind emitFromName(const std::string& name) {
  using target::EmitKind;
  if (name == "lib") return EmitKind::Lib;
  if (name == "static") return EmitKind::Static;
  if (name == "obj") return EmitKind::Obj;
  if (name == "llvm-ir") return EmitKind::LlvmIr;
  if (name == "asm") return EmitKind::Asm;
  if (name == "bir") return EmitKind::Bir;
  fail("--emit: unknown kind '", name, "' (lib, static, obj, llvm-ir, asm, bir)");
}

// --inject-fault=NAME (test-only, not in --help): the interpreter's fault names, and the kernels'
// numbering of the same faults.
int64_t kernelFault(const std::string& name) {
  static_assert(int(Fault::None) == BITNET_FAULT_NONE && int(Fault::SkipActQuant) == BITNET_FAULT_SKIP_ACT_QUANT &&
                int(Fault::PerTensorActQuant) == BITNET_FAULT_PER_TENSOR_ACT_QUANT &&
                int(Fault::InterleavedPacking) == BITNET_FAULT_INTERLEAVED_PACKING &&
                int(Fault::DivideScale) == BITNET_FAULT_DIVIDE_SCALE && int(Fault::GqaModulo) == BITNET_FAULT_GQA_MODULO &&
                int(Fault::InterleavedRope) == BITNET_FAULT_INTERLEAVED_ROPE &&
                int(Fault::CacheAtZero) == BITNET_FAULT_CACHE_AT_ZERO,
                "targets/kernels/bitnet_kernels.h numbers the faults as compiler/interp/Interpreter.h");
  return int64_t(faultFromName(name));
}

target::EmitKind emitFromExtension(const std::string& output) {
  using target::EmitKind;
  const std::string ext = std::filesystem::path(output).extension().string();
  if (ext == ".a") return EmitKind::Static;
  if (ext == ".o") return EmitKind::Obj;
  if (ext == ".ll") return EmitKind::LlvmIr;
  if (ext == ".s") return EmitKind::Asm;
  if (ext == ".bir") return EmitKind::Bir;
  return EmitKind::Lib;
}

}  // namespace

DriverOptions parseDriverOptions(int argc, char** argv) {
  DriverOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    // "--flag=value" or "--flag value" (and "-mcpu=x" or "-mcpu x").
    auto valueOf = [&](const std::string& flag, std::string& out) {
      if (arg == flag) {
        if (i + 1 >= argc) fail(flag, " needs a value");
        out = argv[++i];
        return true;
      }
      if (arg.rfind(flag + "=", 0) == 0) {
        out = arg.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    std::string v;
    if (o.passes.parseFlag(arg) || o.model.parseFlag(argc, argv, i)) continue;
    if (arg == "-h" || arg == "--help") o.help = true;
    else if (arg == "--version") o.version = true;
    else if (arg == "-v") o.verbose = true;
    else if (arg == "-O0" || arg == "-O1" || arg == "-O2" || arg == "-O3") o.optLevel = arg[2] - '0';
    else if (arg.rfind("-O", 0) == 0) fail("unknown optimization level '", arg, "' (-O0 to -O3)");
    else if (valueOf("-o", o.output)) continue;
    else if (valueOf("-mtriple", o.triple) || valueOf("--target", o.triple)) continue;
    else if (valueOf("-mcpu", o.cpu) || valueOf("-mattr", o.attrs)) continue;
    else if (valueOf("--name", o.name)) continue;
    else if (valueOf("--kernel", o.kernel)) continue;
    else if (valueOf("--inject-fault", v)) o.fault = kernelFault(v);
    else if (valueOf("--lm-head", v)) o.lmHead = target::lmHeadFromName(v);
    else if (valueOf("--emit", v)) {
      o.emit = emitFromName(v);
      o.emitGiven = true;
    } else if (valueOf("--weights", v)) {
      if (v == "embed") o.weights = target::WeightsMode::Embed;
      else if (v == "external") o.weights = target::WeightsMode::External;
      else fail("--weights: unknown mode '", v, "' (embed, external)");
    } else if (valueOf("--max-context", v)) o.maxContext = parsePositiveInt("--max-context", v);
    else if (valueOf("--max-batch", v)) o.maxBatch = parsePositiveInt("--max-batch", v);
    else if (arg.size() > 1 && arg[0] == '-') fail("unknown option '", arg, "' (see bitnetc --help)");
    else if (!o.input.empty()) fail("more than one input ('", o.input, "' and '", arg, "')");
    else o.input = arg;
  }
  if (o.help || o.version) return o;
  if (o.input.empty()) fail("no input model (see bitnetc --help)");
  if (o.output.empty()) fail("no output: give -o OUT");
  if (!o.emitGiven) o.emit = emitFromExtension(o.output);
  return o;
}

}  // namespace bitnetc::driver
