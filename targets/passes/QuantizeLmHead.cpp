// quantize-lm-head (bitnetc --lm-head=int8): the LM head is over half of the bytes a decode
// token reads (PERF.md: 656 of 1178 MB on the 2B-4T shape). This pass replaces @forward's logits
//   %logits = matmul(%x, @W) {transpose_b}                 W bf16/f16/f32 [N, K]
// with per-row int8 weights and their scales (activations stay f32: no extra error from them)
//   %logits.q8 = matmul(%x, @W.q8) {transpose_b}           W.q8 i8 [N, K]
//   %logits = mul(%logits.q8, @W.q8_scale)                 W.q8_scale f32 [N]
// where per row n: scale_n = max_k |W[n, k]| / 127 (f32), W.q8[n, k] = roundeven(W[n, k] /
// scale_n) (|q| <= 127; an all-zero row gets scale 0 and zeros). i8 x f32 products are exact, so
// the matmul is as exact as the bf16 one; only the weights are rounded (half a step of 1/127 of
// the row's largest magnitude). The bf16 table stays when the embedding still reads it (tied
// weights); an untied head's table is dropped. docs/PERFORMANCE.md has the perplexity change.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "compiler/ir/Weights.h"
#include "compiler/support/Error.h"
#include "targets/passes/LmHeadPasses.h"

namespace bitnetc::target {
namespace {

bool usedAnywhere(const Module& m, const Value* v) {
  for (const auto& f : m.functions())
    for (const auto& op : f->ops())
      for (const Value* o : op->operands)
        if (o == v) return true;
  return false;
}

class QuantizeLmHeadPass : public Pass {
 public:
  std::string_view name() const override { return "quantize-lm-head"; }
  std::string_view description() const override {
    return "int8 LM head: @forward's logits matmul on per-row int8 weights times f32 row scales";
  }

  void run(Module& module) override {
    Function* f = module.function("forward");
    if (!f || f->outputs().size() != 1) return;
    Op* head = f->outputs()[0]->producer;
    if (!head || head->opcode != "matmul" || !head->attrs.getBool("transpose_b", false) ||
        head->operands.size() != 2 || !head->operand(1)->isWeight())
      return;
    Value* table = head->operand(1);
    const Weight& w = *table->weight;
    if (w.type.rank() != 2 || !(w.type.dtype == DType::BF16 || w.type.dtype == DType::F16 || w.type.dtype == DType::F32))
      return;
    const int64_t N = w.type.dims[0].size, K = w.type.dims[1].size;
    const std::vector<float> values = w.toFloats();
    std::vector<uint8_t> q(size_t(N * K));
    std::vector<uint8_t> scaleBytes(size_t(N) * 4);
    for (int64_t n = 0; n < N; ++n) {
      const float* row = values.data() + n * K;
      float amax = 0;
      for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
      if (!std::isfinite(amax)) fail("quantize-lm-head: row ", n, " of @", w.name, " is not finite");
      const float scale = amax / 127.0f;
      for (int64_t k = 0; k < K; ++k) {
        const double v = scale > 0 ? std::nearbyint(double(row[k]) / double(scale)) : 0.0;
        q[size_t(n * K + k)] = uint8_t(int8_t(std::clamp(v, -127.0, 127.0)));
      }
      std::memcpy(scaleBytes.data() + 4 * n, &scale, 4);
    }
    const std::string base = w.name;
    Value* qw = module.addWeight(makeOwnedWeight(base + ".q8", TensorType::of(DType::I8, {N, K}), std::move(q)));
    Value* sw = module.addWeight(makeOwnedWeight(base + ".q8_scale", TensorType::of(DType::F32, {N}), std::move(scaleBytes)));
    // The new matmul goes before the head, which becomes the mul (keeping the output's value).
    AttributeList mm;
    mm.set("transpose_b", true);
    if (head->attrs.getBool("f32_sum", false)) mm.set("f32_sum", true);
    Op* q8 = f->insertOpBefore(head, "matmul", {head->operand(0), qw},
                               {{head->result(0)->name + ".q8", head->result(0)->type}}, std::move(mm));
    head->opcode = "mul";
    head->operands = {q8->result(0), sw};
    head->attrs = AttributeList();
    remark("@", base, " [", N, " x ", K, "] ", dtypeName(w.type.dtype), " -> int8 with ", N, " row scales");
    if (!usedAnywhere(module, table)) module.removeWeight(base);  // w dangles from here
  }
};

}  // namespace

std::unique_ptr<Pass> createQuantizeLmHeadPass() { return std::make_unique<QuantizeLmHeadPass>(); }

}  // namespace bitnetc::target
