#include "targets/codegen/ModelDescriptor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <variant>

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Module.h>
#include <nlohmann/json.hpp>

#include "compiler/ir/WeightTraffic.h"
#include "compiler/support/Error.h"
#include "targets/codegen/AbiTypes.h"
#include "targets/codegen/KernelAbi.h"
#include "targets/codegen/LanguageModel.h"

namespace bitnetc::target {

std::string weightsSymbol(const std::string& prefix) { return prefix + "__weights"; }

std::string moduleMetadataJson(const Module& module) {
  auto number = [](double d) { return std::isfinite(d) ? nlohmann::json(d) : nlohmann::json(); };
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : module.attrs.entries()) {
    // The tokenizer attribute is a path on the build machine; its bytes are embedded instead.
    if (name == "tokenizer") continue;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>) {
            j[name] = number(v);
          } else if constexpr (std::is_same_v<T, std::vector<double>>) {
            nlohmann::json list = nlohmann::json::array();
            for (double d : v) list.push_back(number(d));
            j[name] = list;
          } else {
            j[name] = v;
          }
        },
        value);
  }
  // Invalid UTF-8 in a string attribute is replaced rather than refused: this is informational.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> ioNames(const Module& module) {
  std::map<std::string, std::string> names;
  if (!module.attrs.has("io_names")) return names;
  const std::string text = module.attrs.getString("io_names");
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) fail("module attribute io_names is not a JSON object: ", text);
  for (const auto& [irName, sourceName] : j.items()) {
    if (!sourceName.is_string())
      fail("module attribute io_names: the name of %", irName, " is not a string");
    names[irName] = sourceName.get<std::string>();
  }
  return names;
}

namespace {

class DescriptorEmitter {
 public:
  DescriptorEmitter(llvm::Module& out, const Module& module, const WeightBlobPlan& weights,
                    const CodegenOptions& options)
      : out_(out), ctx_(out.getContext()), module_(module), weights_(weights), options_(options),
        ioNames_(ioNames(module)) {}

  llvm::GlobalVariable* emit(std::vector<EntryPoint> functions);

 private:
  llvm::Constant* i64(int64_t v) { return llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx_), uint64_t(v)); }
  llvm::Constant* null() { return llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx_)); }
  llvm::Constant* string(const std::string& s, const std::string& name);
  llvm::Constant* array(llvm::Type* elem, const std::vector<llvm::Constant*>& values,
                        const std::string& name);
  llvm::Constant* tensorDescs(const std::vector<Value*>& values, const std::string& name);
  llvm::Constant* functionDesc(const EntryPoint& f);
  int64_t dimIndex(const std::string& name) const;

  llvm::Module& out_;
  llvm::LLVMContext& ctx_;
  const Module& module_;
  const WeightBlobPlan& weights_;
  const CodegenOptions& options_;
  std::map<std::string, std::string> ioNames_;  // IR value name -> the source's (ONNX) name
};

// A private NUL-terminated string constant.
llvm::Constant* DescriptorEmitter::string(const std::string& s, const std::string& name) {
  auto* init = llvm::ConstantDataArray::getString(ctx_, s, true);
  auto* g = new llvm::GlobalVariable(out_, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                     init, name);
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  g->setAlignment(llvm::Align(1));
  return g;
}

llvm::Constant* DescriptorEmitter::array(llvm::Type* elem, const std::vector<llvm::Constant*>& values,
                                         const std::string& name) {
  if (values.empty()) return null();
  auto* type = llvm::ArrayType::get(elem, values.size());
  auto* g = new llvm::GlobalVariable(out_, type, true, llvm::GlobalValue::PrivateLinkage,
                                     llvm::ConstantArray::get(type, values), name);
  g->setAlignment(llvm::Align(8));
  return g;
}

int64_t DescriptorEmitter::dimIndex(const std::string& name) const {
  const auto& dims = module_.dims();
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i].first == name) return int64_t(i);
  fail("dynamic dim ?", name, " is not declared");
}

llvm::Constant* DescriptorEmitter::tensorDescs(const std::vector<Value*>& values,
                                               const std::string& name) {
  llvm::StructType* t = abi::tensorDescType(ctx_);
  auto* dimsType = llvm::ArrayType::get(llvm::Type::getInt64Ty(ctx_), abi::kMaxRank);
  std::vector<llvm::Constant*> descs;
  for (const Value* v : values) {
    if (v->type.rank() > abi::kMaxRank)
      fail(v->ref(), " has rank ", v->type.rank(), ", over ", abi::kMaxRank);
    // Inputs and outputs carry the names the caller knows (run() matches them).
    auto renamed = ioNames_.find(v->name);
    const std::string& tensorName = renamed == ioNames_.end() ? v->name : renamed->second;
    std::vector<llvm::Constant*> dims(abi::kMaxRank, i64(0));
    for (size_t i = 0; i < v->type.rank(); ++i) {
      const Dim& d = v->type.dims[i];
      dims[i] = i64(d.isDynamic() ? -1 - dimIndex(d.name) : d.size);
    }
    descs.push_back(llvm::ConstantStruct::get(
        t, {string(tensorName, name + ".name"), i64(abiDType(v->type.dtype)),
            i64(int64_t(v->type.rank())), llvm::ConstantArray::get(dimsType, dims)}));
  }
  return array(t, descs, name);
}

llvm::Constant* DescriptorEmitter::functionDesc(const EntryPoint& f) {
  const Function& fn = *f.function;
  const std::string base = "bitnet__model." + fn.name();
  return llvm::ConstantStruct::get(
      abi::functionDescType(ctx_),
      {string(fn.name(), base + ".name"), f.entry, i64(int64_t(fn.inputs().size())),
       tensorDescs(fn.inputs(), base + ".inputs"), i64(int64_t(fn.outputs().size())),
       tensorDescs(fn.outputs(), base + ".outputs"), i64(int64_t(fn.states().size())),
       tensorDescs(fn.states(), base + ".states"), i64(int64_t(f.scratchBytes))});
}

llvm::GlobalVariable* DescriptorEmitter::emit(std::vector<EntryPoint> functions) {
  namespace md = abi::model_desc;
  if (out_.getNamedValue("bitnet__model")) fail("bitnet__model is already defined");
  const std::optional<LanguageModelInfo> lm = findLanguageModel(module_, options_.maxBatch);
  if (lm)
    std::stable_partition(functions.begin(), functions.end(),
                          [&](const EntryPoint& f) { return f.function == lm->forward; });

  std::vector<llvm::Constant*> f(md::NumFields, nullptr);
  f[md::AbiVersion] = i64(abi::kAbiVersion);
  f[md::Name] = string(options_.prefix, "bitnet__model.name");
  f[md::Target] = string(options_.targetDescription, "bitnet__model.target");
  f[md::MetadataJson] = string(moduleMetadataJson(module_), "bitnet__model.metadata_json");

  std::vector<llvm::Constant*> dimNames, dimMax;
  for (const auto& [name, max] : module_.dims()) {
    dimNames.push_back(string(name, "bitnet__model.dim_name"));
    dimMax.push_back(i64(max));
  }
  f[md::NumDims] = i64(int64_t(dimNames.size()));
  f[md::DimNames] = array(llvm::PointerType::getUnqual(ctx_), dimNames, "bitnet__model.dim_names");
  f[md::DimMax] = array(llvm::Type::getInt64Ty(ctx_), dimMax, "bitnet__model.dim_max");

  std::vector<llvm::Constant*> descs;
  for (const EntryPoint& e : functions) descs.push_back(functionDesc(e));
  f[md::NumFunctions] = i64(int64_t(descs.size()));
  f[md::Functions] = array(abi::functionDescType(ctx_), descs, "bitnet__model.functions");

  f[md::WeightBytes] = i64(int64_t(weights_.totalBytes));
  f[md::WeightHash] = i64(int64_t(options_.weightHash));
  if (options_.weightsExternal) {
    f[md::WeightsEmbedded] = null();
  } else {
    if (options_.prefix.empty()) fail("an empty symbol prefix");
    auto* type = llvm::ArrayType::get(llvm::Type::getInt8Ty(ctx_), 0);
    auto* blob = new llvm::GlobalVariable(out_, type, true, llvm::GlobalValue::ExternalLinkage,
                                          nullptr, weightsSymbol(options_.prefix));
    blob->setVisibility(llvm::GlobalValue::HiddenVisibility);
    blob->setAlignment(llvm::Align(64));
    f[md::WeightsEmbedded] = blob;
  }
  f[md::WeightsFileName] = options_.weightsFileName.empty()
                               ? null()
                               : string(options_.weightsFileName, "bitnet__model.weights_file_name");

  // Language-model facts: from the module attributes, with the shape of forward as fallback.
  const AttributeList& attrs = module_.attrs;
  f[md::IsLm] = i64(lm ? 1 : 0);
  f[md::Architecture] = attrs.has("architecture")
                            ? string(attrs.getString("architecture"), "bitnet__model.architecture")
                            : null();
  int64_t vocab = lm ? lm->forward->outputs()[0]->type.dims[1].size : 0;
  f[md::VocabSize] = i64(attrs.getInt("vocab_size", vocab));
  f[md::MaxContext] = i64(attrs.getInt("max_context", lm ? lm->seqMax : 0));
  f[md::MaxBatch] = i64(lm ? lm->maxBatch : 0);
  f[md::BosTokenId] = i64(attrs.getInt("bos_token_id", -1));
  f[md::EosTokenId] = i64(attrs.getInt("eos_token_id", -1));
  std::vector<int64_t> eos;
  if (attrs.has("eos_token_ids")) eos = attrs.getInts("eos_token_ids");
  else if (attrs.has("eos_token_id")) eos = {attrs.getInt("eos_token_id")};
  std::vector<llvm::Constant*> eosValues;
  for (int64_t id : eos) eosValues.push_back(i64(id));
  f[md::NumEosIds] = i64(int64_t(eosValues.size()));
  f[md::EosIds] = array(llvm::Type::getInt64Ty(ctx_), eosValues, "bitnet__model.eos_ids");

  if (options_.tokenizerJson.empty()) {
    f[md::TokenizerJson] = null();
    f[md::TokenizerJsonBytes] = i64(0);
  } else {
    // The bytes plus a NUL that tokenizer_json_bytes does not count.
    f[md::TokenizerJson] = string(options_.tokenizerJson, "bitnet__model.tokenizer_json");
    f[md::TokenizerJsonBytes] = i64(int64_t(options_.tokenizerJson.size()));
  }
  f[md::DecodeWeightBytes] = i64(lm ? weightBytesPerToken(*lm->forward) : 0);

  auto* desc = new llvm::GlobalVariable(out_, abi::modelDescType(ctx_), true,
                                        llvm::GlobalValue::ExternalLinkage,
                                        llvm::ConstantStruct::get(abi::modelDescType(ctx_), f),
                                        "bitnet__model");
  desc->setAlignment(llvm::Align(8));
  return desc;
}

}  // namespace

llvm::GlobalVariable* emitModelDescriptor(llvm::Module& out, const Module& module,
                                          const std::vector<EntryPoint>& functions,
                                          const WeightBlobPlan& weights,
                                          const CodegenOptions& options) {
  return DescriptorEmitter(out, module, weights, options).emit(functions);
}

}  // namespace bitnetc::target
