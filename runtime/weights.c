/* weights.c: the weight blob of a model: embedded in the library, or an external file
 * (--weights=external) mapped read-only and checked against the descriptor: magic, ABI version,
 * size, hash (and, with verify_weights, the hash of every byte). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr, strerror_r (GNU) */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/internal.h"

#define PATH_BYTES 4096

static const char* model_name(const bitnet_model* m) {
  return m->desc->name ? m->desc->name : "(unnamed)";
}

/* file_name beside the library that holds this runtime (dladdr on one of its functions; in a
 * static executable that is the executable's path as started), or in the current directory when
 * that path has no directory part (the JIT, a program found through PATH). */
static int default_weights_path(const char* file_name, char* path, size_t size) {
  if (file_name[0] == '/') return snprintf(path, size, "%s", file_name) < (int)size;
  Dl_info info;
  memset(&info, 0, sizeof info);
  if (dladdr((void*)&bitnet_rt_weights_open, &info) && info.dli_fname) {
    const char* slash = strrchr(info.dli_fname, '/');
    if (slash) {
      int dir_len = (int)(slash - info.dli_fname);
      return snprintf(path, size, "%.*s/%s", dir_len, info.dli_fname, file_name) < (int)size;
    }
  }
  return snprintf(path, size, "%s", file_name) < (int)size;
}

static void close_map(void* map, size_t bytes) {
  if (map) munmap(map, bytes);
}

static bitnet_status verify_hash(const bitnet_model* m, const uint8_t* blob, const char* where,
                                 char* error, size_t error_size) {
  const bitnet_model_desc* d = m->desc;
  uint64_t hash = bitnet_hash64(blob, (uint64_t)d->weight_bytes);
  if (hash == (uint64_t)d->weight_hash) return BITNET_OK;
  bitnet_rt_message(error, error_size,
                    "%s: the weight bytes do not match their hash (hash 0x%016llx, model '%s' "
                    "expects 0x%016llx): the weights are corrupt",
                    where, (unsigned long long)hash, model_name(m),
                    (unsigned long long)(uint64_t)d->weight_hash);
  return BITNET_ERR_WEIGHTS;
}

/* Maps path and checks it; on success sets m->weights and m->weights_map. */
static bitnet_status open_file(bitnet_model* m, const char* path, int verify, int user_path,
                               char* error, size_t error_size) {
  const bitnet_model_desc* d = m->desc;
  char reason[256];
  /* O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; fstat refuses it. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const char* text = strerror_r(errno, reason, sizeof reason);
    bitnet_rt_message(error, error_size,
                      "cannot open the weights file %s of model '%s': %s%s", path, model_name(m),
                      text,
                      user_path ? "" : " (a library compiled with --weights=external looks for it "
                                       "beside itself; bitnet_model_options.weights_path names "
                                       "another place)");
    return BITNET_ERR_WEIGHTS;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    bitnet_rt_message(error, error_size, "the weights file %s is not a regular file", path);
    return BITNET_ERR_WEIGHTS;
  }
  const uint64_t file_bytes = (uint64_t)st.st_size;
  const uint64_t expected = BITNET_WEIGHTS_DATA_OFFSET + (uint64_t)d->weight_bytes;
  if (file_bytes < sizeof(bitnet_weights_header)) {
    close(fd);
    bitnet_rt_message(error, error_size,
                      "the weights file %s has %llu bytes: too small for a bitnetc weights file",
                      path, (unsigned long long)file_bytes);
    return BITNET_ERR_WEIGHTS;
  }
  void* map = mmap(NULL, (size_t)file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  close(fd);
  if (map == MAP_FAILED) {
    bitnet_rt_message(error, error_size, "cannot map the weights file %s: %s", path,
                      strerror_r(map_errno, reason, sizeof reason));
    return BITNET_ERR_WEIGHTS;
  }
  bitnet_weights_header header;
  memcpy(&header, map, sizeof header);
  bitnet_status status = BITNET_ERR_WEIGHTS;
  if (memcmp(header.magic, BITNET_WEIGHTS_MAGIC, 8) != 0) {
    bitnet_rt_message(error, error_size,
                      "%s is not a bitnetc weights file (it does not start with \"%s\")", path,
                      BITNET_WEIGHTS_MAGIC);
  } else if (header.abi_version != BITNET_ABI_VERSION) {
    bitnet_rt_message(error, error_size,
                      "the weights file %s has ABI version %lld, this runtime reads version %d",
                      path, (long long)header.abi_version, BITNET_ABI_VERSION);
  } else if (header.weight_bytes != d->weight_bytes) {
    bitnet_rt_message(error, error_size,
                      "the weights file %s holds %lld bytes of weights (model '%.64s'), model "
                      "'%s' expects %lld: a weights file of another model",
                      path, (long long)header.weight_bytes, header.model_name, model_name(m),
                      (long long)d->weight_bytes);
  } else if (header.weight_hash != d->weight_hash) {
    bitnet_rt_message(error, error_size,
                      "the weights file %s has weight hash 0x%016llx (model '%.64s'), model '%s' "
                      "expects 0x%016llx: written by another compilation",
                      path, (unsigned long long)(uint64_t)header.weight_hash, header.model_name,
                      model_name(m), (unsigned long long)(uint64_t)d->weight_hash);
  } else if (file_bytes != expected) {
    bitnet_rt_message(error, error_size,
                      "the weights file %s has %llu bytes, expected %llu (%d header + %lld "
                      "weights): %s",
                      path, (unsigned long long)file_bytes, (unsigned long long)expected,
                      BITNET_WEIGHTS_DATA_OFFSET, (long long)d->weight_bytes,
                      file_bytes < expected ? "truncated" : "trailing bytes");
  } else {
    const uint8_t* blob = (const uint8_t*)map + BITNET_WEIGHTS_DATA_OFFSET;
    status = verify ? verify_hash(m, blob, path, error, error_size) : BITNET_OK;
    if (status == BITNET_OK) {
      m->weights = blob;
      m->weights_map = map;
      m->weights_map_bytes = (size_t)file_bytes;
      return BITNET_OK;
    }
  }
  close_map(map, (size_t)file_bytes);
  return status;
}

bitnet_status bitnet_rt_weights_open(bitnet_model* m, const bitnet_model_options* options,
                                     char* error, size_t error_size) {
  const bitnet_model_desc* d = m->desc;
  const int verify = options && options->verify_weights;
  const char* user_path = options ? options->weights_path : NULL;
  if (d->weights_embedded) {
    if (((uintptr_t)d->weights_embedded & 63) != 0) {
      bitnet_rt_message(error, error_size, "the embedded weights of model '%s' are not 64-byte aligned",
                        model_name(m));
      return BITNET_ERR_INTERNAL;
    }
    if (user_path) {
      bitnet_rt_message(error, error_size,
                        "model_open: options->weights_path is set (%s) but model '%s' has its "
                        "weights embedded",
                        user_path, model_name(m));
      return BITNET_ERR_INVALID_ARGUMENT;
    }
    m->weights = d->weights_embedded;
    return verify ? verify_hash(m, m->weights, "embedded weights", error, error_size) : BITNET_OK;
  }
  if (d->weight_bytes == 0) {
    if (user_path) {
      bitnet_rt_message(error, error_size,
                        "model_open: options->weights_path is set (%s) but model '%s' has no weights",
                        user_path, model_name(m));
      return BITNET_ERR_INVALID_ARGUMENT;
    }
    return BITNET_OK; /* nothing to read */
  }
  char path[PATH_BYTES];
  if (user_path) {
    if (!user_path[0]) {
      bitnet_rt_message(error, error_size, "model_open: options->weights_path is empty");
      return BITNET_ERR_INVALID_ARGUMENT;
    }
    if (snprintf(path, sizeof path, "%s", user_path) >= (int)sizeof path) {
      bitnet_rt_message(error, error_size, "model_open: options->weights_path is too long");
      return BITNET_ERR_INVALID_ARGUMENT;
    }
  } else {
    if (!d->weights_file_name || !d->weights_file_name[0]) {
      bitnet_rt_message(error, error_size,
                        "model '%s' has external weights but no weights file name", model_name(m));
      return BITNET_ERR_INTERNAL;
    }
    if (!default_weights_path(d->weights_file_name, path, sizeof path)) {
      bitnet_rt_message(error, error_size, "the path of the weights file %s is too long",
                        d->weights_file_name);
      return BITNET_ERR_WEIGHTS;
    }
  }
  return open_file(m, path, verify, user_path != NULL, error, error_size);
}

void bitnet_rt_weights_close(bitnet_model* m) {
  close_map(m->weights_map, m->weights_map_bytes);
  m->weights_map = NULL;
  m->weights = NULL;
}
