/* check.h: what the runtime lit programs share: the model's prefixed names, status names and a
 * failure count. A program prints one line per case; any unexpected result also prints a line
 * starting with UNEXPECTED and makes the program exit non-zero (so a test fails even where its
 * FileCheck lines would not look). */
#ifndef RUNTIME_LIT_CHECK_H
#define RUNTIME_LIT_CHECK_H

#include <stdio.h>
#include <string.h>

#ifndef MODEL_HEADER
#define MODEL_HEADER "m.h"
#endif
#ifndef MODEL_PREFIX
#define MODEL_PREFIX m
#endif
#include MODEL_HEADER

/* MODEL(eval) is m_eval: pastes the model's prefix onto a function name. */
#define MODEL_PASTE(prefix, name) prefix##_##name
#define MODEL_NAME(prefix, name) MODEL_PASTE(prefix, name)
#define MODEL(name) MODEL_NAME(MODEL_PREFIX, name)

static int unexpected_count;

static const char* status_name(bitnet_status status) {
  switch (status) {
    case BITNET_OK: return "BITNET_OK";
    case BITNET_ERR_INVALID_ARGUMENT: return "BITNET_ERR_INVALID_ARGUMENT";
    case BITNET_ERR_TOKEN_OUT_OF_RANGE: return "BITNET_ERR_TOKEN_OUT_OF_RANGE";
    case BITNET_ERR_CONTEXT_FULL: return "BITNET_ERR_CONTEXT_FULL";
    case BITNET_ERR_WEIGHTS: return "BITNET_ERR_WEIGHTS";
    case BITNET_ERR_NO_MEMORY: return "BITNET_ERR_NO_MEMORY";
    case BITNET_ERR_UNSUPPORTED: return "BITNET_ERR_UNSUPPORTED";
    case BITNET_ERR_BUFFER_TOO_SMALL: return "BITNET_ERR_BUFFER_TOO_SMALL";
    case BITNET_ERR_INTERNAL: return "BITNET_ERR_INTERNAL";
  }
  return "(not a bitnet_status)";
}

static void unexpected(const char* format, const char* detail) {
  printf("UNEXPECTED: ");
  printf(format, detail);
  printf("\n");
  ++unexpected_count;
}

/* Prints "CASE: STATUS: message" and counts a status other than `want` as unexpected. */
static void expect_status(const char* what, bitnet_status got, bitnet_status want,
                          const char* message) {
  printf("%s: %s%s%s\n", what, status_name(got), message ? ": " : "", message ? message : "");
  if (got != want) {
    printf("UNEXPECTED: %s: expected %s\n", what, status_name(want));
    ++unexpected_count;
  }
}

#endif
