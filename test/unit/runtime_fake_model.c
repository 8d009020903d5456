/* The fake model of the runtime's unit tests: see runtime_fake_model.h. */
#include "runtime_fake_model.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Pseudo-random bytes (an LCG); their bitnet_hash64 is kWeightHash, which the test
 * RuntimeFakeModel.HashMatchesTheWeights recomputes. */
_Alignas(64) static const uint8_t kWeights[BITNET_FAKE_WEIGHT_BYTES] = {
    0xdc, 0x04, 0x65, 0xaa, 0x1f, 0xad, 0x1d, 0x5a, 0xda, 0xe5, 0xac, 0x1b, 0x1e, 0x5f, 0x13, 0x70,
    0x79, 0x6c, 0xfd, 0x10, 0xff, 0x19, 0xaf, 0x60, 0x1d, 0x04, 0xac, 0xb4, 0x1d, 0x02, 0x2b, 0x46,
    0x78, 0x73, 0x3a, 0xf2, 0xdf, 0x5f, 0xae, 0xb7, 0x08, 0x59, 0xd1, 0xee, 0x39, 0x10, 0xcb, 0x48,
    0x95, 0xb5, 0xcc, 0x89, 0x29, 0x11, 0xff, 0x06, 0xb6, 0x62, 0x2e, 0xdf, 0x3c, 0xf9, 0x35, 0xfd,
    0x4b, 0x94, 0x28, 0xca, 0x09, 0x7c, 0x44, 0xb3, 0x02, 0x5e, 0x96, 0x5f, 0xb3, 0xea, 0x6d, 0xac,
    0xd4, 0x2d, 0x81, 0x6e, 0x69, 0xaf, 0xe0, 0xe6, 0x87, 0x4c, 0x9c, 0x04, 0xe7, 0xd2, 0x36, 0x5d,
    0x2c, 0x60, 0xc9, 0xea, 0xf4, 0x79, 0xf6, 0x86, 0xa0, 0xeb, 0x93, 0x26, 0xe4, 0x62, 0x12, 0xd5,
    0x0d, 0xcb, 0xb3, 0x77, 0x15, 0x6a, 0x6a, 0x3a, 0x68, 0xba, 0x8e, 0xdb, 0x74, 0x08, 0x46, 0x9e,
    0xf3, 0xce, 0xb3, 0x0a, 0xf8, 0xd0, 0xdd, 0x68, 0xbb, 0xf8, 0x5f, 0xfa, 0x24, 0xf2, 0xd2, 0xfc,
    0x18, 0x87, 0xfb, 0x5c, 0x87, 0xba, 0xb4, 0x38, 0x32, 0xa5, 0x9b, 0x1b, 0x3d, 0x10, 0x7c, 0xf7,
    0x78, 0xd6, 0x7f, 0xe2, 0x6d, 0xf8, 0x11, 0x91, 0x29, 0x7e, 0x93, 0x95, 0xcb, 0x12, 0xc5, 0x57,
    0xce, 0x5a, 0xf1, 0xd4, 0x16, 0x18, 0xd7, 0x19, 0xbc, 0x04, 0x5b, 0x7e, 0x99, 0x65, 0xf1, 0xa2,
    0x94, 0x71, 0xc4, 0x2a, 0xac, 0x6a, 0xa9, 0x38, 0xc4, 0x75, 0xc7, 0xad, 0x32, 0x38, 0x02, 0x1f,
    0x05, 0x3b, 0x2c, 0x99, 0x1a, 0xfc, 0xeb, 0x15, 0xde, 0xcf, 0x68, 0xba, 0xe0, 0x7c, 0xbc, 0xd6,
    0x1e, 0x97, 0x1b, 0x9a, 0x0b, 0x9d, 0xbe, 0x97, 0x63, 0xd3, 0x92, 0xfc, 0xaf, 0xdf, 0xa2, 0x8c,
    0x97, 0x23, 0x45, 0x62, 0xeb, 0xdd, 0x07, 0x65, 0x70, 0xff, 0x58, 0x89, 0x6a, 0xcf, 0xf7, 0xca,
    0xee, 0x3f, 0x1c, 0xe9, 0xe4, 0x0a, 0x68, 0xe5, 0xde, 0x93, 0x8d, 0x38, 0x9c, 0x7d, 0xbd, 0xd7,
    0x5b, 0x09, 0xd4, 0xe7, 0xe2, 0x33, 0x44, 0x3f, 0x4a, 0x8c, 0xc4, 0xa1, 0x90, 0xd6, 0xb8, 0xb8,
    0xdc, 0x61, 0x5f, 0xd1, 0x8e, 0x28, 0xbe, 0x59, 0x0e, 0xaa, 0x50, 0x1b, 0x50, 0x8a, 0x6a, 0x36,
    0x29, 0xe6, 0x70, 0xdf, 0x55, 0x77, 0xba, 0xdc, 0x44, 0x6d, 0x43, 0xbb, 0xa9, 0x08, 0x17, 0xd6,
    0xc0, 0xf6, 0x7b, 0x08, 0x61, 0x70, 0xd9, 0x2d, 0xc9, 0x12, 0x72, 0x5b, 0x24,
};
#define kWeightHash ((int64_t)0xdc82865da27f6355ull)

/* Test observation only (which state_rows the runtime passed); not part of the model. */
static _Atomic int64_t state_rows_seen = -1;

static int64_t fail(const bitnet_call* call, int64_t status, const char* message, long long value) {
  snprintf(call->error, (size_t)call->error_size, message, value);
  return status;
}

typedef struct fill_logits {
  float* logits;
  const int64_t* sums; /* one per chunk row */
  int64_t pos;
} fill_logits;

static void fill_range(void* ctx, int64_t begin, int64_t end) {
  fill_logits* f = ctx;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t t = i / BITNET_FAKE_VOCAB, v = i % BITNET_FAKE_VOCAB;
    f->logits[i] = bitnet_fake_logit(f->sums[t], v, f->pos + t);
  }
}

static int64_t weight_of(const uint8_t* weights, int32_t token) {
  return weights[(token * 7) % BITNET_FAKE_WEIGHT_BYTES];
}

static int64_t forward(const bitnet_call* call) {
  const int64_t seq = call->dims[1];
  if (seq < 1 || seq > BITNET_FAKE_MAX_BATCH)
    return fail(call, BITNET_ERR_INTERNAL, "fake: chunk of %lld tokens", (long long)seq);
  if ((uintptr_t)call->scratch % 64 != 0 || (uintptr_t)call->weights % 64 != 0)
    return fail(call, BITNET_ERR_INTERNAL, "fake: scratch or weights not 64-byte aligned (%lld)", 0);
  atomic_store(&state_rows_seen, call->state_rows);
  const int32_t* tokens = call->inputs[0];
  const int64_t pos = *(const int64_t*)call->inputs[1];
  if (pos < 0 || pos + seq > call->state_rows)
    return fail(call, BITNET_ERR_CONTEXT_FULL, "fake: position %lld past the cache", (long long)(pos + seq));
  float* s0 = call->states[0];
  int32_t* s1 = call->states[1];
  memset(call->scratch, 0xAB, BITNET_FAKE_SCRATCH_BYTES); /* the whole scratch is ours */
  int64_t* sums = (int64_t*)call->scratch;
  for (int64_t t = 0; t < seq; ++t) {
    const int64_t r = pos + t;
    const int32_t token = tokens[t];
    s0[r * 2] = (float)token;
    s0[r * 2 + 1] = (float)weight_of(call->weights, token);
    s1[r * 3] = token;
    s1[r * 3 + 1] = (int32_t)r;
    s1[r * 3 + 2] = token * (int32_t)(r + 3);
  }
  for (int64_t t = 0; t < seq; ++t) {
    int64_t sum = 0;
    for (int64_t r = 0; r <= pos + t; ++r) {
      const int32_t token = s1[r * 3];
      if (s1[r * 3 + 1] != r || s0[r * 2] != (float)token || s1[r * 3 + 2] != token * (r + 3) ||
          s0[r * 2 + 1] != (float)weight_of(call->weights, token))
        return fail(call, BITNET_ERR_INTERNAL, "fake: state row %lld was not written", (long long)r);
      sum += token * (r + 1) + weight_of(call->weights, token) + token * (r + 3);
    }
    sums[t] = sum;
  }
  fill_logits fill = {call->outputs[0], sums, pos};
  bitnet_rt_parallel_for(call->pool, seq * BITNET_FAKE_VOCAB, fill_range, &fill);
  return BITNET_OK;
}

static int64_t forward_failing_at6(const bitnet_call* call) {
  const int64_t pos = *(const int64_t*)call->inputs[1];
  if (pos + call->dims[1] > 6)
    return fail(call, BITNET_ERR_INTERNAL, "fake forward fails at position %lld on purpose", (long long)pos);
  return forward(call);
}

static int64_t forward_returning99(const bitnet_call* call) { return 99; }

static const char* const kDimNames[] = {"unused", "seq"};
static const int64_t kDimMax[] = {7, BITNET_FAKE_MAX_CONTEXT};
static const bitnet_tensor_desc kInputs[] = {
    {"tokens", BITNET_I32, 1, {-2}},
    {"pos", BITNET_I64, 0, {0}},
};
static const bitnet_tensor_desc kOutputs[] = {{"logits", BITNET_F32, 2, {-2, BITNET_FAKE_VOCAB}}};
static const bitnet_tensor_desc kStates[] = {
    {"l0.k_cache", BITNET_F32, 2, {BITNET_FAKE_STATE_ROWS, 2}},
    {"l0.v_cache", BITNET_I32, 2, {BITNET_FAKE_STATE_ROWS, 3}},
};
#define FUNCTION(entry) {"forward", entry, 2, kInputs, 1, kOutputs, 2, kStates, BITNET_FAKE_SCRATCH_BYTES}
static const bitnet_function_desc kFunctions[] = {FUNCTION(forward)};
static const bitnet_function_desc kFailingFunctions[] = {FUNCTION(forward_failing_at6)};
static const bitnet_function_desc kFunctions99[] = {FUNCTION(forward_returning99)};
static const int64_t kEosIds[] = {2};

/* What generated code defines in a compiled model; read by bitnet__public_model_open. */
const bitnet_model_desc bitnet__model = {
    .abi_version = BITNET_ABI_VERSION,
    .name = "fake",
    .target = "x86_64-unknown-linux-gnu, cpu fake, +none",
    .metadata_json = "{\"architecture\": \"FakeForCausalLM\"}",
    .num_dims = 2,
    .dim_names = kDimNames,
    .dim_max = kDimMax,
    .num_functions = 1,
    .functions = kFunctions,
    .weight_bytes = BITNET_FAKE_WEIGHT_BYTES,
    .weight_hash = kWeightHash,
    .weights_embedded = kWeights,
    .weights_file_name = NULL,
    .is_lm = 1,
    .architecture = "FakeForCausalLM",
    .vocab_size = BITNET_FAKE_VOCAB,
    .max_context = BITNET_FAKE_MAX_CONTEXT,
    .max_batch = BITNET_FAKE_MAX_BATCH,
    .bos_token_id = 1,
    .eos_token_id = 2,
    .num_eos_ids = 1,
    .eos_ids = kEosIds,
    .tokenizer_json = NULL,
    .tokenizer_json_bytes = 0,
};

const uint8_t* bitnet_fake_weights(void) { return kWeights; }

int64_t bitnet_fake_row_term(int32_t token, int64_t row) {
  return token * (row + 1) + weight_of(kWeights, token) + token * (row + 3);
}

float bitnet_fake_logit(int64_t sum, int64_t v, int64_t position) {
  return (float)((sum * 131 + v * 17 + position) % 1009) - 504.0f;
}

int64_t bitnet_fake_last_state_rows(void) { return atomic_load(&state_rows_seen); }

bitnet_model_desc bitnet_fake_lm(void) { return bitnet__model; }

bitnet_model_desc bitnet_fake_external_weights(const char* file_name) {
  bitnet_model_desc d = bitnet__model;
  d.weights_embedded = NULL;
  d.weights_file_name = file_name;
  return d;
}

bitnet_model_desc bitnet_fake_generic(void) {
  bitnet_model_desc d = bitnet__model;
  d.is_lm = 0;
  d.architecture = "";
  return d;
}

bitnet_model_desc bitnet_fake_failing_at_position6(void) {
  bitnet_model_desc d = bitnet__model;
  d.functions = kFailingFunctions;
  return d;
}

bitnet_model_desc bitnet_fake_returning_status99(void) {
  bitnet_model_desc d = bitnet__model;
  d.functions = kFunctions99;
  return d;
}

bitnet_model_desc bitnet_fake_with_tokenizer(const char* json, int64_t bytes) {
  bitnet_model_desc d = bitnet__model;
  d.tokenizer_json = (const uint8_t*)json;
  d.tokenizer_json_bytes = bytes;
  return d;
}
