#include "targets/codegen/EntryFunction.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "compiler/support/Error.h"
#include "targets/codegen/AbiTypes.h"
#include "targets/codegen/KernelAbi.h"

namespace bitnetc::target {

std::string entrySymbol(const Function& function) { return "bitnet__fn_" + function.name(); }

namespace {

// Every field of the ABI structs is 8 bytes and 8-aligned; say so explicitly, since the data
// layout is only set later by the backend.
const llvm::Align kField(8);

class EntryEmitter {
 public:
  EntryEmitter(llvm::Module& out, const Module& module, const Function& function,
               const MemoryPlan& plan, const WeightBlobPlan& weights)
      : out_(out), ctx_(out.getContext()), b_(ctx_), module_(module), function_(function),
        plan_(plan), weights_(weights) {}

  llvm::Function* emit();

 private:
  // What one generated function has loaded from its bitnet_call so far (all straight-line code
  // in one block, or loads placed before their uses in the same block).
  struct Scope {
    llvm::Value* call = nullptr;
    std::map<unsigned, llvm::Value*> fields;        // call-> field
    std::map<std::string, llvm::Value*> dims;       // dynamic dim name -> current value
    std::map<const Value*, llvm::Value*> pointers;  // data pointer of a value
  };

  llvm::Type* i64() { return b_.getInt64Ty(); }
  llvm::Type* ptr() { return b_.getPtrTy(); }
  llvm::Value* c64(int64_t v) { return b_.getInt64(uint64_t(v)); }
  void store(llvm::Value* v, llvm::Value* p) { b_.CreateAlignedStore(v, p, kField); }
  llvm::Function* newFunction(const std::string& name, llvm::GlobalValue::LinkageTypes linkage);

  llvm::Value* callField(unsigned field);
  llvm::Value* element(unsigned field, uint64_t i, const std::string& name);
  llvm::Value* dynamicDim(const std::string& name);
  llvm::Value* dimValue(const Value& v, size_t i);
  llvm::Value* dataPointer(const Value& v);
  llvm::Value* actualBytes(const Value& v);
  void fillTensor(llvm::Value* array, llvm::ArrayType* arrayType, unsigned index, const Value& v);
  llvm::Value* constantArray(llvm::Type* elem, llvm::ArrayRef<llvm::Constant*> values,
                             const std::string& name);
  llvm::Function* emitOpFunction(const Op& op, const std::string& label);
  void emitOutputCopies();
  void emitCallChecks(llvm::Function* entry);
  void emitCheck(llvm::Function* entry, llvm::Value* value, int64_t bound, const std::string& what);

  llvm::Module& out_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  const Module& module_;
  const Function& function_;
  const MemoryPlan& plan_;
  const WeightBlobPlan& weights_;
  Scope scope_;
};

llvm::Function* EntryEmitter::newFunction(const std::string& name,
                                          llvm::GlobalValue::LinkageTypes linkage) {
  // Entry symbols are exact; an op function's name may get a suffix from LLVM if taken.
  if (linkage == llvm::GlobalValue::ExternalLinkage && out_.getNamedValue(name))
    fail("@", function_.name(), ": symbol ", name, " already defined");
  auto* type = llvm::FunctionType::get(i64(), {ptr()}, false);
  auto* fn = llvm::Function::Create(type, linkage, name, out_);
  fn->addParamAttr(0, llvm::Attribute::NoUndef);
  fn->addParamAttr(0, llvm::Attribute::NonNull);
  fn->addParamAttr(0, llvm::Attribute::getWithDereferenceableBytes(ctx_, abi::call::NumFields * 8));
  fn->getArg(0)->setName("call");
  scope_ = Scope{fn->getArg(0), {}, {}, {}};
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  return fn;
}

// The entry calls one function per op and returns the first non-zero status.
llvm::Function* EntryEmitter::emit() {
  std::vector<std::pair<llvm::Function*, std::string>> opFunctions;
  for (size_t i = 0; i < function_.ops().size(); ++i) {
    const Op& op = *function_.ops()[i];
    const std::string label = op.results.empty() ? "op" + std::to_string(i) : op.results[0]->name;
    opFunctions.push_back({emitOpFunction(op, label), label});
  }

  llvm::Function* fn = newFunction(entrySymbol(function_), llvm::GlobalValue::ExternalLinkage);
  emitCallChecks(fn);
  auto* failBlock = llvm::BasicBlock::Create(ctx_, "fail", fn);
  llvm::IRBuilder<> failBuilder(failBlock);
  llvm::PHINode* failStatus = failBuilder.CreatePHI(i64(), 0, "status");
  failBuilder.CreateRet(failStatus);
  for (const auto& [opFn, label] : opFunctions) {
    llvm::Value* status = b_.CreateCall(opFn, {scope_.call}, "st." + label);
    auto* next = llvm::BasicBlock::Create(ctx_, label + ".ok", fn);
    b_.CreateCondBr(b_.CreateICmpNE(status, c64(0)), failBlock, next);
    failStatus->addIncoming(status, b_.GetInsertBlock());
    b_.SetInsertPoint(next);
  }
  emitOutputCopies();
  b_.CreateRet(c64(0));
  if (failStatus->getNumIncomingValues() == 0) failBlock->eraseFromParent();  // no op
  else failBlock->moveAfter(&fn->back());
  return fn;
}

llvm::Value* EntryEmitter::callField(unsigned field) {
  static const char* const names[] = {"dims",    "inputs",  "outputs", "states", "state_rows",
                                      "scratch", "weights", "pool",    "error",  "error_size"};
  auto& v = scope_.fields[field];
  if (!v) {
    llvm::Type* t = field == abi::call::StateRows || field == abi::call::ErrorSize ? i64() : ptr();
    v = b_.CreateAlignedLoad(t, b_.CreateStructGEP(abi::callType(ctx_), scope_.call, field),
                             kField, names[field]);
  }
  return v;
}

// Element i of one of call's pointer arrays (inputs, outputs, states).
llvm::Value* EntryEmitter::element(unsigned field, uint64_t i, const std::string& name) {
  return b_.CreateAlignedLoad(ptr(), b_.CreateConstInBoundsGEP1_64(ptr(), callField(field), i),
                              kField, name);
}

// The current size of dim i of v: static, the call's value of a dynamic dim, or for a state's
// leading dim the session's cache capacity.
llvm::Value* EntryEmitter::dimValue(const Value& v, size_t i) {
  if (v.kind == Value::Kind::State && i == 0) return callField(abi::call::StateRows);
  const Dim& d = v.type.dims[i];
  return d.isDynamic() ? dynamicDim(d.name) : c64(d.size);
}

// call->dims[i] for the module's dynamic dim `name`.
llvm::Value* EntryEmitter::dynamicDim(const std::string& name) {
  auto& value = scope_.dims[name];
  if (!value) {
    const auto& dims = module_.dims();
    auto it = std::find_if(dims.begin(), dims.end(), [&](const auto& x) { return x.first == name; });
    if (it == dims.end()) fail("@", function_.name(), ": dynamic dim ?", name, " is not declared");
    value = b_.CreateAlignedLoad(
        i64(), b_.CreateConstInBoundsGEP1_64(i64(), callField(abi::call::Dims), it - dims.begin()),
        kField, "dim." + name);
  }
  return value;
}

llvm::Value* EntryEmitter::dataPointer(const Value& v) {
  auto& p = scope_.pointers[&v];
  if (p) return p;
  auto indexOf = [](const std::vector<Value*>& list, const Value& x) -> uint64_t {
    return uint64_t(std::find(list.begin(), list.end(), &x) - list.begin());
  };
  switch (v.kind) {
    case Value::Kind::Input:
      p = element(abi::call::Inputs, indexOf(function_.inputs(), v), v.name);
      break;
    case Value::Kind::State:
      p = element(abi::call::States, indexOf(function_.states(), v), v.name);
      break;
    case Value::Kind::Weight: {
      // The offsets map, not offsetOf(): codegen needs WeightBlob.h's plan, not its library.
      auto it = weights_.offsets.find(v.weight);
      if (it == weights_.offsets.end())
        fail("@", function_.name(), ": weight @", v.name, " is not in the weight blob");
      p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), callField(abi::call::Weights), it->second,
                                        v.name);
      break;
    }
    case Value::Kind::Result:
      if (const MemoryPlan::Slot* slot = plan_.find(&v)) {
        p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), callField(abi::call::Scratch),
                                          slot->offset, v.name);
      } else if (auto it = plan_.directOutputs.find(&v); it != plan_.directOutputs.end()) {
        p = element(abi::call::Outputs, it->second, v.name);
      } else {
        fail("@", function_.name(), ": %", v.name, " has no place in the memory plan");
      }
      break;
  }
  return p;
}

void EntryEmitter::fillTensor(llvm::Value* array, llvm::ArrayType* arrayType, unsigned index,
                              const Value& v) {
  if (v.type.rank() > abi::kMaxRank)
    fail("@", function_.name(), ": ", v.ref(), " has rank ", v.type.rank(), ", over ",
         abi::kMaxRank);
  llvm::StructType* t = abi::tensorType(ctx_);
  llvm::Value* tensor = b_.CreateConstInBoundsGEP2_64(arrayType, array, 0, index);
  auto field = [&](unsigned f) { return b_.CreateStructGEP(t, tensor, f); };
  store(dataPointer(v), field(abi::tensor::Data));
  store(c64(abiDType(v.type.dtype)), field(abi::tensor::DType));
  store(c64(int64_t(v.type.rank())), field(abi::tensor::Rank));
  // Dims past the rank are zero: the buffers are fresh per op, and kernels see no stale sizes.
  llvm::Type* dimsType = llvm::ArrayType::get(i64(), abi::kMaxRank);
  llvm::Value* dims = field(abi::tensor::Dims);
  for (unsigned i = 0; i < abi::kMaxRank; ++i)
    store(i < v.type.rank() ? dimValue(v, i) : c64(0),
          b_.CreateConstInBoundsGEP2_64(dimsType, dims, 0, i));
  const Weight* w = v.isWeight() && v.weight->isTernary() ? v.weight : nullptr;
  store(c64(w ? abiLayout(*w) : 0), field(abi::tensor::Layout));
  store(c64(w ? abiScaleRule(w->scaleRule) : 0), field(abi::tensor::ScaleRule));
  store(llvm::ConstantFP::get(b_.getDoubleTy(), w ? double(w->scale) : 0.0),
        field(abi::tensor::Scale));
}

llvm::Value* EntryEmitter::constantArray(llvm::Type* elem, llvm::ArrayRef<llvm::Constant*> values,
                                         const std::string& name) {
  if (values.empty()) return llvm::ConstantPointerNull::get(b_.getPtrTy());
  auto* type = llvm::ArrayType::get(elem, values.size());
  auto* g = new llvm::GlobalVariable(out_, type, true, llvm::GlobalValue::PrivateLinkage,
                                     llvm::ConstantArray::get(type, values), name);
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  g->setAlignment(kField);
  return g;
}

// `i64 @bitnet__op_<function>.<label>(ptr %call)`: fills a bitnet_kernel_args for the op and returns its
// kernel's status. One small function per op, kept out of line: a single entry holding every
// op's stores makes O3 superlinear (MemCpyOpt: 10 s for 30 layers), and the extra call per op
// costs nothing next to a kernel. It also names each op in profiles.
llvm::Function* EntryEmitter::emitOpFunction(const Op& op, const std::string& label) {
  const std::string name = "bitnet__op_" + function_.name() + "." + label;
  llvm::Function* fn = newFunction(name, llvm::GlobalValue::InternalLinkage);
  fn->addFnAttr(llvm::Attribute::NoInline);

  auto* operandsType = llvm::ArrayType::get(abi::tensorType(ctx_), op.operands.size());
  auto* resultsType = llvm::ArrayType::get(abi::tensorType(ctx_), op.results.size());
  llvm::AllocaInst* operands = b_.CreateAlloca(operandsType, nullptr, "operands");
  llvm::AllocaInst* results = b_.CreateAlloca(resultsType, nullptr, "results");
  llvm::AllocaInst* args = b_.CreateAlloca(abi::kernelArgsType(ctx_), nullptr, "args");
  for (llvm::AllocaInst* a : {operands, results, args}) a->setAlignment(kField);

  for (unsigned i = 0; i < op.operands.size(); ++i)
    fillTensor(operands, operandsType, i, *op.operands[i]);
  for (unsigned i = 0; i < op.results.size(); ++i) fillTensor(results, resultsType, i, *op.results[i]);

  const KernelAttrs attrs = encodeKernelAttrs(op);
  std::vector<llvm::Constant*> ints, floats;
  for (int64_t v : attrs.ints) ints.push_back(b_.getInt64(uint64_t(v)));
  for (double v : attrs.floats) floats.push_back(llvm::ConstantFP::get(b_.getDoubleTy(), v));

  llvm::StructType* argsType = abi::kernelArgsType(ctx_);
  auto arg = [&](unsigned f) { return b_.CreateStructGEP(argsType, args, f); };
  store(b_.CreateGlobalString(describeForKernel(op), name + ".op", 0, &out_),
        arg(abi::kernel_args::Op));
  store(c64(int64_t(op.operands.size())), arg(abi::kernel_args::NumOperands));
  store(operands, arg(abi::kernel_args::Operands));
  store(c64(int64_t(op.results.size())), arg(abi::kernel_args::NumResults));
  store(results, arg(abi::kernel_args::Results));
  store(c64(int64_t(ints.size())), arg(abi::kernel_args::NumInts));
  store(constantArray(i64(), ints, name + ".ints"), arg(abi::kernel_args::Ints));
  store(c64(int64_t(floats.size())), arg(abi::kernel_args::NumFloats));
  store(constantArray(b_.getDoubleTy(), floats, name + ".floats"), arg(abi::kernel_args::Floats));

  auto* kernelType = llvm::FunctionType::get(i64(), {ptr(), ptr()}, false);
  llvm::FunctionCallee kernel = out_.getOrInsertFunction(kernelSymbol(op), kernelType);
  if (kernel.getFunctionType() != kernelType)
    fail("@", function_.name(), ": ", op.describe(), ": ", kernelSymbol(op),
         " is already declared with another type");
  b_.CreateRet(b_.CreateCall(kernel, {scope_.call, args}, "st"));
  return fn;
}

// The call's sizes must fit what the memory plan and the state types hold: every dynamic dim
// this function uses in [0, its planning bound] (an LM's ?seq: max_batch), state_rows in
// [0, the smallest state's leading dim]. Otherwise BITNET_ERR_INVALID_ARGUMENT before any kernel
// runs (the runtime chunks and checks first; this keeps a bad call from overrunning scratch).
void EntryEmitter::emitCallChecks(llvm::Function* entry) {
  std::set<std::string> used;
  auto use = [&](const Value* v) {
    for (const Dim& d : v->type.dims)
      if (d.isDynamic()) used.insert(d.name);
  };
  for (const Value* v : function_.inputs()) use(v);
  for (const Value* v : function_.outputs()) use(v);
  for (const auto& op : function_.ops())
    for (const Value* r : op->results) use(r);
  for (const auto& dim : module_.dims()) {  // in declaration order
    const std::string& name = dim.first;
    if (!used.count(name)) continue;
    auto it = plan_.bounds.find(name);
    if (it == plan_.bounds.end()) fail("@", function_.name(), ": dynamic dim ?", name, " has no bound");
    emitCheck(entry, dynamicDim(name), it->second, "?" + name);
  }
  if (!function_.states().empty()) {
    int64_t rows = INT64_MAX;
    for (const Value* s : function_.states()) rows = std::min(rows, s->type.dims.at(0).size);
    emitCheck(entry, callField(abi::call::StateRows), rows, "state_rows");
  }
}

void EntryEmitter::emitCheck(llvm::Function* entry, llvm::Value* value, int64_t bound,
                             const std::string& what) {
  auto* bad = llvm::BasicBlock::Create(ctx_, "bad." + what.substr(what[0] == '?'), entry);
  auto* good = llvm::BasicBlock::Create(ctx_, "ok." + what.substr(what[0] == '?'), entry);
  // Unsigned: a negative size fails too.
  b_.CreateCondBr(b_.CreateICmpUGT(value, c64(bound)), bad, good);
  b_.SetInsertPoint(bad);
  auto* snprintfType = llvm::FunctionType::get(b_.getInt32Ty(), {ptr(), i64(), ptr()}, true);
  llvm::FunctionCallee snprintf = out_.getOrInsertFunction("snprintf", snprintfType);
  // Function names have no '%' (docs/IR.md: letters, digits, _ . $).
  const std::string format = "@" + function_.name() + ": " + what +
                             " = %lld is outside [0, %lld], the sizes its code was compiled for";
  // Loaded here, not through callField(): this block dominates nothing after it.
  auto load = [&](unsigned f, llvm::Type* t) {
    return b_.CreateAlignedLoad(t, b_.CreateStructGEP(abi::callType(ctx_), scope_.call, f), kField);
  };
  b_.CreateCall(snprintf, {load(abi::call::Error, ptr()), load(abi::call::ErrorSize, i64()),
                           b_.CreateGlobalString(format, "bitnet__check." + function_.name(), 0, &out_),
                           value, c64(bound)});
  b_.CreateRet(c64(1));  // BITNET_ERR_INVALID_ARGUMENT
  b_.SetInsertPoint(good);
}

// Bytes of v with its dims as they are in this call.
llvm::Value* EntryEmitter::actualBytes(const Value& v) {
  if (v.isWeight()) {
    for (const auto& e : weights_.entries)
      if (e.weight == v.weight) return c64(int64_t(e.bytes));
    fail("@", function_.name(), ": weight @", v.name, " is not in the weight blob");
  }
  llvm::Value* n = c64(int64_t(dtypeSize(v.type.dtype)));
  for (size_t i = 0; i < v.type.rank(); ++i) n = b_.CreateMul(n, dimValue(v, i));
  return n;
}

// Outputs no op wrote directly: function inputs, states (their session rows), weights, and
// results named by an earlier output too.
void EntryEmitter::emitOutputCopies() {
  const auto& outputs = function_.outputs();
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Value& v = *outputs[j];
    if (auto it = plan_.directOutputs.find(&v); it != plan_.directOutputs.end() && it->second == j)
      continue;
    llvm::Value* dst = element(abi::call::Outputs, j, "out" + std::to_string(j));
    // memmove: a caller may pass the same buffer as an input and an output.
    b_.CreateMemMove(dst, llvm::MaybeAlign(), dataPointer(v), llvm::MaybeAlign(), actualBytes(v));
  }
}

}  // namespace

llvm::Function* emitEntryFunction(llvm::Module& out, const Module& module,
                                  const Function& function, const MemoryPlan& plan,
                                  const WeightBlobPlan& weights) {
  return EntryEmitter(out, module, function, plan, weights).emit();
}

}  // namespace bitnetc::target
