// pack-weights: every ternary weight in the layout its bitlinear's kernel reads (the `kernel`
// attribute select-kernels set). A weight already in that layout is kept as it is: a file-backed
// one stays a mapping of the checkpoint (nothing copied); its codes are checked, since the
// kernels trust them (a 2-bit code 3, or an i8 value outside -1..1, is an error naming the
// weight and the position). Others are repacked into owned bytes. A weight that bitlinears with
// different layouts share keeps its bytes for the first and gets a repacked copy for the others.
#include <algorithm>
#include <map>

#include "compiler/support/Error.h"
#include "targets/passes/KernelTable.h"
#include "targets/passes/TargetPasses.h"

namespace bitnetc::target {
namespace {

// Throws on an invalid code in rows < out (padding rows of the last 2-bit block are ignored).
void checkTernaryCodes(const Weight& w) {
  const int64_t out = w.type.dims.at(0).size, in = w.type.dims.at(1).size;
  if (w.layout == kLayoutHFBlocked) {
    const int64_t R = (out + 3) / 4;
    for (int64_t r = 0; r < R; ++r) {
      uint8_t mask = 0;  // the low bit of every 2-bit field that holds a real row
      for (int64_t i = 0; i < 4; ++i)
        if (i * R + r < out) mask |= uint8_t(1u << (2 * i));
      const uint8_t* row = w.data + r * in;
      uint8_t bad = 0;
      for (int64_t c = 0; c < in; ++c) bad |= uint8_t(row[c] & (row[c] >> 1) & mask);
      if (!bad) continue;
      for (int64_t c = 0; c < in; ++c)
        for (int64_t i = 0; i < 4; ++i)
          if (i * R + r < out && ((row[c] >> (2 * i)) & 3) == 3)
            fail("weight @", w.name, ": invalid packed code 3 at packed [", r, ", ", c, "] (row ",
                 i * R + r, ")");
    }
  } else if (w.layout == kLayoutI8) {
    const int8_t* v = reinterpret_cast<const int8_t*>(w.data);
    const int64_t n = out * in;
    int8_t lo = 0, hi = 0;
    for (int64_t i = 0; i < n; ++i) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
    if (lo < -1 || hi > 1)
      for (int64_t i = 0; i < n; ++i)
        if (v[i] < -1 || v[i] > 1)
          fail("weight @", w.name, ": value ", int(v[i]), " at [", i / in, ", ", i % in, "] is not ternary");
  } else if (w.layout == kLayoutMad2 || w.layout == kLayoutLut3) {
    (void)w.unpackTernary();  // throws naming the weight and the position of an invalid code
  } else {
    fail("weight @", w.name, ": unknown ternary layout \"", w.layout, "\"");
  }
}

// Repacks w's logical values into `layout`, owned.
void repack(Weight& w, std::string_view layout) {
  const int64_t out = w.type.dims.at(0).size, in = w.type.dims.at(1).size;
  auto bytes = std::make_shared<std::vector<uint8_t>>(packTernary(layout, out, in, w.unpackTernary()));
  w.layout = std::string(layout);
  w.owned = std::move(bytes);
  w.data = w.owned->data();
  w.byteSize = w.owned->size();
  w.file.reset();
  w.fileOffset = 0;
  w.filePath.clear();
}

class PackWeights : public Pass {
 public:
  std::string_view name() const override { return "pack-weights"; }
  std::string_view description() const override {
    return "convert each ternary weight to the layout of its bitlinear kernel";
  }

  void run(Module& module) override {
    struct Use {
      Op* op;
      std::string_view layout;
    };
    std::vector<std::string> order;  // weight names, first use first
    std::map<std::string, std::vector<Use>> uses;
    for (const auto& f : module.functions())
      for (const auto& op : f->ops()) {
        if (op->opcode != "bitlinear") continue;
        if (!op->attrs.has("kernel"))
          fail("@", f->name(), ": ", op->describe(), " has no `kernel` attribute: run select-kernels first");
        const std::string& kernelName = op->attrs.getString("kernel");
        const BitlinearKernel* kernel = findBitlinearKernel(kernelName);
        if (!kernel)
          fail("@", f->name(), ": ", op->describe(), ": unknown bitlinear kernel '", kernelName,
               "' (known: ", bitlinearKernelNames(), ")");
        const Value* w = op->operands.at(2);
        if (!w->isWeight()) fail("@", f->name(), ": ", op->describe(), ": operand 2 is not a weight");
        if (!uses.count(w->name)) order.push_back(w->name);
        uses[w->name].push_back({op.get(), kernel->layout});
      }
    for (const std::string& name : order) {
      Weight& w = mutableWeight(module, name);
      const std::vector<Use>& us = uses[name];
      const bool keep = std::any_of(us.begin(), us.end(), [&](const Use& u) { return u.layout == w.layout; });
      if (keep) checkTernaryCodes(w);
      else repack(w, us.front().layout);
      // Ops that need yet another layout get a repacked copy each layout.
      std::map<std::string_view, Value*> copies;
      for (const Use& u : us) {
        if (u.layout == w.layout) continue;
        Value*& copy = copies[u.layout];
        if (!copy) {
          Weight c = w;
          c.name = uniqueName(module, name + "." + std::string(u.layout));
          repack(c, u.layout);
          copy = module.addWeight(std::move(c));
        }
        u.op->operands[2] = copy;
      }
    }
  }

 private:
  static Weight& mutableWeight(Module& module, const std::string& name) {
    for (const auto& w : module.weights())
      if (w->name == name) return *w;
    fail("internal: weight @", name, " is not in the module");
  }

  static std::string uniqueName(const Module& module, const std::string& base) {
    std::string name = base;
    for (int i = 2; module.weightValue(name); ++i) name = base + "$" + std::to_string(i);
    return name;
  }
};

}  // namespace

std::unique_ptr<Pass> createPackWeightsPass() { return std::make_unique<PackWeights>(); }

}  // namespace bitnetc::target
