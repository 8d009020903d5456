#include "compiler/ir/IR.h"

#include <algorithm>

#include "compiler/support/Error.h"

namespace bitnetc {

std::string Op::describe() const {
  std::string s;
  for (size_t i = 0; i < results.size(); ++i) s += (i ? ", %" : "%") + results[i]->name;
  if (!results.empty()) s += " = ";
  return s + opcode;
}

bool Op::mayWriteState() const {
  for (const Value* v : operands)
    if (v->kind == Value::Kind::State) return true;
  return false;
}

Value* Function::newValue(Value::Kind kind, std::string name, TensorType type) {
  if (name.empty()) {
    do name = std::to_string(nextId_++);
    while (byName_.count(name));
  }
  if (byName_.count(name)) fail("function @", name_, ": the value %", name, " is defined twice");
  auto value = std::make_unique<Value>();
  value->kind = kind;
  value->name = std::move(name);
  value->type = std::move(type);
  Value* raw = value.get();
  byName_[raw->name] = raw;
  values_.push_back(std::move(value));
  return raw;
}

Value* Function::addInput(std::string name, TensorType type) {
  Value* v = newValue(Value::Kind::Input, std::move(name), std::move(type));
  inputs_.push_back(v);
  return v;
}

Value* Function::addState(std::string name, TensorType type) {
  Value* v = newValue(Value::Kind::State, std::move(name), std::move(type));
  states_.push_back(v);
  return v;
}

Op* Function::addOp(std::string opcode, std::vector<Value*> operands,
                    std::vector<std::pair<std::string, TensorType>> results, AttributeList attrs) {
  auto op = std::make_unique<Op>();
  op->opcode = std::move(opcode);
  op->operands = std::move(operands);
  op->attrs = std::move(attrs);
  op->parent = this;
  for (auto& [name, type] : results) {
    Value* v = newValue(Value::Kind::Result, std::move(name), std::move(type));
    v->producer = op.get();
    v->resultIndex = unsigned(op->results.size());
    op->results.push_back(v);
  }
  ops_.push_back(std::move(op));
  return ops_.back().get();
}

Op* Function::insertOpBefore(const Op* before, std::string opcode, std::vector<Value*> operands,
                             std::vector<std::pair<std::string, TensorType>> results, AttributeList attrs) {
  auto at = std::find_if(ops_.begin(), ops_.end(), [&](const auto& op) { return op.get() == before; });
  if (at == ops_.end()) fail("function @", name_, ": insertOpBefore: the op is not in this function");
  const size_t index = size_t(at - ops_.begin());
  Op* op = addOp(std::move(opcode), std::move(operands), std::move(results), std::move(attrs));
  std::rotate(ops_.begin() + index, ops_.end() - 1, ops_.end());
  return op;
}

Value* Function::add(std::string opcode, std::vector<Value*> operands, std::string resultName,
                     TensorType resultType, AttributeList attrs) {
  return addOp(std::move(opcode), std::move(operands), {{std::move(resultName), std::move(resultType)}},
               std::move(attrs))
      ->result(0);
}

Value* Function::lookup(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

Value* Function::lookupWeight(std::string_view name) const {
  return parent_ ? parent_->weightValue(name) : nullptr;
}

void Module::declareDim(std::string name, int64_t max) {
  for (auto& [n, m] : dims_) {
    if (n == name) {
      m = max;
      return;
    }
  }
  dims_.emplace_back(std::move(name), max);
}

Dim Module::dim(std::string_view name) const {
  for (const auto& [n, m] : dims_)
    if (n == name) return Dim::dynamic(n, m);
  fail("the dynamic dimension ?", name, " is not declared");
}

Value* Module::addWeight(Weight w) {
  if (weightValues_.count(w.name)) fail("the weight @", w.name, " is defined twice");
  auto weight = std::make_unique<Weight>(std::move(w));
  auto value = std::make_unique<Value>();
  value->kind = Value::Kind::Weight;
  value->name = weight->name;
  value->type = weight->type;
  value->weight = weight.get();
  Value* raw = value.get();
  weightValues_[weight->name] = std::move(value);
  weights_.push_back(std::move(weight));
  return raw;
}

Value* Module::weightValue(std::string_view name) const {
  auto it = weightValues_.find(name);
  return it == weightValues_.end() ? nullptr : it->second.get();
}

void Module::removeWeight(std::string_view name) {
  auto it = weightValues_.find(name);
  if (it == weightValues_.end()) return;
  weightValues_.erase(it);
  std::erase_if(weights_, [&](const auto& w) { return w->name == name; });
}

Function* Module::addFunction(std::string name) {
  if (function(name)) fail("the function @", name, " is defined twice");
  functions_.push_back(std::make_unique<Function>(std::move(name), this));
  return functions_.back().get();
}

Function* Module::function(std::string_view name) const {
  for (const auto& f : functions_)
    if (f->name() == name) return f.get();
  return nullptr;
}

}  // namespace bitnetc
