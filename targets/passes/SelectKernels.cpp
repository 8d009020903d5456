// select-kernels: the `kernel` attribute of every bitlinear, from the kernel table
// (KernelTable.h): forced by the pass option (--kernel=NAME), else the op's own attribute if it
// has one (it must exist and run on the target), else the best variant for the target.
#include "compiler/support/Error.h"
#include "targets/passes/KernelTable.h"
#include "targets/passes/TargetPasses.h"

namespace bitnetc::target {
namespace {

class SelectKernels : public Pass {
 public:
  SelectKernels(TargetInfo target, TargetPassOptions options)
      : target_(std::move(target)), options_(std::move(options)) {}
  std::string_view name() const override { return "select-kernels"; }
  std::string_view description() const override {
    return "choose the kernel of every bitlinear for the target (attribute `kernel`)";
  }

  void run(Module& module) override {
    const BitlinearKernel* forced =
        options_.kernel.empty() ? nullptr : &requireBitlinearKernel(options_.kernel, target_);
    for (const auto& f : module.functions())
      for (const auto& op : f->ops()) {
        if (op->opcode != "bitlinear") continue;
        const BitlinearKernel* kernel = forced;
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
