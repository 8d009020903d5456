// Turning checkpoint tensors into ternary IR weights, in the two ways checkpoints store them:
//  - packed (2B-4T): U8 [ceil(out/4), in] in layout hf_blocked_2bit plus a one-element
//    weight_scale; the weight points into the mapped file after a fast scan for the invalid code 3;
//  - latent (1bitLLM, 2B-4T-bf16): float [out, in], ternarized here with the absmean rule
//    (BITNET.md section 2) into an owned hf_blocked_2bit weight with scale rule mul.
#pragma once
#include <cstdint>

#include "compiler/ir/Weights.h"
#include "frontends/safetensors/SafetensorsFile.h"

namespace bitnetc {

// Throws Error naming the file, tensor and position of the first code 3 outside the padding
// rows of the last block. Releases the scanned pages from this process afterwards (they stay in
// the page cache), so validating a large model does not keep it resident.
void checkPackedTernary(const SafetensorsTensor& packed, int64_t out, int64_t in);

// The value of a one-element float tensor (weight_scale): shape [1] or [], BF16/F16/F32, finite
// and positive; otherwise an Error naming the file and tensor.
float readWeightScale(const SafetensorsTensor& scale);

// A file-backed weight (no copy) of the given IR type.
Weight fileWeight(const SafetensorsTensor& t, TensorType type);

// Absmean ternarization of a float [out, in] tensor, as the 1bitLLM reference does it:
// scale = max(mean|W|, 1e-5) (mean in fp64 of the f32 values, rounded to f32),
// T = clamp(roundeven(W * (1 / scale)), -1, 1) in f32. Returns an owned hf_blocked_2bit weight
// with scale rule mul named after the tensor.
Weight ternarizeLatent(const SafetensorsTensor& latent, int64_t out, int64_t in);

}  // namespace bitnetc
