// The weight blob of a compiled model: every weight the functions use, each at a 64-byte
// aligned offset, in the layout the target passes chose. Generated code reads weight W at
// call->weights + offset(W). The blob is embedded in the library (an ELF object written here,
// streamed from the mapped checkpoint: never held in memory), written to OUT.weights
// (--weights=external, after a bitnet_weights_header) or built in memory (JIT).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/IR.h"

namespace bitnetc::target {

struct WeightBlobPlan {
  struct Entry {
    const Weight* weight;
    uint64_t offset;
    uint64_t bytes;
  };
  std::vector<Entry> entries;  // in offset order
  uint64_t totalBytes = 0;
  uint64_t offsetOf(const Weight* w) const;  // throws if w is not in the blob
  std::map<const Weight*, uint64_t> offsets;
};

// Plans every weight of the module that a function uses.
WeightBlobPlan planWeightBlob(const Module& module);

// bitnet_hash64 of the blob's bytes (reads each weight once). The writers below return the same
// hash, computed while they stream the blob, so a compile reads the weights once.
uint64_t hashWeightBlob(const WeightBlobPlan& plan);

// The blob in memory, 64-byte aligned (JIT). Freed with the returned object.
struct WeightBlobMemory {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  WeightBlobMemory() = default;
  WeightBlobMemory(const WeightBlobMemory&) = delete;
  WeightBlobMemory& operator=(const WeightBlobMemory&) = delete;
  ~WeightBlobMemory();
};
std::unique_ptr<WeightBlobMemory> buildWeightBlobInMemory(const WeightBlobPlan& plan);

// OUT.weights: a bitnet_weights_header, then the blob at BITNET_WEIGHTS_DATA_OFFSET.
uint64_t writeWeightsFile(const WeightBlobPlan& plan, const std::string& modelName,
                          const std::string& path);

// A relocatable ELF object defining the hidden symbol `symbol` (the blob, 64-aligned) for the
// target triple (x86_64: a large .lrodata section, so a >2 GiB blob does not push other sections
// out of 32-bit range; aarch64: .rodata).
uint64_t writeWeightsObject(const WeightBlobPlan& plan, const std::string& triple,
                            const std::string& symbol, const std::string& path);

// Releases the pages of the files the blob's weights were read from (MappedFile::releasePages).
void releaseWeightPages(const WeightBlobPlan& plan);

}  // namespace bitnetc::target
