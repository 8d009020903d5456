// importCheckpoint on folders written by test/models/gen_checkpoint.py: the graph's structure,
// weights mapped without copies, sharded == single file, the 1bitLLM ternarization, the code-3
// scan (padding rows ignored), and one error per defect the generator can plant.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "compiler/ir/Verifier.h"
#include "compiler/support/Error.h"
#include "frontends/safetensors/Import.h"
#include "frontends/safetensors/SafetensorsFile.h"

namespace bitnetc {
namespace {

namespace fs = std::filesystem;

// Runs the generator into a fresh folder named after the test (plus tag); returns the folder.
std::string generate(const std::string& args, const std::string& tag = "") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "-" + info->name() + tag;
  for (char& c : name)
    if (c == '/') c = '_';
  // Per-process folder: two test binaries may run at once.
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("bitnetc-st-import-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  const std::string cmd = std::string(BITNETC_PYTHON) + " " BITNETC_SOURCE_DIR "/test/models/gen_checkpoint.py " +
                          dir.string() + " " + args;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return dir.string();
}

std::string importError(const std::string& folder) {
  try {
    importCheckpoint(folder);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const Op* producer(const Function& f, const std::string& value) {
  const Value* v = f.lookup(value);
  return v ? v->producer : nullptr;
}

TEST(SafetensorsImport, TinyGraphStructure) {
  const std::string dir = generate("--preset tiny --seed 3");
  std::vector<std::string> notes;
  ImportOptions options;
  options.notes = &notes;
  auto m = importCheckpoint(dir, options);
  EXPECT_NO_THROW(verify(*m));

  EXPECT_EQ(m->attrs.getString("architecture"), "BitNetForCausalLM");
  EXPECT_EQ(m->attrs.getString("scale_rule"), "mul");
  EXPECT_EQ(m->attrs.getInt("vocab_size"), 256);
  EXPECT_EQ(m->attrs.getInt("max_context"), 128);
  EXPECT_EQ(m->attrs.getInt("bos_token_id"), 1);
  EXPECT_FALSE(m->attrs.has("tokenizer"));
  EXPECT_EQ(m->dim("seq").max, 128);
  bool sawRule = false;
  for (const auto& n : notes) sawRule |= n.find("scale rule mul") != std::string::npos;
  EXPECT_TRUE(sawRule);

  const Function* f = m->function("forward");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->inputs().size(), 2u);
  EXPECT_EQ(f->inputs()[0]->type.str(), "tensor<?seq x i32>");
  EXPECT_EQ(f->inputs()[1]->type.str(), "tensor<i64>");
  ASSERT_EQ(f->states().size(), 4u);
  EXPECT_EQ(f->states()[0]->name, "l0.k_cache");
  EXPECT_EQ(f->states()[3]->name, "l1.v_cache");
  EXPECT_EQ(f->states()[0]->type.str(), "tensor<128 x 2 x 16 x f32>");
  ASSERT_EQ(f->outputs().size(), 1u);
  EXPECT_EQ(f->outputs()[0]->type.str(), "tensor<?seq x 256 x f32>");

  // q, k, v share one act_quant; gate and up share another.
  for (int l = 0; l < 2; ++l) {
    const std::string p = "l" + std::to_string(l) + ".";
    const Op* q = producer(*f, p + "q");
    const Op* k = producer(*f, p + "k");
    const Op* v = producer(*f, p + "v");
    ASSERT_TRUE(q && k && v);
    EXPECT_EQ(q->opcode, "bitlinear");
    EXPECT_EQ(q->operand(0), k->operand(0));
    EXPECT_EQ(q->operand(0), v->operand(0));
    EXPECT_EQ(q->operand(1), v->operand(1));
    EXPECT_EQ(q->operand(0)->producer->opcode, "act_quant");
    const Op* gate = producer(*f, p + "gate");
    const Op* up = producer(*f, p + "up");
    ASSERT_TRUE(gate && up);
    EXPECT_EQ(gate->operand(0), up->operand(0));
    EXPECT_NE(gate->operand(0), q->operand(0));
    EXPECT_EQ(producer(*f, p + "gate_act")->opcode, "relu2");
    const Op* attn = producer(*f, p + "attn");
    ASSERT_NE(attn, nullptr);
    EXPECT_EQ(attn->attrs.getInt("heads"), 4);
    EXPECT_EQ(attn->attrs.getInt("kv_heads"), 2);
    EXPECT_EQ(attn->attrs.getInt("head_dim"), 16);
    EXPECT_DOUBLE_EQ(attn->attrs.getFloat("scale"), 0.25);
    EXPECT_DOUBLE_EQ(producer(*f, p + "q_rope")->attrs.getFloat("theta"), 500000.0);
    EXPECT_EQ(producer(*f, p + "k_rope")->attrs.getInt("heads"), 2);
  }
  int actQuants = 0, bitlinears = 0;
  for (const auto& op : f->ops()) {
    actQuants += op->opcode == "act_quant";
    bitlinears += op->opcode == "bitlinear";
  }
  EXPECT_EQ(actQuants, 2 * 4);
  EXPECT_EQ(bitlinears, 2 * 7);
  const Op* head = producer(*f, "logits");
  EXPECT_EQ(head->opcode, "matmul");
  EXPECT_TRUE(head->attrs.getBool("transpose_b"));
  EXPECT_EQ(head->operand(1)->name, "model.embed_tokens.weight");  // tied

  // Every weight points into the mapped file: nothing copied.
  int ternary = 0;
  for (const auto& w : m->weights()) {
    ASSERT_TRUE(w->file) << w->name;
    EXPECT_FALSE(w->owned) << w->name;
    EXPECT_EQ(w->data, w->file->data() + w->fileOffset) << w->name;
    EXPECT_EQ(w->byteSize, w->expectedBytes()) << w->name;
    if (w->isTernary()) {
      ++ternary;
      EXPECT_EQ(w->layout, "hf_blocked_2bit");
      EXPECT_EQ(w->scaleRule, ScaleRule::Mul);
      EXPECT_GE(w->scale, 1.0f);  // the generator draws U(1, 2)
      EXPECT_LT(w->scale, 2.0f);
    }
  }
  EXPECT_EQ(ternary, 14);
  const Weight* q0 = m->weightValue("model.layers.0.self_attn.q_proj.weight")->weight;
  EXPECT_EQ(q0->type.str(), "ternary<64 x 64>");
  // The scale is the checkpoint's BF16 weight_scale value.
  CheckpointTensors ct = CheckpointTensors::open(dir);
  const SafetensorsTensor* s = ct.find("model.layers.0.self_attn.q_proj.weight_scale");
  uint16_t bits;
  std::memcpy(&bits, s->data, 2);
  EXPECT_EQ(q0->scale, bf16ToFloat(bits));
}

TEST(SafetensorsImport, MaxContextOption) {
  const std::string dir = generate("--preset tiny");
  ImportOptions options;
  options.maxContext = 32;
  auto m = importCheckpoint(dir, options);
  EXPECT_EQ(m->dim("seq").max, 32);
  EXPECT_EQ(m->attrs.getInt("max_context"), 32);
  EXPECT_EQ(m->function("forward")->states()[0]->type.str(), "tensor<32 x 2 x 16 x f32>");
}

TEST(SafetensorsImport, ScaleRuleDivWithoutLinearClass) {
  for (const char* lc : {"none", "bitlinear"}) {
    auto m = importCheckpoint(generate(std::string("--preset tiny --linear-class ") + lc, lc));
    EXPECT_EQ(m->attrs.getString("scale_rule"), "div");
    EXPECT_EQ(m->weightValue("model.layers.1.mlp.down_proj.weight")->weight->scaleRule, ScaleRule::Div);
  }
}

TEST(SafetensorsImport, UntiedOddShapesGQA) {
  const std::string dir =
      generate("--hidden 100 --layers 1 --heads 5 --kv-heads 1 --head-dim 22 --ffn 170 --vocab 250 --untied");
  auto m = importCheckpoint(dir);
  EXPECT_NO_THROW(verify(*m));
  const Function* f = m->function("forward");
  EXPECT_EQ(producer(*f, "logits")->operand(1)->name, "lm_head.weight");
  EXPECT_EQ(m->weightValue("model.layers.0.self_attn.q_proj.weight")->type.str(), "ternary<110 x 100>");
  EXPECT_EQ(m->weightValue("model.layers.0.self_attn.k_proj.weight")->type.str(), "ternary<22 x 100>");
  EXPECT_EQ(m->weightValue("model.layers.0.self_attn.o_proj.weight")->type.str(), "ternary<100 x 110>");
  EXPECT_EQ(m->weightValue("model.layers.0.mlp.gate_proj.weight")->type.str(), "ternary<170 x 100>");
  EXPECT_EQ(m->weightValue("model.layers.0.self_attn.attn_sub_norm.weight")->type.str(), "tensor<110 x bf16>");
  EXPECT_EQ(f->states()[0]->type.str(), "tensor<128 x 1 x 22 x f32>");
  // The padding slots hold zeros; all real rows decode to -1/0/1.
  auto t = m->weightValue("model.layers.0.mlp.gate_proj.weight")->weight->unpackTernary();
  EXPECT_EQ(t.size(), 170u * 100u);
}

// Rewrites config.json with `from` replaced by `to` (the generator writes one key per line).
void editConfig(const std::string& folder, const std::string& from, const std::string& to) {
  const fs::path path = fs::path(folder) / "config.json";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(path) << text;
}

TEST(SafetensorsImport, TieWordEmbeddingsDecisions) {
  // Absent from the config: lm_head.weight in the checkpoint means untied.
  std::string dir = generate("--preset tiny --untied", "-absent");
  editConfig(dir, "\"tie_word_embeddings\": false,", "");
  std::vector<std::string> notes;
  ImportOptions options;
  options.notes = &notes;
  auto m = importCheckpoint(dir, options);
  EXPECT_EQ(producer(*m->function("forward"), "logits")->operand(1)->name, "lm_head.weight");
  bool noted = false;
  for (const auto& n : notes) noted |= n.find("untied (the checkpoint has lm_head.weight)") != std::string::npos;
  EXPECT_TRUE(noted);

  // true wins over a present lm_head.weight (as in HF), with a note.
  editConfig(dir, "\"torch_dtype\"", "\"tie_word_embeddings\": true, \"torch_dtype\"");
  notes.clear();
  m = importCheckpoint(dir, options);
  EXPECT_EQ(producer(*m->function("forward"), "logits")->operand(1)->name, "model.embed_tokens.weight");
  EXPECT_EQ(m->weightValue("lm_head.weight"), nullptr);
  noted = false;
  for (const auto& n : notes) noted |= n.find("lm_head.weight is ignored") != std::string::npos;
  EXPECT_TRUE(noted);

  // false without lm_head.weight: the tensor is missing.
  dir = generate("--preset tiny --tied", "-false");
  editConfig(dir, "\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
  EXPECT_EQ(importError(dir), dir + "/model.safetensors: missing tensor \"lm_head.weight\"");
}

TEST(SafetensorsImport, ShardedEqualsSingleFile) {
  auto single = importCheckpoint(generate("--preset tiny --seed 5", "-single"));
  const std::string shardedDir = generate("--preset tiny --seed 5 --shards 3", "-sharded");
  ASSERT_TRUE(fs::exists(fs::path(shardedDir) / "model.safetensors.index.json"));
  auto sharded = importCheckpoint(shardedDir);
  EXPECT_NO_THROW(verify(*sharded));
  ASSERT_EQ(single->weights().size(), sharded->weights().size());
  std::map<std::string, std::string> files;
  for (const auto& w : single->weights()) {
    const Weight* o = sharded->weightValue(w->name)->weight;
    EXPECT_EQ(o->type, w->type) << w->name;
    EXPECT_EQ(o->scale, w->scale) << w->name;
    ASSERT_EQ(o->byteSize, w->byteSize) << w->name;
    EXPECT_EQ(std::memcmp(o->data, w->data, w->byteSize), 0) << w->name;
    files[o->file->path()] = w->name;
  }
  EXPECT_EQ(files.size(), 3u);  // the weights really come from three shard files
}

TEST(SafetensorsImport, OneBitLLMTernarizedAtImport) {
  const std::string dir = generate("--format 1bitllm --preset tiny --seed 7");
  std::vector<std::string> notes;
  ImportOptions options;
  options.notes = &notes;
  auto m = importCheckpoint(dir, options);
  EXPECT_NO_THROW(verify(*m));
  EXPECT_EQ(m->attrs.getString("architecture"), "BitnetForCausalLM");
  EXPECT_EQ(m->attrs.getString("scale_rule"), "mul");
  const Function* f = m->function("forward");
  EXPECT_EQ(producer(*f, "l0.gate_act")->opcode, "silu");
  EXPECT_EQ(producer(*f, "l0.attn_sub_norm")->operand(1)->name, "model.layers.0.self_attn.inner_attn_ln.weight");
  EXPECT_EQ(producer(*f, "l1.ffn_sub_norm")->operand(1)->name, "model.layers.1.mlp.ffn_layernorm.weight");
  EXPECT_EQ(producer(*f, "logits")->operand(1)->name, "lm_head.weight");
  bool noted = false;
  for (const auto& n : notes) noted |= n.find("ternarized at import") != std::string::npos;
  EXPECT_TRUE(noted);

  // The absmean rule, recomputed from the F16 latent tensor.
  CheckpointTensors ct = CheckpointTensors::open(dir);
  for (const char* name : {"model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.down_proj.weight"}) {
    const Weight* w = m->weightValue(name)->weight;
    ASSERT_TRUE(w->owned) << name;
    EXPECT_EQ(w->layout, "hf_blocked_2bit");
    EXPECT_EQ(w->scaleRule, ScaleRule::Mul);
    const SafetensorsTensor* latent = ct.find(name);
    ASSERT_EQ(latent->dtypeName, "F16");
    const int64_t n = latent->numElements();
    std::vector<float> x(static_cast<size_t>(n));
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, latent->data + 2 * i, 2);
      x[size_t(i)] = f16ToFloat(b);
      sum += std::fabs(double(x[size_t(i)]));
    }
    const float scale = std::max(float(sum / double(n)), 1e-5f);
    EXPECT_EQ(w->scale, scale) << name;
    const std::vector<int8_t> t = w->unpackTernary();
    int zeros = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float r = std::nearbyint(x[size_t(i)] * (1.0f / scale));
      ASSERT_EQ(t[size_t(i)], int8_t(std::clamp(r, -1.0f, 1.0f))) << name << " element " << i;
      zeros += t[size_t(i)] == 0;
    }
    EXPECT_GT(zeros, 0);
    EXPECT_LT(zeros, n);
  }
}

TEST(SafetensorsImport, TokenizerPathIsAbsolute) {
  const fs::path tok = fs::path(::testing::TempDir()) / ("bitnetc-st-tokenizer-" + std::to_string(::getpid()) + ".json");
  std::ofstream(tok) << R"({"model": {"type": "BPE"}})";
  auto m = importCheckpoint(generate("--preset tiny --tokenizer " + tok.string()));
  const std::string path = m->attrs.getString("tokenizer");
  EXPECT_TRUE(fs::path(path).is_absolute()) << path;
  EXPECT_EQ(fs::path(path).filename(), "tokenizer.json");
  EXPECT_TRUE(fs::exists(path));
}

// Writes byte value v at byte `index` of a tensor's data in its file.
void patchTensorByte(const std::string& folder, const std::string& tensor, size_t index, uint8_t v) {
  uint64_t offset;
  {
    CheckpointTensors ct = CheckpointTensors::open(folder);
    const SafetensorsTensor* t = ct.find(tensor);
    ASSERT_NE(t, nullptr);
    ASSERT_LT(index, t->byteSize);
    offset = t->fileOffset + index;
  }
  std::fstream f(fs::path(folder) / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(offset));
  f.put(char(v));
}

TEST(SafetensorsImport, Code3InPaddingIsIgnoredElsewhereAnError) {
  // gate_proj out = 170: R = 43 packed rows, slot 3 covers rows 129..171, so packed rows 41 and 42
  // hold padding in slot 3 (rows 170 and 171).
  const std::string dir = generate("--hidden 64 --layers 1 --heads 4 --kv-heads 2 --ffn 170 --vocab 64");
  const std::string gate = "model.layers.0.mlp.gate_proj.weight";
  patchTensorByte(dir, gate, 42 * 64 + 5, 0xC0 | 0x15);  // slot 3 = code 3 in a padding row
  EXPECT_EQ(importError(dir), "");
  patchTensorByte(dir, gate, 40 * 64 + 7, 0xC0 | 0x15);  // slot 3 of packed row 40 is row 169: real
  EXPECT_EQ(importError(dir), dir + "/model.safetensors: tensor \"" + gate +
                                  "\": invalid packed code 3 at packed [40, 7] (row 169 of the ternary matrix)");
}

TEST(SafetensorsImport, Code3DeepInALargeTensor) {
  // down_proj [256, 1024] packs into 64 x 1024 bytes: the word scan covers it in 4 KiB blocks.
  const std::string dir = generate("--hidden 256 --layers 1 --heads 4 --kv-heads 4 --ffn 1024 --vocab 64");
  const std::string down = "model.layers.0.mlp.down_proj.weight";
  patchTensorByte(dir, down, 50 * 1024 + 999, 0x1D);  // 0b00011101: slot 1 holds code 3
  EXPECT_EQ(importError(dir), dir + "/model.safetensors: tensor \"" + down +
                                  "\": invalid packed code 3 at packed [50, 999] (row 114 of the ternary matrix)");
}

struct BrokenCase {
  const char* kind;
  const char* args;
  std::vector<const char*> mentions;  // the error message contains each of these
};

class SafetensorsImportBroken : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(SafetensorsImportBroken, ErrorNamesFileAndCulprit) {
  const BrokenCase& c = GetParam();
  const std::string dir = generate(std::string("--preset tiny --broken ") + c.kind + " " + c.args);
  const std::string e = importError(dir);
  ASSERT_FALSE(e.empty()) << c.kind << ": the import did not fail";
  EXPECT_EQ(e.rfind(dir + "/", 0), 0u) << e;  // starts with the culprit file's path
  for (const char* m : c.mentions) EXPECT_NE(e.find(m), std::string::npos) << "'" << m << "' not in: " << e;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SafetensorsImportBroken,
    ::testing::Values(
        BrokenCase{"truncated", "", {"model.safetensors", "\"model.norm.weight\" ends at byte", "file truncated?"}},
        BrokenCase{"header-past-end", "", {"model.safetensors", "header length", "past the end of the file"}},
        BrokenCase{"bad-json", "", {"model.safetensors", "header is not valid JSON"}},
        BrokenCase{"offsets-outside", "", {"\"model.layers.0.input_layernorm.weight\" ends at byte", "data section"}},
        BrokenCase{"overlapping", "", {"model.layers.0.input_layernorm.weight", "post_attention_layernorm", "overlap"}},
        BrokenCase{"wrong-dtype", "", {"\"model.layers.0.self_attn.q_proj.weight\" has dtype I8", "expected U8"}},
        BrokenCase{"wrong-shape", "",
                   {"\"model.layers.0.mlp.gate_proj.weight\" has shape [64, 24], expected [24, 64]"}},
        BrokenCase{"missing-tensor", "", {"missing tensor \"model.layers.1.mlp.down_proj.weight\""}},
        BrokenCase{"code3", "", {"\"model.layers.0.self_attn.k_proj.weight\"", "invalid packed code 3 at packed [0, 0]"}},
        BrokenCase{"unknown-arch", "", {"config.json", "unsupported architecture \"LlamaForCausalLM\"", "BitNetForCausalLM"}},
        BrokenCase{"missing-config-key", "", {"config.json: missing key \"intermediate_size\""}},
        BrokenCase{"bad-scale", "", {"\"model.layers.0.self_attn.q_proj.weight_scale\"", "finite and positive"}},
        BrokenCase{"missing-shard", "--shards 3",
                   {"model.safetensors.index.json", "shard \"model-00003-of-00003.safetensors\"", "missing"}}),
    [](const ::testing::TestParamInfo<BrokenCase>& info) {
      std::string n = info.param.kind;
      for (char& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

TEST(SafetensorsImport, NotAFolder) {
  EXPECT_NE(importError("/nonexistent/model").find("/nonexistent/model: not a checkpoint folder"), std::string::npos);
}

}  // namespace
}  // namespace bitnetc
