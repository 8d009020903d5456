/* message.c: error messages (a status plus a message, never exit/abort). */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

void bitnet_rt_vmessage(char* buffer, size_t size, const char* format, va_list args) {
  if (!buffer || size == 0) return;
  if (vsnprintf(buffer, size, format, args) < 0) buffer[0] = '\0';
}

void bitnet_rt_message(char* buffer, size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  bitnet_rt_vmessage(buffer, size, format, args);
  va_end(args);
}

bitnet_status bitnet_rt_model_fail(bitnet_model* model, bitnet_status status, const char* format,
                                   ...) {
  /* Format outside the lock, copy inside: other threads may read model_error meanwhile. */
  char text[BITNET_RT_ERROR_SIZE];
  va_list args;
  va_start(args, format);
  bitnet_rt_vmessage(text, sizeof text, format, args);
  va_end(args);
  pthread_mutex_lock(&model->lock);
  memcpy(model->error, text, sizeof text);
  pthread_mutex_unlock(&model->lock);
  return status;
}

bitnet_status bitnet_rt_session_fail(bitnet_session* session, bitnet_status status,
                                     const char* format, ...) {
  va_list args;
  va_start(args, format);
  bitnet_rt_vmessage(session->error, sizeof session->error, format, args);
  va_end(args);
  return status;
}

int bitnet_rt_struct_size_ok(size_t struct_size, size_t version1_size) {
  return struct_size >= version1_size && struct_size <= BITNET_RT_MAX_STRUCT_SIZE;
}
