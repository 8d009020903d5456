#include "targets/codegen/EntryFunction.h"

#include <algorithm>
#include <map>

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
  llvm::Type* i64() { return b_.getInt64Ty(); }
  llvm::Type* ptr() { return b_.getPtrTy(); }
  llvm::Value* c64(int64_t v) { return b_.getInt64(uint64_t(v)); }
  llvm::Value* load(llvm::Type* t, llvm::Value* p, const llvm::Twine& name = "") {
    return b_.CreateAlignedLoad(t, p, kField, name);
  }
  void store(llvm::Value* v, llvm::Value* p) { b_.CreateAlignedStore(v, p, kField); }
  llvm::Value* callField(unsigned field, llvm::Type* t, const char* name) {
    return load(t, b_.CreateStructGEP(abi::callType(ctx_), call_, field), name);
  }

  void emitPrologue();
  llvm::Value* dimValue(const Value& v, size_t i);
  llvm::Value* dataPointer(const Value& v);
  void fillTensor(llvm::Value* array, unsigned index, const Value& v);
  llvm::Value* constantArray(llvm::Type* elem, llvm::ArrayRef<llvm::Constant*> values,
                             const std::string& name);
  void emitOp(const Op& op, size_t index);
  void emitOutputCopies();
  llvm::Value* actualBytes(const Value& v);

  llvm::Module& out_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  const Module& module_;
  const Function& function_;
  const MemoryPlan& plan_;
  const WeightBlobPlan& weights_;

  llvm::Function* fn_ = nullptr;
  llvm::Value* call_ = nullptr;
  llvm::Value *dims_ = nullptr, *inputs_ = nullptr, *outputs_ = nullptr, *states_ = nullptr,
              *stateRows_ = nullptr, *scratch_ = nullptr, *weights_base_ = nullptr;
  std::map<std::string, llvm::Value*> dynDims_;        // dim name -> its current value
  std::map<const Value*, llvm::Value*> pointers_;      // data pointers computed so far
  llvm::Value *operandsBuf_ = nullptr, *resultsBuf_ = nullptr, *argsBuf_ = nullptr;
  llvm::BasicBlock* failBlock_ = nullptr;
  llvm::PHINode* failStatus_ = nullptr;
};

llvm::Function* EntryEmitter::emit() {
  const std::string name = entrySymbol(function_);
  if (out_.getNamedValue(name)) fail("@", function_.name(), ": symbol ", name, " already defined");
  auto* type = llvm::FunctionType::get(i64(), {ptr()}, false);
  fn_ = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name, out_);
  fn_->addParamAttr(0, llvm::Attribute::NoUndef);
  fn_->addParamAttr(0, llvm::Attribute::NonNull);
  fn_->addParamAttr(0, llvm::Attribute::getWithDereferenceableBytes(
                           ctx_, abi::call::NumFields * 8));
  call_ = fn_->getArg(0);
  call_->setName("call");

  auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn_);
  failBlock_ = llvm::BasicBlock::Create(ctx_, "fail", fn_);
  b_.SetInsertPoint(failBlock_);
  failStatus_ = b_.CreatePHI(i64(), 0, "status");
  b_.CreateRet(failStatus_);

  b_.SetInsertPoint(entry);
  emitPrologue();
  for (size_t i = 0; i < function_.ops().size(); ++i) emitOp(*function_.ops()[i], i);
  emitOutputCopies();
  b_.CreateRet(c64(0));
  if (failStatus_->getNumIncomingValues() == 0) {  // no op: the fail block is unreachable
    failStatus_->eraseFromParent();
    failBlock_->eraseFromParent();
  } else {
    failBlock_->moveAfter(&fn_->back());
  }
  return fn_;
}

void EntryEmitter::emitPrologue() {
  dims_ = callField(abi::call::Dims, ptr(), "dims");
  inputs_ = callField(abi::call::Inputs, ptr(), "inputs");
  outputs_ = callField(abi::call::Outputs, ptr(), "outputs");
  states_ = callField(abi::call::States, ptr(), "states");
  stateRows_ = callField(abi::call::StateRows, i64(), "state_rows");
  scratch_ = callField(abi::call::Scratch, ptr(), "scratch");
  weights_base_ = callField(abi::call::Weights, ptr(), "weights");

  // The dynamic dims this function's values use, loaded once.
  auto use = [&](const Value* v) {
    for (const Dim& d : v->type.dims)
      if (d.isDynamic() && !dynDims_.count(d.name)) dynDims_[d.name] = nullptr;
  };
  for (const Value* v : function_.inputs()) use(v);
  for (const auto& op : function_.ops())
    for (const Value* r : op->results) use(r);
  const auto& moduleDims = module_.dims();
  for (size_t i = 0; i < moduleDims.size(); ++i) {
    auto it = dynDims_.find(moduleDims[i].first);
    if (it == dynDims_.end()) continue;
    it->second = load(i64(), b_.CreateConstInBoundsGEP1_64(i64(), dims_, i), "dim." + it->first);
  }
  for (const auto& [name, value] : dynDims_)
    if (!value) fail("@", function_.name(), ": dynamic dim ?", name, " is not declared");

  size_t maxOperands = 1, maxResults = 1;
  for (const auto& op : function_.ops()) {
    maxOperands = std::max(maxOperands, op->operands.size());
    maxResults = std::max(maxResults, op->results.size());
  }
  // One set of buffers, refilled for every op: the stack stays small for any number of ops.
  operandsBuf_ = b_.CreateAlloca(llvm::ArrayType::get(abi::tensorType(ctx_), maxOperands),
                                 nullptr, "operands");
  resultsBuf_ = b_.CreateAlloca(llvm::ArrayType::get(abi::tensorType(ctx_), maxResults), nullptr,
                                "results");
  argsBuf_ = b_.CreateAlloca(abi::kernelArgsType(ctx_), nullptr, "args");
  for (llvm::Value* a : {operandsBuf_, resultsBuf_, argsBuf_})
    llvm::cast<llvm::AllocaInst>(a)->setAlignment(kField);
}

// The current size of dim i of v: static, the call's value of a dynamic dim, or for a state's
// leading dim the session's cache capacity.
llvm::Value* EntryEmitter::dimValue(const Value& v, size_t i) {
  if (v.kind == Value::Kind::State && i == 0) return stateRows_;
  const Dim& d = v.type.dims[i];
  if (d.isDynamic()) return dynDims_.at(d.name);
  return c64(d.size);
}

llvm::Value* EntryEmitter::dataPointer(const Value& v) {
  if (auto it = pointers_.find(&v); it != pointers_.end()) return it->second;
  auto indexOf = [](const std::vector<Value*>& list, const Value& x) -> uint64_t {
    return uint64_t(std::find(list.begin(), list.end(), &x) - list.begin());
  };
  auto element = [&](llvm::Value* array, uint64_t i, const std::string& name) {
    return b_.CreateAlignedLoad(ptr(), b_.CreateConstInBoundsGEP1_64(ptr(), array, i), kField,
                                name);
  };
  llvm::Value* p = nullptr;
  switch (v.kind) {
    case Value::Kind::Input:
      p = element(inputs_, indexOf(function_.inputs(), v), v.name);
      break;
    case Value::Kind::State:
      p = element(states_, indexOf(function_.states(), v), v.name);
      break;
    case Value::Kind::Weight: {
      // The offsets map, not offsetOf(): codegen needs WeightBlob.h's plan, not its library.
      auto it = weights_.offsets.find(v.weight);
      if (it == weights_.offsets.end())
        fail("@", function_.name(), ": weight @", v.name, " is not in the weight blob");
      p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), weights_base_, it->second, v.name);
      break;
    }
    case Value::Kind::Result:
      if (const MemoryPlan::Slot* slot = plan_.find(&v)) {
        p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), scratch_, slot->offset, v.name);
      } else if (auto it = plan_.directOutputs.find(&v); it != plan_.directOutputs.end()) {
        p = element(outputs_, it->second, v.name);
      } else {
        fail("@", function_.name(), ": %", v.name, " has no place in the memory plan");
      }
      break;
  }
  // Ops follow each other in one chain of blocks, so a pointer computed for an earlier op
  // dominates every later use.
  pointers_[&v] = p;
  return p;
}

void EntryEmitter::fillTensor(llvm::Value* array, unsigned index, const Value& v) {
  if (v.type.rank() > abi::kMaxRank)
    fail("@", function_.name(), ": ", v.ref(), " has rank ", v.type.rank(), ", over ",
         abi::kMaxRank);
  llvm::StructType* t = abi::tensorType(ctx_);
  llvm::Value* tensor = b_.CreateConstInBoundsGEP2_64(
      llvm::ArrayType::get(t, llvm::cast<llvm::AllocaInst>(array)->getAllocatedType()
                                  ->getArrayNumElements()),
      array, 0, index);
  auto field = [&](unsigned f) { return b_.CreateStructGEP(t, tensor, f); };
  store(dataPointer(v), field(abi::tensor::Data));
  store(c64(abiDType(v.type.dtype)), field(abi::tensor::DType));
  store(c64(int64_t(v.type.rank())), field(abi::tensor::Rank));
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

void EntryEmitter::emitOp(const Op& op, size_t index) {
  const std::string label = op.results.empty() ? "op" + std::to_string(index) : op.results[0]->name;
  auto* block = llvm::BasicBlock::Create(ctx_, label, fn_);
  b_.CreateBr(block);
  b_.SetInsertPoint(block);

  for (unsigned i = 0; i < op.operands.size(); ++i) fillTensor(operandsBuf_, i, *op.operands[i]);
  for (unsigned i = 0; i < op.results.size(); ++i) fillTensor(resultsBuf_, i, *op.results[i]);

  const KernelAttrs attrs = encodeKernelAttrs(op);
  std::vector<llvm::Constant*> ints, floats;
  for (int64_t v : attrs.ints) ints.push_back(b_.getInt64(uint64_t(v)));
  for (double v : attrs.floats) floats.push_back(llvm::ConstantFP::get(b_.getDoubleTy(), v));
  const std::string prefix = entrySymbol(function_) + "." + label;

  llvm::StructType* argsType = abi::kernelArgsType(ctx_);
  auto arg = [&](unsigned f) { return b_.CreateStructGEP(argsType, argsBuf_, f); };
  store(b_.CreateGlobalString(describeForKernel(op), prefix + ".op", 0, &out_),
        arg(abi::kernel_args::Op));
  store(c64(int64_t(op.operands.size())), arg(abi::kernel_args::NumOperands));
  store(operandsBuf_, arg(abi::kernel_args::Operands));
  store(c64(int64_t(op.results.size())), arg(abi::kernel_args::NumResults));
  store(resultsBuf_, arg(abi::kernel_args::Results));
  store(c64(int64_t(ints.size())), arg(abi::kernel_args::NumInts));
  store(constantArray(i64(), ints, prefix + ".ints"), arg(abi::kernel_args::Ints));
  store(c64(int64_t(floats.size())), arg(abi::kernel_args::NumFloats));
  store(constantArray(b_.getDoubleTy(), floats, prefix + ".floats"),
        arg(abi::kernel_args::Floats));

  auto* kernelType = llvm::FunctionType::get(i64(), {ptr(), ptr()}, false);
  llvm::FunctionCallee kernel = out_.getOrInsertFunction(kernelSymbol(op), kernelType);
  if (kernel.getFunctionType() != kernelType)
    fail("@", function_.name(), ": ", op.describe(), ": ", kernelSymbol(op),
         " is already declared with another type");
  llvm::Value* status = b_.CreateCall(kernel, {call_, argsBuf_}, "st");
  auto* next = llvm::BasicBlock::Create(ctx_, label + ".ok", fn_);
  b_.CreateCondBr(b_.CreateICmpNE(status, c64(0)), failBlock_, next);
  failStatus_->addIncoming(status, b_.GetInsertBlock());
  b_.SetInsertPoint(next);
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

void EntryEmitter::emitOutputCopies() {
  const auto& outputs = function_.outputs();
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Value& v = *outputs[j];
    if (auto it = plan_.directOutputs.find(&v); it != plan_.directOutputs.end() && it->second == j)
      continue;
    llvm::Value* dst = b_.CreateAlignedLoad(
        ptr(), b_.CreateConstInBoundsGEP1_64(ptr(), outputs_, j), kField, "out" + std::to_string(j));
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
