// select-kernels: the `kernel` attribute of every bitlinear, from the kernel table
// (KernelTable.h). The pass option (--kernel=SPEC) is a comma-separated list of items:
//   NAME           every bitlinear that no pattern item names
//   PATTERN=NAME   the bitlinears whose result value (`l0.q`, `%l0.q`) or weight
//                  (`@model.layers.0.self_attn.q_proj.weight`) matches the glob PATTERN
//                  (`*`, `?`; `%`/`@` restrict it to the value/weight name); the first
//                  matching item wins, and a pattern that matches no bitlinear is an error.
// Without an item for an op: the op's own attribute if it has one (it must exist and run on the
// target), else the best variant for the target and shape (chooseBitlinearKernel).
#include <fnmatch.h>

#include <vector>

#include "compiler/support/Error.h"
#include "targets/passes/KernelTable.h"
#include "targets/passes/TargetPasses.h"

namespace bitnetc::target {
namespace {

struct KernelItem {
  std::string pattern;  // "" = every op no pattern matched
  const BitlinearKernel* kernel;
  bool used = false;
};

std::vector<KernelItem> parseKernelSpec(const std::string& spec, const TargetInfo& target) {
  std::vector<KernelItem> items;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) {
      if (end == spec.size()) break;
      fail("--kernel: an empty item in '", spec, "'");
    }
    const size_t eq = item.rfind('=');
    const std::string pattern = eq == std::string::npos ? "" : item.substr(0, eq);
    const std::string name = eq == std::string::npos ? item : item.substr(eq + 1);
    if (eq != std::string::npos && (pattern.empty() || pattern == "@" || pattern == "%"))
      fail("--kernel: item '", item, "' has an empty pattern");
    try {
      items.push_back({pattern, &requireBitlinearKernel(name, target)});
    } catch (const Error& e) {
      fail("--kernel: ", e.what());
    }
  }
  return items;
}

bool glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// Whether a pattern item names this op (by its result value or its weight).
bool matches(const std::string& pattern, const Op& op) {
  if (pattern[0] == '@') return glob(pattern.substr(1), op.operands.at(2)->name);
  if (pattern[0] == '%') return glob(pattern.substr(1), op.result()->name);
  return glob(pattern, op.result()->name) || glob(pattern, op.operands.at(2)->name);
}

class SelectKernels : public Pass {
 public:
  SelectKernels(TargetInfo target, TargetPassOptions options)
      : target_(std::move(target)), options_(std::move(options)) {}
  std::string_view name() const override { return "select-kernels"; }
  std::string_view description() const override {
    return "choose the kernel of every bitlinear for the target (attribute `kernel`)";
  }

  void run(Module& module) override {
    std::vector<KernelItem> items = parseKernelSpec(options_.kernel, target_);
    for (const auto& f : module.functions())
      for (const auto& op : f->ops()) {
        if (op->opcode != "bitlinear") continue;
        const BitlinearKernel* kernel = nullptr;
        for (KernelItem& item : items)
          if (!item.pattern.empty() && matches(item.pattern, *op)) {
            kernel = item.kernel;
            item.used = true;
            break;
          }
        for (KernelItem& item : items)
          if (!kernel && item.pattern.empty()) kernel = item.kernel, item.used = true;
        if (!kernel && op->attrs.has("kernel")) {
          try {
            kernel = &requireBitlinearKernel(op->attrs.getString("kernel"), target_);
          } catch (const Error& e) {
            fail("@", f->name(), ": ", op->describe(), ": ", e.what());
          }
        }
        if (!kernel) {
          const TensorType& w = op->operands.at(2)->type;
          kernel = &chooseBitlinearKernel(target_, w.dims.at(0).size, w.dims.at(1).size);
        }
        op->attrs.set("kernel", std::string(kernel->name));
      }
    for (const KernelItem& item : items)
      if (!item.pattern.empty() && !item.used)
        fail("--kernel: the pattern '", item.pattern, "' names no bitlinear (patterns match result values "
             "like l0.q and weights like @model.layers.0.self_attn.q_proj.weight)");
  }

 private:
  TargetInfo target_;
  TargetPassOptions options_;
};

}  // namespace

std::unique_ptr<Pass> createSelectKernelsPass(const TargetInfo& target, const TargetPassOptions& options) {
  return std::make_unique<SelectKernels>(target, options);
}

}  // namespace bitnetc::target
