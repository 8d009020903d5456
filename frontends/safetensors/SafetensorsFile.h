// Reader of the safetensors container: u64 little-endian header length, a JSON header mapping
// tensor names to {dtype, shape, data_offsets} (offsets relative to the data section that follows
// the header), then the raw little-endian bytes. The file is memory-mapped; tensors point into the
// mapping (nothing is copied). Every structural defect is an Error naming the file and tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/Types.h"
#include "compiler/ir/Weights.h"

namespace bitnetc {

class SafetensorsFile;

struct SafetensorsTensor {
  std::string name;
  std::string dtypeName;          // as written in the header, e.g. "BF16"
  std::optional<DType> dtype;     // the IR dtype, when the IR has one (not for F64, I16, BOOL...)
  size_t elementSize = 0;         // bytes per element of dtypeName
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping
  size_t byteSize = 0;
  uint64_t fileOffset = 0;        // absolute offset in the file
  const SafetensorsFile* file = nullptr;

  int64_t numElements() const;
  std::string shapeStr() const;  // "[24, 64]"
};

class SafetensorsFile {
 public:
  // Maps and validates the file. Throws Error naming the file (and tensor) on any defect.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return mapped_->path(); }
  const std::shared_ptr<MappedFile>& mapped() const { return mapped_; }
  // Tensors in header order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // The optional "__metadata__" string map.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  uint64_t dataSectionOffset() const { return dataStart_; }

 private:
  SafetensorsFile() = default;
  void parse();
  std::shared_ptr<MappedFile> mapped_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> byName_;
  std::map<std::string, std::string> metadata_;
  uint64_t dataStart_ = 0;
};

// Bytes per element of a safetensors dtype name ("BF16" -> 2); nullopt if unknown.
std::optional<size_t> safetensorsDTypeSize(std::string_view name);
// The IR dtype of a safetensors dtype name, when the IR has one.
std::optional<DType> safetensorsDTypeToIR(std::string_view name);

// All tensors of a checkpoint folder: one model.safetensors, or the shards listed by
// model.safetensors.index.json (its "weight_map": tensor name -> shard file).
class CheckpointTensors {
 public:
  // Throws Error naming the folder / index file / shard at fault.
  static CheckpointTensors open(const std::string& folder);

  // nullptr if the checkpoint has no such tensor.
  const SafetensorsTensor* find(std::string_view name) const;
  // Where tensors are looked up: the single file, or the index file; for error messages.
  const std::string& source() const { return source_; }
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }
  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  bool sharded() const { return sharded_; }

 private:
  std::string source_;
  bool sharded_ = false;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsTensor*, std::less<>> byName_;
};

}  // namespace bitnetc
