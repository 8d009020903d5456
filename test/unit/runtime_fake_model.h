/* A hand-written model descriptor for the runtime's unit tests. runtime_fake_model.c defines
 * `bitnet__model` (the symbol the runtime's public model_open reads; the only definition in the
 * unit-test binary) and variants the tests open with bitnet_rt_model_open. Its forward needs no
 * compiler: every logit is a known function of the token history, read back from two fake KV
 * states, so the tests know the expected logits.
 *
 *   tokens i32 [?seq], pos i64 [] -> logits f32 [?seq, VOCAB]; dims {"unused", "seq"}
 *   state 0 f32 [STATE_ROWS, 2]: row r = {token, weight byte of the token}
 *   state 1 i32 [STATE_ROWS, 3]: row r = {token, r, token * (r + 3)}
 *   logit(position p, v) = bitnet_fake_logit(sum over rows r <= p of row_term(token_r, r), v, p)
 * The forward checks what it reads (a state row it did not write is an error), fills the logits
 * through bitnet_rt_parallel_for, and uses its whole scratch. */
#ifndef BITNET_TEST_RUNTIME_FAKE_MODEL_H
#define BITNET_TEST_RUNTIME_FAKE_MODEL_H

#include "runtime/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BITNET_FAKE_VOCAB 37
#define BITNET_FAKE_MAX_CONTEXT 40
#define BITNET_FAKE_STATE_ROWS 48   /* the states' static context (>= max_context) */
#define BITNET_FAKE_MAX_BATCH 4     /* tokens per forward call: prefills are chunked */
#define BITNET_FAKE_WEIGHT_BYTES 333 /* not a multiple of 16: the hash has a tail */
#define BITNET_FAKE_SCRATCH_BYTES (BITNET_FAKE_MAX_BATCH * 8 + 5)

const uint8_t* bitnet_fake_weights(void); /* the embedded blob (64-byte aligned) */
int64_t bitnet_fake_row_term(int32_t token, int64_t row);
float bitnet_fake_logit(int64_t sum, int64_t v, int64_t position);
/* call->state_rows of the last forward call (to check sessions pass their own n_ctx). */
int64_t bitnet_fake_last_state_rows(void);

/* Copies of bitnet__model with one thing changed. */
bitnet_model_desc bitnet_fake_lm(void);
bitnet_model_desc bitnet_fake_external_weights(const char* file_name); /* not embedded */
bitnet_model_desc bitnet_fake_generic(void);                          /* is_lm = 0 */
/* forward fails (BITNET_ERR_INTERNAL, "fake forward fails at position P on purpose") on any
 * chunk that reaches position 6 or beyond. */
bitnet_model_desc bitnet_fake_failing_at_position6(void);
bitnet_model_desc bitnet_fake_returning_status99(void);
bitnet_model_desc bitnet_fake_with_tokenizer(const char* json, int64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* BITNET_TEST_RUNTIME_FAKE_MODEL_H */
