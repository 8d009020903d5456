#include "frontends/safetensors/SafetensorsFile.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/support/Error.h"
#include "compiler/support/JsonNesting.h"

namespace bitnetc {

namespace {

using json = nlohmann::json;

// The safetensors reference implementation refuses headers above 100 MB; so do we, so that a
// corrupt length cannot make us parse gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct DTypeInfo {
  std::string_view name;
  size_t size;
  std::optional<DType> ir;
};

constexpr DTypeInfo kDTypes[] = {
    {"BOOL", 1, std::nullopt},    {"U8", 1, DType::U8},          {"I8", 1, DType::I8},
    {"F8_E4M3", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt},  {"I16", 2, std::nullopt},
    {"U16", 2, std::nullopt},     {"F16", 2, DType::F16},        {"BF16", 2, DType::BF16},
    {"I32", 4, DType::I32},       {"U32", 4, std::nullopt},      {"F32", 4, DType::F32},
    {"I64", 8, DType::I64},       {"U64", 8, std::nullopt},      {"F64", 8, std::nullopt},
};

const DTypeInfo* dtypeInfo(std::string_view name) {
  for (const auto& d : kDTypes)
    if (d.name == name) return &d;
  return nullptr;
}

std::string knownDTypeList() {
  std::string s;
  for (const auto& d : kDTypes) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

}  // namespace

std::optional<size_t> safetensorsDTypeSize(std::string_view name) {
  if (const DTypeInfo* d = dtypeInfo(name)) return d->size;
  return std::nullopt;
}

std::optional<DType> safetensorsDTypeToIR(std::string_view name) {
  if (const DTypeInfo* d = dtypeInfo(name)) return d->ir;
  return std::nullopt;
}

int64_t SafetensorsTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string SafetensorsTensor::shapeStr() const { return shapeString(shape); }

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->mapped_ = MappedFile::open(path);
  file->parse();
  return file;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::parse() {
  const std::string& path = mapped_->path();
  const uint8_t* bytes = mapped_->data();
  const uint64_t fileSize = mapped_->size();
  if (fileSize < 8)
    fail(path, ": not a safetensors file: ", fileSize, " bytes, shorter than the 8-byte header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > fileSize - 8)
    fail(path, ": the header length ", headerLen, " reaches past the end of the file (", fileSize,
         " bytes; file truncated or not safetensors?)");
  if (headerLen > kMaxHeaderBytes)
    fail(path, ": the header length ", headerLen, " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  dataStart_ = 8 + headerLen;
  const uint64_t dataSize = fileSize - dataStart_;

  checkJsonNesting(std::string_view(reinterpret_cast<const char*>(bytes + 8), headerLen), path);
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + headerLen);
  } catch (const json::exception& e) {
    fail(path, ": the header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(path, ": the header is not a JSON object (it is ", header.type_name(), ")");

  // Validated tensors, with [begin, end) in the data section for the overlap check.
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(path, ": \"__metadata__\" is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string())
          fail(path, ": \"__metadata__\" entry \"", m.key(), "\" is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](const auto&... why) { fail(path, ": tensor \"", name, "\": ", why...); };
    if (!entry.is_object()) bad("the header entry is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) bad("missing \"", key, "\"");

    SafetensorsTensor t;
    t.name = name;
    t.file = this;
    if (!entry["dtype"].is_string()) bad("\"dtype\" is not a string");
    t.dtypeName = entry["dtype"].get<std::string>();
    const DTypeInfo* info = dtypeInfo(t.dtypeName);
    if (!info) bad("unknown dtype \"", t.dtypeName, "\" (known: ", knownDTypeList(), ")");
    t.dtype = info->ir;
    t.elementSize = info->size;

    const json& shape = entry["shape"];
    if (!shape.is_array()) bad("\"shape\" is not a list");
    uint64_t numel = 1;
    for (const json& d : shape) {
      if (!d.is_number_integer() || (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0))
        bad("\"shape\" must be a list of non-negative integers, got ", shape.dump());
      const uint64_t n = d.get<uint64_t>();
      if (n > uint64_t(INT64_MAX) || __builtin_mul_overflow(numel, n, &numel) || numel > uint64_t(INT64_MAX))
        bad("\"shape\" ", shape.dump(), " has too many elements");
      t.shape.push_back(int64_t(n));
    }

    const json& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      bad("\"data_offsets\" must be [begin, end] with non-negative integers, got ", offs.dump());
    const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end) bad("\"data_offsets\" ", offs.dump(), " has begin > end");
    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, uint64_t(t.elementSize), &expected))
      bad("\"shape\" ", shape.dump(), " is too large");
    if (end - begin != expected)
      bad("wrong size: ", t.dtypeName, " ", t.shapeStr(), " needs ", expected, " bytes but data_offsets ",
          offs.dump(), " give ", end - begin);
    if (end > dataSize)
      fail(path, ": tensor \"", name, "\" ends at byte ", end, " but the data section has ", dataSize,
           " bytes (file truncated?)");
    t.data = bytes + dataStart_ + begin;
    t.byteSize = size_t(end - begin);
    t.fileOffset = dataStart_ + begin;
    spans.push_back({begin, end, tensors_.size()});
    byName_[name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  for (size_t i = 1; i < spans.size(); ++i) {
    const Span& prev = spans[i - 1];
    const Span& cur = spans[i];
    // Empty tensors occupy no bytes and cannot overlap anything.
    if (cur.begin == cur.end || prev.begin == prev.end) continue;
    if (cur.begin < prev.end)
      fail(path, ": tensors \"", tensors_[prev.index].name, "\" (bytes ", prev.begin, "..", prev.end, ") and \"",
           tensors_[cur.index].name, "\" (bytes ", cur.begin, "..", cur.end, ") overlap");
  }
}

namespace {

std::string readTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CheckpointTensors CheckpointTensors::open(const std::string& folder) {
  namespace fs = std::filesystem;
  CheckpointTensors ct;
  // Absolute paths: the printed IR names the weight files, and must stay valid from any directory.
  const fs::path dir = fs::absolute(fs::path(folder)).lexically_normal();
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    ct.source_ = single.string();
    ct.files_.push_back(SafetensorsFile::open(ct.source_));
    for (const auto& t : ct.files_[0]->tensors()) ct.byName_[t.name] = &t;
    return ct;
  }
  if (!fs::exists(index))
    fail(folder, ": no model.safetensors or model.safetensors.index.json in the folder");

  ct.source_ = index.string();
  ct.sharded_ = true;
  const std::string indexText = readTextFile(ct.source_);
  checkJsonNesting(indexText, ct.source_);
  json j;
  try {
    j = json::parse(indexText);
  } catch (const json::exception& e) {
    fail(ct.source_, ": not valid JSON: ", e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(ct.source_, ": missing the \"weight_map\" object");
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      fail(ct.source_, ": weight_map entry \"", it.key(), "\" is not a file name");
    const std::string shard = it.value().get<std::string>();
    auto found = shards.find(shard);
    if (found == shards.end()) {
      const fs::path shardPath = dir / shard;
      if (!fs::exists(shardPath))
        fail(ct.source_, ": the shard \"", shard, "\" (holding tensor \"", it.key(), "\") is missing: ",
             shardPath.string(), " does not exist");
      found = shards.emplace(shard, SafetensorsFile::open(shardPath.string())).first;
      ct.files_.push_back(found->second);
    }
    const SafetensorsTensor* t = found->second->find(it.key());
    if (!t)
      fail(ct.source_, ": weight_map puts tensor \"", it.key(), "\" in ", found->second->path(),
           ", which has no such tensor");
    ct.byName_[it.key()] = t;
  }
  return ct;
}

const SafetensorsTensor* CheckpointTensors::find(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::vector<std::string> CheckpointTensors::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : byName_) out.push_back(name);
  return out;
}

}  // namespace bitnetc
