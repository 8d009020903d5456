/* api.c: the bitnet_api table (PREFIX_bitnet_api after the backend's rename), for programs that
 * dlopen() a model without knowing its prefix. */
#include "runtime/internal.h"

static const bitnet_api api_table = {
    .struct_size = sizeof(bitnet_api),
    .api_version = BITNET_API_VERSION,
    .model_open = bitnet__public_model_open,
    .model_close = bitnet__public_model_close,
    .model_error = bitnet__public_model_error,
    .model_info = bitnet__public_model_info,
    .session_create = bitnet__public_session_create,
    .session_free = bitnet__public_session_free,
    .session_error = bitnet__public_session_error,
    .eval = bitnet__public_eval,
    .session_n_past = bitnet__public_session_n_past,
    .session_reset = bitnet__public_session_reset,
    .session_truncate = bitnet__public_session_truncate,
    .tokenize = bitnet__public_tokenize,
    .detokenize = bitnet__public_detokenize,
    .input_signature = bitnet__public_input_signature,
    .output_signature = bitnet__public_output_signature,
    .num_inputs = bitnet__public_num_inputs,
    .num_outputs = bitnet__public_num_outputs,
    .input_info = bitnet__public_input_info,
    .output_info = bitnet__public_output_info,
    .run = bitnet__public_run,
    .reserved_generic = {0},
};

const bitnet_api* bitnet__public_bitnet_api(void) { return &api_table; }
