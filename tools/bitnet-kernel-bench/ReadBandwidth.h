// A STREAM-like read: the bandwidth the kernels are measured against, in the same run and over
// the same buffer sizes (L2, L3, DRAM). Widest loads the host has (AVX-512, AVX2, else 64-bit).
#pragma once
#include <cstddef>
#include <cstdint>

namespace bitnetc::bench {

// Reads bytes [0, n) of p (64-byte aligned, n a multiple of 256); returns a value that depends on
// every byte, so the loads cannot be dropped.
uint64_t readAll(const uint8_t* p, size_t n);

}  // namespace bitnetc::bench
