// The graph IR: SSA values, ops with typed attributes, functions with inputs, outputs and
// persistent state (the KV cache), and a module holding functions, weights, the bounds of the
// named dynamic dimensions and model metadata. The op set and its exact semantics are in
// docs/IR.md; compiler/ir/OpDefs.h checks them.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/Attribute.h"
#include "compiler/ir/Types.h"
#include "compiler/ir/Weights.h"

namespace bitnetc {

class Function;
class Module;
struct Op;

struct Value {
  enum class Kind : uint8_t { Input, State, Result, Weight };
  Kind kind = Kind::Result;
  std::string name;  // without the '%' (or '@' for weights); unique in its function
  TensorType type;
  Op* producer = nullptr;          // Result only
  unsigned resultIndex = 0;        // Result only
  const Weight* weight = nullptr;  // Weight only

  bool isWeight() const { return kind == Kind::Weight; }
  std::string ref() const { return (isWeight() ? "@" : "%") + name; }  // as printed
};

struct Op {
  std::string opcode;  // e.g. "rms_norm"; see OpDefs.h
  std::vector<Value*> operands;
  std::vector<Value*> results;
  AttributeList attrs;
  Function* parent = nullptr;

  Value* result(unsigned i = 0) const { return results.at(i); }
  Value* operand(unsigned i) const { return operands.at(i); }
  // An op with a state operand may write that state (attention appends to the KV cache), so
  // passes must neither remove nor merge it.
  bool mayWriteState() const;
  // "%q8 = act_quant(...)" style short description for error messages.
  std::string describe() const;
};

class Function {
 public:
  explicit Function(std::string name, Module* parent) : name_(std::move(name)), parent_(parent) {}
  const std::string& name() const { return name_; }
  Module* parent() const { return parent_; }

  Value* addInput(std::string name, TensorType type);
  Value* addState(std::string name, TensorType type);
  // Appends an op. resultNames may hold empty names: those get fresh numeric names.
  Op* addOp(std::string opcode, std::vector<Value*> operands,
            std::vector<std::pair<std::string, TensorType>> results, AttributeList attrs = {});
  // The common single-result case; returns the result.
  Value* add(std::string opcode, std::vector<Value*> operands, std::string resultName,
             TensorType resultType, AttributeList attrs = {});
  // Like addOp, but places the op just before `before` (an op of this function), so passes can
  // rewrite a pattern in place (e.g. fuse-bitlinear puts act_quant before the matmul it replaces).
  Op* insertOpBefore(const Op* before, std::string opcode, std::vector<Value*> operands,
                     std::vector<std::pair<std::string, TensorType>> results, AttributeList attrs = {});
  void setOutputs(std::vector<Value*> outputs) { outputs_ = std::move(outputs); }
  // Removes ops for which keep(op) is false. The caller guarantees their results are unused.
  template <typename Pred>
  void removeOpsIf(Pred remove);

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& states() const { return states_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  const std::vector<std::unique_ptr<Op>>& ops() const { return ops_; }
  // A value of this function (input, state or result) or a module weight, by its printed name
  // without sigil; nullptr if none.
  Value* lookup(std::string_view name) const;
  Value* lookupWeight(std::string_view name) const;

 private:
  Value* newValue(Value::Kind kind, std::string name, TensorType type);
  std::string name_;
  Module* parent_;
  std::vector<Value*> inputs_, states_, outputs_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<std::unique_ptr<Value>> values_;
  std::map<std::string, Value*, std::less<>> byName_;
  int64_t nextId_ = 0;
};

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Model metadata, e.g. architecture, bos_token_id, eos_token_id, vocab_size, scale_rule.
  AttributeList attrs;

  // Named dynamic dimensions and their inclusive upper bounds, e.g. seq <= 4096.
  void declareDim(std::string name, int64_t max);
  const std::vector<std::pair<std::string, int64_t>>& dims() const { return dims_; }
  Dim dim(std::string_view name) const;  // throws if undeclared

  // Weights; the returned Value is what ops take as an operand.
  Value* addWeight(Weight w);  // throws on a duplicate name
  Value* weightValue(std::string_view name) const;  // nullptr if none
  const std::vector<std::unique_ptr<Weight>>& weights() const { return weights_; }
  void removeWeight(std::string_view name);

  Function* addFunction(std::string name);
  Function* function(std::string_view name) const;  // nullptr if none
  const std::vector<std::unique_ptr<Function>>& functions() const { return functions_; }

 private:
  std::vector<std::pair<std::string, int64_t>> dims_;
  std::vector<std::unique_ptr<Weight>> weights_;
  std::map<std::string, std::unique_ptr<Value>, std::less<>> weightValues_;
  std::vector<std::unique_ptr<Function>> functions_;
};

template <typename Pred>
void Function::removeOpsIf(Pred remove) {
  std::vector<std::unique_ptr<Op>> kept;
  for (auto& op : ops_) {
    if (remove(*op)) {
      for (Value* r : op->results) byName_.erase(r->name);
    } else {
      kept.push_back(std::move(op));
    }
  }
  ops_ = std::move(kept);
}

}  // namespace bitnetc
