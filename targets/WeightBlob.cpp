#include "targets/WeightBlob.h"

#include <llvm/BinaryFormat/ELF.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "compiler/support/Error.h"
#include "runtime/abi/bitnet_abi.h"

namespace bitnetc::target {
namespace {

constexpr uint64_t kAlign = 64;
uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Visits the blob in order as (pointer, size) pieces: each weight's bytes and the zero padding
// before the next one. Pieces of padding point at a static zero block.
template <typename Fn>
void forEachPiece(const WeightBlobPlan& plan, Fn&& fn) {
  static const uint8_t zeros[kAlign] = {};
  uint64_t at = 0;
  for (const auto& e : plan.entries) {
    if (e.offset > at) fn(zeros, e.offset - at);
    fn(e.weight->data, e.bytes);
    at = e.offset + e.bytes;
  }
  if (plan.totalBytes > at) fn(zeros, plan.totalBytes - at);
}

struct File {
  std::FILE* f;
  std::string path;
  File(const std::string& p) : f(std::fopen(p.c_str(), "wb")), path(p) {
    if (!f) fail("cannot write ", p, ": ", std::strerror(errno));
  }
  ~File() {
    if (f) std::fclose(f);
  }
  void write(const void* data, uint64_t n) {
    if (n && std::fwrite(data, 1, n, f) != n) fail("cannot write ", path, ": ", std::strerror(errno));
  }
  void zeros(uint64_t n) {
    static const uint8_t z[4096] = {};
    for (; n > 0; n -= std::min<uint64_t>(n, sizeof z)) write(z, std::min<uint64_t>(n, sizeof z));
  }
  void rewriteAt(long offset, const void* data, uint64_t n) {
    if (std::fseek(f, offset, SEEK_SET) != 0) fail("cannot write ", path, ": ", std::strerror(errno));
    write(data, n);
  }
  void close() {
    if (std::fclose(f) != 0) {
      f = nullptr;
      fail("cannot write ", path, ": ", std::strerror(errno));
    }
    f = nullptr;
  }
};

}  // namespace

uint64_t WeightBlobPlan::offsetOf(const Weight* w) const {
  auto it = offsets.find(w);
  if (it == offsets.end()) fail("internal: weight @", w->name, " is not in the weight blob");
  return it->second;
}

WeightBlobPlan planWeightBlob(const Module& module) {
  WeightBlobPlan plan;
  std::set<const Weight*> used;
  for (const auto& fn : module.functions()) {
    for (const auto& op : fn->ops())
      for (const Value* v : op->operands)
        if (v->isWeight()) used.insert(v->weight);
    for (const Value* v : fn->outputs())
      if (v->isWeight()) used.insert(v->weight);
  }
  uint64_t at = 0;
  for (const auto& w : module.weights()) {  // module order: deterministic
    if (!used.count(w.get())) continue;
    at = alignUp(at, kAlign);
    plan.entries.push_back({w.get(), at, w->byteSize});
    plan.offsets[w.get()] = at;
    at += w->byteSize;
  }
  plan.totalBytes = alignUp(at, kAlign);
  return plan;
}

namespace {

// bitnet_hash64 over pieces of any size: whole 16-byte blocks go to bitnet_hash_update, a remainder
// is carried over to the next piece.
class BlobHasher {
 public:
  explicit BlobHasher(uint64_t totalBytes) { bitnet_hash_init(&s_, totalBytes); }
  void add(const uint8_t* p, uint64_t n) {
    if (carried_) {
      const uint64_t take = std::min<uint64_t>(16 - carried_, n);
      std::memcpy(carry_ + carried_, p, take);
      carried_ += take;
      p += take;
      n -= take;
      if (carried_ < 16) return;
      bitnet_hash_update(&s_, carry_, 16);
      carried_ = 0;
    }
    const uint64_t whole = n & ~uint64_t(15);
    bitnet_hash_update(&s_, p, whole);
    std::memcpy(carry_, p + whole, n - whole);
    carried_ = n - whole;
  }
  uint64_t finish() { return bitnet_hash_final(&s_, carry_, carried_); }

 private:
  bitnet_hash_state s_;
  uint8_t carry_[16];
  uint64_t carried_ = 0;
};

}  // namespace

uint64_t hashWeightBlob(const WeightBlobPlan& plan) {
  BlobHasher hasher(plan.totalBytes);
  forEachPiece(plan, [&](const uint8_t* p, uint64_t n) { hasher.add(p, n); });
  return hasher.finish();
}

WeightBlobMemory::~WeightBlobMemory() { std::free(data); }

std::unique_ptr<WeightBlobMemory> buildWeightBlobInMemory(const WeightBlobPlan& plan) {
  auto blob = std::make_unique<WeightBlobMemory>();
  blob->size = plan.totalBytes;
  blob->data = static_cast<uint8_t*>(std::aligned_alloc(kAlign, std::max<uint64_t>(plan.totalBytes, kAlign)));
  if (!blob->data) fail("out of memory for the ", plan.totalBytes, "-byte weight blob");
  uint64_t at = 0;
  forEachPiece(plan, [&](const uint8_t* p, uint64_t n) {
    std::memcpy(blob->data + at, p, n);
    at += n;
  });
  return blob;
}

void releaseWeightPages(const WeightBlobPlan& plan) {
  std::set<const MappedFile*> files;
  for (const auto& e : plan.entries)
    if (e.weight->file) files.insert(e.weight->file.get());
  for (const MappedFile* f : files) f->releasePages();
}

uint64_t writeWeightsFile(const WeightBlobPlan& plan, const std::string& modelName,
                          const std::string& path) {
  bitnet_weights_header header{};
  std::memcpy(header.magic, BITNET_WEIGHTS_MAGIC, 8);
  header.abi_version = BITNET_ABI_VERSION;
  header.weight_bytes = int64_t(plan.totalBytes);
  std::snprintf(header.model_name, sizeof header.model_name, "%s", modelName.c_str());
  File out(path);
  out.write(&header, sizeof header);  // the hash is filled in once the blob has streamed by
  out.zeros(BITNET_WEIGHTS_DATA_OFFSET - sizeof header);
  BlobHasher hasher(plan.totalBytes);
  forEachPiece(plan, [&](const uint8_t* p, uint64_t n) {
    hasher.add(p, n);
    out.write(p, n);
  });
  header.weight_hash = int64_t(hasher.finish());
  out.rewriteAt(0, &header, sizeof header);
  out.close();
  return uint64_t(header.weight_hash);
}

uint64_t writeWeightsObject(const WeightBlobPlan& plan, const std::string& triple,
                            const std::string& symbol, const std::string& path) {
  using namespace llvm::ELF;
  const bool x86 = triple.rfind("x86_64", 0) == 0;
  const std::string sectionName = x86 ? ".lrodata" : ".rodata.bitnet_weights";
  // String tables.
  const std::string strtab = std::string("\0", 1) + symbol + '\0';
  std::string shstrtab(1, '\0');
  auto addName = [&](const std::string& n) {
    uint32_t at = uint32_t(shstrtab.size());
    shstrtab += n + '\0';
    return at;
  };
  const uint32_t nData = addName(sectionName), nSymtab = addName(".symtab"),
                 nStrtab = addName(".strtab"), nShstrtab = addName(".shstrtab"),
                 nStack = addName(".note.GNU-stack");

  Elf64_Sym syms[2] = {};
  syms[1].st_name = 1;
  syms[1].st_info = (STB_GLOBAL << 4) | STT_OBJECT;
  syms[1].st_other = STV_HIDDEN;
  syms[1].st_shndx = 1;
  syms[1].st_value = 0;
  syms[1].st_size = plan.totalBytes;

  const uint64_t dataOff = kAlign;  // after the 64-byte ELF header
  const uint64_t symOff = alignUp(dataOff + plan.totalBytes, 8);
  const uint64_t strOff = symOff + sizeof syms;
  const uint64_t shstrOff = strOff + strtab.size();
  const uint64_t shOff = alignUp(shstrOff + shstrtab.size(), 8);

  Elf64_Ehdr eh = {};
  std::memcpy(eh.e_ident, "\x7f" "ELF", 4);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_REL;
  eh.e_machine = x86 ? EM_X86_64 : EM_AARCH64;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = shOff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 6;
  eh.e_shstrndx = 4;

  Elf64_Shdr sh[6] = {};
  sh[1].sh_name = nData;
  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_flags = SHF_ALLOC | (x86 ? uint64_t(SHF_X86_64_LARGE) : 0);
  sh[1].sh_offset = dataOff;
  sh[1].sh_size = plan.totalBytes;
  sh[1].sh_addralign = kAlign;
  sh[2].sh_name = nSymtab;
  sh[2].sh_type = SHT_SYMTAB;
  sh[2].sh_offset = symOff;
  sh[2].sh_size = sizeof syms;
  sh[2].sh_link = 3;
  sh[2].sh_info = 1;  // index of the first global symbol
  sh[2].sh_addralign = 8;
  sh[2].sh_entsize = sizeof(Elf64_Sym);
  sh[3].sh_name = nStrtab;
  sh[3].sh_type = SHT_STRTAB;
  sh[3].sh_offset = strOff;
  sh[3].sh_size = strtab.size();
  sh[3].sh_addralign = 1;
  sh[4].sh_name = nShstrtab;
  sh[4].sh_type = SHT_STRTAB;
  sh[4].sh_offset = shstrOff;
  sh[4].sh_size = shstrtab.size();
  sh[4].sh_addralign = 1;
  sh[5].sh_name = nStack;
  sh[5].sh_type = SHT_PROGBITS;
  sh[5].sh_offset = shOff;
  sh[5].sh_addralign = 1;

  File out(path);
  out.write(&eh, sizeof eh);
  BlobHasher hasher(plan.totalBytes);
  forEachPiece(plan, [&](const uint8_t* p, uint64_t n) {
    hasher.add(p, n);
    out.write(p, n);
  });
  out.zeros(symOff - (dataOff + plan.totalBytes));
  out.write(syms, sizeof syms);
  out.write(strtab.data(), strtab.size());
  out.write(shstrtab.data(), shstrtab.size());
  out.zeros(shOff - (shstrOff + shstrtab.size()));
  out.write(sh, sizeof sh);
  out.close();
  return hasher.finish();
}

}  // namespace bitnetc::target
