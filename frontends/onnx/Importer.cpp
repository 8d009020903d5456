#include "frontends/onnx/Importer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "compiler/ir/OpDefs.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"

namespace bitnetc::onnxfe {

namespace {

constexpr size_t kMaxKnownElements = 4096;  // integer constants up to this size are tracked

bool isIntLike(DType t) { return isIntegerLike(t); }

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += std::string("\\") + c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}

std::string describeNode(const onnx::NodeProto& n, size_t index) {
  std::string s = "ONNX node ";
  if (!n.name().empty()) s += "'" + n.name() + "'";
  else if (n.output_size() > 0) s += "#" + std::to_string(index) + " (output '" + n.output(0) + "')";
  else s += "#" + std::to_string(index);
  return s + " (" + (n.domain().empty() || n.domain() == "ai.onnx" ? "" : n.domain() + ".") + n.op_type() + ")";
}

std::string onnxTypeString(const onnx::TypeProto& t) {
  if (!t.has_tensor_type()) return "a non-tensor type";
  std::string s = onnxTypeName(t.tensor_type().elem_type());
  if (!t.tensor_type().has_shape()) return s;
  s += " [";
  const auto& sh = t.tensor_type().shape();
  for (int i = 0; i < sh.dim_size(); ++i) {
    if (i) s += ", ";
    if (sh.dim(i).has_dim_value()) s += std::to_string(sh.dim(i).dim_value());
    else if (sh.dim(i).has_dim_param()) s += sh.dim(i).dim_param();
    else s += "?";
  }
  return s + "]";
}

}  // namespace

std::string sanitizeName(std::string_view name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$') ? c : '_';
  if (s.empty()) s = "v";
  // All-digit names are the printer's fresh numbers.
  if (std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) s = "v" + s;
  return s;
}

Importer::Importer(LoadedOnnx& src, const OnnxImportOptions& options)
    : src_(src), options_(options), module_(std::make_unique<Module>()), files_(src.dir) {
  addElementwiseLowerings(table_);
  addShapeLowerings(table_);
  addLinearLowerings(table_);
  addNormalizeLowerings(table_);
  for (const Lowering& l : table_) lowerings_[std::string(l.domain) + "::" + std::string(l.opType)] = &l;
}

std::string Importer::uniqueValueName(std::string_view onnxName) {
  std::string base = sanitizeName(onnxName), name = base;
  for (int k = 1; valueNames_.count(name); ++k) name = base + "." + std::to_string(k);
  valueNames_.insert(name);
  return name;
}

std::string Importer::uniqueWeightName(std::string_view onnxName) {
  std::string base = sanitizeName(onnxName), name = base;
  for (int k = 1; weightNames_.count(name); ++k) name = base + "." + std::to_string(k);
  weightNames_.insert(name);
  return name;
}

void Importer::note(std::string text) {
  if (options_.notes) options_.notes->push_back(std::move(text));
}

// ---- graph inputs and initializers ----

void Importer::importInitializers() {
  for (const auto& t : src_.model.graph().initializer()) {
    if (t.name().empty()) fail("an initializer has no name");
    addConstant(t);
  }
}

void Importer::addConstant(const onnx::TensorProto& t) {
  OValue v;
  v.onnxName = t.name();
  v.tensor = &t;
  const DType dt = irDType(t.data_type(), "the tensor '" + t.name() + "'");
  std::vector<Dim> dims;
  size_t count = 1;
  for (int64_t d : tensorShape(t)) {
    dims.push_back(Dim::fixed(d));
    count *= size_t(d);
  }
  v.type = TensorType(dt, dims);
  // External data is checked up front (file, range), whether or not a node uses the tensor.
  if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
    files_.locate(t, count * dtypeSize(dt));
  if (isIntLike(dt) && count <= kMaxKnownElements)
    v.known = SymTensor::constant(dt, tensorShape(t), tensorInts(t, files_));
  values_[t.name()] = std::move(v);
}

void Importer::bindConstInputs() {
  for (const auto& [name, file] : options_.constInputs) {
    const onnx::ValueInfoProto* decl = nullptr;
    for (const auto& in : src_.model.graph().input())
      if (in.name() == name) decl = &in;
    if (!decl) fail("--const-input ", name, ": the model has no graph input '", name, "'");
    std::ifstream f(file, std::ios::binary);
    if (!f) fail("--const-input ", name, ": cannot open ", file);
    ownedTensors_.emplace_back();
    onnx::TensorProto& t = ownedTensors_.back();
    if (!t.ParseFromIstream(&f)) fail("--const-input ", name, ": ", file, " is not a TensorProto");
    t.set_name(name);
    if (t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)
      fail("--const-input ", name, ": ", file, " holds external data");
    const auto& tt = decl->type().tensor_type();
    if (tt.elem_type() != t.data_type())
      fail("--const-input ", name, ": ", file, " is ", onnxTypeName(t.data_type()), " but the input is ",
           onnxTypeName(tt.elem_type()));
    if (tt.has_shape()) {
      bool ok = tt.shape().dim_size() == t.dims_size();
      for (int i = 0; ok && i < t.dims_size(); ++i)
        ok = !tt.shape().dim(i).has_dim_value() || tt.shape().dim(i).dim_value() == t.dims(i);
      if (!ok) fail("--const-input ", name, ": the shape of ", file, " does not match the input's");
    }
    addConstant(t);
  }
}

void Importer::importInputs() {
  std::set<std::string> usedDimOptions;
  for (const auto& in : src_.model.graph().input()) {
    if (options_.constInputs.count(in.name())) continue;
    if (values_.count(in.name())) {
      note("graph input '" + in.name() + "' has an initializer: imported as that constant");
      continue;
    }
    const std::string what = "graph input '" + in.name() + "'";
    if (!in.type().has_tensor_type()) fail(what, " is not a tensor (only tensor inputs are supported)");
    const auto& tt = in.type().tensor_type();
    const DType dt = irDType(tt.elem_type(), what);
    if (!tt.has_shape()) fail(what, " has no shape: give its dims (dim_value or a named dim_param)");
    std::vector<Dim> dims;
    for (int i = 0; i < tt.shape().dim_size(); ++i) {
      const auto& d = tt.shape().dim(i);
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) fail(what, " dim ", i, " is ", d.dim_value());
        dims.push_back(Dim::fixed(d.dim_value()));
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        const std::string name = sanitizeName(d.dim_param());
        int64_t bound = options_.maxSeq;
        for (const std::string& key : {d.dim_param(), name})
          if (auto it = options_.dims.find(key); it != options_.dims.end()) {
            bound = it->second;
            usedDimOptions.insert(key);
          }
        bool declared = false;
        for (const auto& [n, b] : module_->dims()) declared |= n == name;
        if (!declared) module_->declareDim(name, bound);
        dims.push_back(module_->dim(name));
      } else {
        fail(what, " dim ", i, " is unknown (neither dim_value nor dim_param): name it in the model "
             "(a dim_param, bounded by --dim NAME=N or --max-seq) or fix its size");
      }
    }
    const std::string name = uniqueValueName(in.name());
    if (name != in.name()) ioNames_[name] = in.name();
    OValue v;
    v.onnxName = in.name();
    v.type = TensorType(dt, dims);
    v.ir = fn_->addInput(name, v.type);
    for (size_t i = 0; i < dims.size(); ++i)
      if (dims[i].isDynamic() && !dimSources_.count(dims[i].name)) dimSources_[dims[i].name] = {v.ir, i};
    values_[in.name()] = std::move(v);
  }
  for (const auto& [key, n] : options_.dims)
    if (!usedDimOptions.count(key)) {
      std::string have;
      for (const auto& [d, b] : module_->dims()) have += (have.empty() ? "" : ", ") + d;
      fail("--dim ", key, "=", n, ": the model's inputs have no dim_param '", key, "' (they have: ",
           have.empty() ? "none" : have, ")");
    }
}

// ---- per node ----

OValue& Importer::in(size_t i) {
  if (!has(i)) fail("input ", i, " is required");
  auto it = values_.find(node_->input(int(i)));
  if (it == values_.end())
    fail("input ", i, " '", node_->input(int(i)),
         "' is not defined (no graph input, initializer or earlier node output has that name)");
  return it->second;
}

Value* Importer::ir(size_t i) { return materialize(in(i)); }

const SymTensor* Importer::known(size_t i) {
  OValue& v = in(i);
  return v.known ? &*v.known : nullptr;
}

bool Importer::allInputsKnown() {
  for (size_t i = 0; i < numInputs(); ++i)
    if (has(i) && !known(i)) return false;
  return true;
}

std::vector<int64_t> Importer::constInts(size_t i, std::string_view what) {
  const SymTensor* k = known(i);
  if (!k) fail("input ", i, " (", what, ") must be a constant known at import");
  if (!k->allConst()) fail("input ", i, " (", what, ") = ", k->str(), " must be constant, not depend on dynamic dims");
  return k->consts();
}

std::optional<std::vector<double>> Importer::constFloats(size_t i) {
  OValue& v = in(i);
  if (v.tensor) return tensorFloats(*v.tensor, files_);
  if (v.known && v.known->allConst()) {
    std::vector<double> d;
    for (int64_t x : v.known->consts()) d.push_back(double(x));
    return d;
  }
  return std::nullopt;
}

const onnx::AttributeProto* Importer::attr(std::string_view name) const {
  for (const auto& a : node_->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t Importer::attrInt(std::string_view name, int64_t fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) fail("attribute '", name, "' must be an int");
  return a->i();
}

double Importer::attrFloat(std::string_view name, double fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) fail("attribute '", name, "' must be a float");
  return a->f();
}

std::optional<std::vector<int64_t>> Importer::attrIntsOpt(std::string_view name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  if (a->type() != onnx::AttributeProto::INTS) fail("attribute '", name, "' must be a list of ints");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<int64_t> Importer::attrInts(std::string_view name) const {
  return attrIntsOpt(name).value_or(std::vector<int64_t>{});
}

const std::string& Importer::outName(size_t out) { return outNames_.at(out); }

std::string Importer::tmpName(std::string_view suffix) {
  const std::string base = node_ && !outNames_.empty() ? outNames_[0] : "out";
  std::string name;
  do name = base + "." + std::string(suffix) + std::to_string(tmpCounter_++);
  while (valueNames_.count(name));
  valueNames_.insert(name);
  return name;
}

void Importer::define(size_t out, Value* v) {
  OValue o;
  o.onnxName = node_->output(int(out));
  o.type = v->type;
  o.ir = v;
  values_[o.onnxName] = std::move(o);
}

void Importer::defineSame(size_t out, OValue& v) {
  if (v.tensor && !v.known) materialize(v);  // float data: one weight for both names
  OValue o = v;
  o.onnxName = node_->output(int(out));
  values_[o.onnxName] = std::move(o);
}

void Importer::defineKnown(size_t out, SymTensor t) {
  OValue o;
  o.onnxName = node_->output(int(out));
  std::vector<Dim> dims;
  for (int64_t d : t.shape) dims.push_back(Dim::fixed(d));
  o.type = TensorType(t.dtype, dims);
  o.known = std::move(t);
  values_[o.onnxName] = std::move(o);
}

void Importer::defineTensor(size_t out, const onnx::TensorProto& t) {
  ownedTensors_.push_back(t);
  ownedTensors_.back().set_name(node_->output(int(out)));
  addConstant(ownedTensors_.back());
}

// ---- IR ops ----

Value* Importer::emit(std::string opcode, std::vector<Value*> operands, AttributeList attrs, std::string name) {
  const OpDef* def = findOpDef(opcode);
  if (!def) fail("the IR has no '", opcode, "' op (yet)");
  Op* op = fn_->addOp(opcode, std::move(operands), {{name, TensorType()}}, std::move(attrs));
  try {
    op->results[0]->type = def->inferResults(*op).at(0);
    checkOp(*op);
  } catch (const Error& e) {
    fail("cannot build %", name, " = ", opcode, ": ", e.what());
  }
  return op->results[0];
}

Value* Importer::emitTyped(std::string opcode, std::vector<Value*> operands, AttributeList attrs,
                           TensorType type, std::string name) {
  if (!findOpDef(opcode)) fail("the IR has no '", opcode, "' op (yet)");
  Op* op = fn_->addOp(opcode, std::move(operands), {{name, std::move(type)}}, std::move(attrs));
  try {
    checkOp(*op);
  } catch (const Error& e) {
    fail("cannot build %", name, " = ", opcode, ": ", e.what());
  }
  return op->results[0];
}

namespace {

// The reshape attribute that yields `out` from `in`: static sizes, 0 where the dynamic dim sits
// at the same index of the input, -1 for one other dynamic dim.
std::optional<std::vector<int64_t>> reshapeAttr(const std::vector<Dim>& in, const std::vector<Dim>& out) {
  std::vector<int64_t> attr;
  bool inferred = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].isDynamic()) attr.push_back(out[i].size);
    else if (i < in.size() && sameDim(in[i], out[i])) attr.push_back(0);
    else if (!inferred) {
      attr.push_back(-1);
      inferred = true;
    } else return std::nullopt;
  }
  return attr;
}

bool isOne(const Dim& d) { return !d.isDynamic() && d.size == 1; }

}  // namespace

Value* Importer::reshapeTo(Value* x, const std::vector<Dim>& dims, std::string name) {
  const TensorType target(x->type.dtype, dims);
  if (sameType(x->type, target)) return x;
  auto check = [&](Value* r) {
    if (!sameType(r->type, target))
      fail("cannot reshape ", x->type.str(), " to ", target.str(), " (the IR inferred ", r->type.str(), ")");
    return r;
  };
  if (auto attr = reshapeAttr(x->type.dims, dims)) {
    AttributeList a;
    a.set("shape", *attr);
    return check(emit("reshape", {x}, std::move(a), name));
  }
  // Only size-1 axes move (unsqueeze/squeeze with several dynamic dims): transpose the 1s of the
  // input to the end, reshape them into the output's number of 1s, transpose those into place.
  std::vector<Dim> coreIn, coreOut;
  std::vector<int64_t> perm;
  for (size_t i = 0; i < x->type.rank(); ++i)
    if (!isOne(x->type.dims[i])) {
      coreIn.push_back(x->type.dims[i]);
      perm.push_back(int64_t(i));
    }
  for (size_t i = 0; i < x->type.rank(); ++i)
    if (isOne(x->type.dims[i])) perm.push_back(int64_t(i));
  size_t onesOut = 0;
  for (const Dim& d : dims) {
    if (isOne(d)) ++onesOut;
    else coreOut.push_back(d);
  }
  bool same = coreIn.size() == coreOut.size();
  for (size_t i = 0; same && i < coreIn.size(); ++i) same = sameDim(coreIn[i], coreOut[i]);
  if (!same)
    fail("cannot reshape ", x->type.str(), " to ", target.str(),
         ": the IR's reshape cannot place several dynamic dims at new positions");
  Value* v = x;
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == int64_t(i);
  if (!identity) {
    AttributeList a;
    a.set("perm", perm);
    v = emit("transpose", {v}, std::move(a), tmpName("t"));
  }
  std::vector<int64_t> shape(coreIn.size(), 0);
  shape.insert(shape.end(), onesOut, 1);
  AttributeList a;
  a.set("shape", shape);
  std::vector<int64_t> back(dims.size());
  size_t core = 0, one = coreIn.size();
  for (size_t j = 0; j < dims.size(); ++j) back[j] = int64_t(isOne(dims[j]) ? one++ : core++);
  bool backIdentity = true;
  for (size_t j = 0; j < back.size(); ++j) backIdentity &= back[j] == int64_t(j);
  v = emit("reshape", {v}, std::move(a), backIdentity ? name : tmpName("r"));
  if (!backIdentity) {
    AttributeList p;
    p.set("perm", back);
    v = emit("transpose", {v}, std::move(p), name);
  }
  return check(v);
}

Value* Importer::constant(DType t, const std::vector<int64_t>& shape, const std::vector<double>& values,
                          std::string_view hint) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim::fixed(d));
  return module_->addWeight(makeOwnedWeight(uniqueWeightName(hint), TensorType(t, dims), encodeElements(t, values)));
}

Value* Importer::constantInts(DType t, const std::vector<int64_t>& shape, const std::vector<int64_t>& values,
                              std::string_view hint) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim::fixed(d));
  return module_->addWeight(makeOwnedWeight(uniqueWeightName(hint), TensorType(t, dims), encodeInts(t, values)));
}

Dim Importer::dimOf(const SymElem& e, std::string_view what) const {
  if (e.isConst()) {
    if (e.value < 0) fail(what, " is ", e.value, ", not a valid size");
    return Dim::fixed(e.value);
  }
  if (e.isDim()) return e.dim;
  fail(what, " = ", e.str(), " is an expression of dynamic dims; the IR's dims are sizes or named ",
       "dynamic dims (?NAME), so it cannot be a result dim");
}

Value* Importer::dimValue(const Dim& d) {
  if (auto it = dimValues_.find(d.name); it != dimValues_.end()) return it->second;
  auto src = dimSources_.find(d.name);
  if (src == dimSources_.end()) fail("no graph input carries the dim ?", d.name);
  Value* shape = emit("shape", {src->second.first}, {}, uniqueValueName("shape." + src->second.first->name));
  AttributeList a;
  a.set("axis", int64_t(0));
  Value* index = constantInts(DType::I64, {1}, {int64_t(src->second.second)}, "index");
  Value* v = emit("gather", {shape, index}, std::move(a), uniqueValueName("dim." + d.name));
  dimValues_[d.name] = v;
  return v;
}

Value* Importer::materialize(OValue& v) {
  if (v.ir) return v.ir;
  if (v.tensor) {
    v.ir = module_->addWeight(tensorToWeight(*v.tensor, uniqueWeightName(v.onnxName), files_));
    return v.ir;
  }
  if (!v.known) fail("internal: the value '", v.onnxName, "' has no IR form");
  const SymTensor& k = *v.known;
  if (k.allConst()) {
    v.ir = constantInts(k.dtype, k.shape, k.consts(), v.onnxName);
    return v.ir;
  }
  if (k.hasExpr())
    fail("the value '", v.onnxName, "' = ", k.str(), " is computed from dynamic dims in a way the IR ",
         "cannot express (only sizes and ?NAME dims)");
  // Elements that are dims come from `shape` at run time.
  std::vector<Value*> parts;
  for (const SymElem& e : k.elems)
    parts.push_back(e.isConst() ? constantInts(DType::I64, {1}, {e.value}, "const") : dimValue(e.dim));
  Value* flat = parts[0];
  if (parts.size() > 1) {
    AttributeList a;
    a.set("axis", int64_t(0));
    flat = emit("concat", parts, std::move(a), uniqueValueName(v.onnxName + ".flat"));
  }
  std::vector<Dim> dims;
  for (int64_t d : k.shape) dims.push_back(Dim::fixed(d));
  const bool cast = k.dtype != DType::I64;
  Value* r = reshapeTo(flat, dims, uniqueValueName(cast ? v.onnxName + ".i64" : v.onnxName));
  if (cast) {
    AttributeList a;
    a.set("to", std::string(dtypeName(k.dtype)));
    r = emit("cast", {r}, std::move(a), uniqueValueName(v.onnxName));
  }
  v.ir = r;
  return r;
}

void Importer::checkAgainstInference(const std::string& name, const OValue& v) {
  auto it = src_.inferred.find(name);
  if (it == src_.inferred.end() || !it->second->has_tensor_type()) return;
  const auto& tt = it->second->tensor_type();
  bool bad = false;
  if (tt.elem_type() != 0) {
    try {
      bad |= irDType(tt.elem_type(), name) != v.type.dtype;
    } catch (const Error&) {
      bad = true;
    }
  }
  if (tt.has_shape()) {
    if (size_t(tt.shape().dim_size()) != v.type.rank()) bad = true;
    else
      for (size_t i = 0; i < v.type.rank(); ++i) {
        const auto& d = tt.shape().dim(int(i));
        if (d.has_dim_value() && !v.type.dims[i].isDynamic() && d.dim_value() != v.type.dims[i].size) bad = true;
      }
  }
  if (bad)
    fail("ONNX says '", name, "' is ", onnxTypeString(*it->second), " but the import computed ", v.type.str());
}

void Importer::lowerNode(const onnx::NodeProto& n, size_t index) {
  node_ = &n;
  try {
    const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
    auto it = lowerings_.find(domain + "::" + n.op_type());
    if (it == lowerings_.end()) {
      std::string list;
      for (const Lowering& l : table_)
        if (l.domain.empty()) list += (list.empty() ? "" : ", ") + std::string(l.opType);
      std::string ms;
      for (const Lowering& l : table_)
        if (!l.domain.empty()) ms += (ms.empty() ? "" : ", ") + std::string(l.domain) + "." + std::string(l.opType);
      fail("unsupported op ", domain.empty() ? "" : domain + ".", n.op_type(), "; supported ops: ", list,
           ms.empty() ? "" : "; and " + ms);
    }
    const Lowering& l = *it->second;
    if (domain == "com.microsoft" && src_.msOpset != 1)
      fail("com.microsoft opset ", src_.msOpset, " is not supported (1)");
    for (const auto& a : n.attribute())
      if (std::find(l.attrs.begin(), l.attrs.end(), a.name()) == l.attrs.end()) {
        std::string list;
        for (auto s : l.attrs) list += (list.empty() ? "" : ", ") + std::string(s);
        fail("attribute '", a.name(), "' is not supported (supported: ", list.empty() ? "none" : list, ")");
      }
    outNames_.clear();
    for (const auto& o : n.output()) outNames_.push_back(o.empty() ? std::string() : uniqueValueName(o));
    l.lower(*this);
    for (int i = 0; i < n.output_size(); ++i) {
      if (n.output(i).empty()) continue;
      auto v = values_.find(n.output(i));
      if (v == values_.end()) fail("output ", i, " '", n.output(i), "' is not supported");
      checkAgainstInference(n.output(i), v->second);
    }
  } catch (const Error& e) {
    fail(describeNode(n, index), ": ", e.what());
  }
  node_ = nullptr;
}

void Importer::setOutputs() {
  std::vector<Value*> outs;
  std::set<Value*> seen;
  outNames_.clear();
  for (const auto& o : src_.model.graph().output()) {
    auto it = values_.find(o.name());
    if (it == values_.end()) fail("graph output '", o.name(), "' is not computed by any node");
    OValue& v = it->second;
    if (o.type().has_tensor_type() && o.type().tensor_type().elem_type() != 0 &&
        irDType(o.type().tensor_type().elem_type(), "graph output '" + o.name() + "'") != v.type.dtype)
      fail("graph output '", o.name(), "' is declared ", onnxTypeString(o.type()), " but computes ", v.type.str());
    Value* ir = materialize(v);
    if (ir->kind != Value::Kind::Result || seen.count(ir)) {  // its own named copy
      std::vector<int64_t> zeros(ir->type.rank(), 0);
      for (size_t i = 0; i < zeros.size(); ++i)
        if (!ir->type.dims[i].isDynamic()) zeros[i] = ir->type.dims[i].size;
      AttributeList a;
      a.set("shape", zeros);
      ir = emit("reshape", {ir}, std::move(a), uniqueValueName(o.name()));
    }
    seen.insert(ir);
    if (ir->name != o.name()) ioNames_[ir->name] = o.name();
    outs.push_back(ir);
  }
  fn_->setOutputs(outs);
}

std::unique_ptr<Module> Importer::run() {
  fn_ = module_->addFunction("main");
  importInitializers();
  bindConstInputs();
  importInputs();
  const auto& g = src_.model.graph();
  for (int i = 0; i < g.node_size(); ++i) lowerNode(g.node(i), size_t(i));
  setOutputs();
  module_->attrs.set("source", std::string("onnx"));
  std::string io = "{";
  for (const auto& [ir, onnxName] : ioNames_) io += (io.size() > 1 ? ", " : "") + jsonString(ir) + ": " + jsonString(onnxName);
  module_->attrs.set("io_names", io + "}");
  verify(*module_);
  return std::move(module_);
}

}  // namespace bitnetc::onnxfe

namespace bitnetc {

std::unique_ptr<Module> importOnnx(const std::string& path, const OnnxImportOptions& options) {
  onnxfe::LoadedOnnx src;
  onnxfe::loadOnnx(path, src, options.notes);
  try {
    return onnxfe::Importer(src, options).run();
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

}  // namespace bitnetc
