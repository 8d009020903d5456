// bitnet-kernel-bench: G weights/s and GB/s of every bitlinear kernel variant, per shape, with the
// weights in L2, L3 and DRAM, 1 and 2 threads, GEMV (1 token) and GEMM (16/64/256 tokens), beside
// a STREAM-like read of the same buffer sizes in the same run (docs/PERFORMANCE.md). The kernels
// are the ones models link: bitnetc's embedded bitcode, O3 for the CPU, JIT-compiled. Every
// variant's output on each full matrix is checked against an exact reference first.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include "KernelJit.h"
#include "ReadBandwidth.h"
#include "compiler/ir/Weights.h"
#include "compiler/support/Error.h"
#include "compiler/support/ParseInt.h"
#include "compiler/support/ToolMain.h"
#include "targets/passes/KernelTable.h"

namespace bitnetc::bench {
namespace {

struct Options {
  std::vector<std::string> kernels;  // empty: every variant the CPU runs but i8
  std::vector<std::pair<int64_t, int64_t>> shapes = {{2560, 2560}, {6912, 2560}, {2560, 6912},
                                                     {1024, 1024}, {2816, 1024}};
  std::vector<std::string> levels = {"l2", "l3", "dram"};
  std::vector<int64_t> threads = {1, 2};
  std::vector<int64_t> gemmRows = {16, 64, 256};
  int64_t repeat = 5;
  int64_t dramMB = 1024;
  std::string cpu = "native", attrs;
  bool cpuTime = false;  // time by this process's CPU time (a loaded machine; 1 thread only)
};

void usage() {
  std::printf(
      "usage: bitnet-kernel-bench [options]\n"
      "  --kernels A,B       variants (default: every one this CPU runs, but i8)\n"
      "  --shapes NxK,...    weight shapes [N outputs, K inputs] (default 2560x2560,6912x2560,\n"
      "                      2560x6912,1024x1024,2816x1024)\n"
      "  --levels L,...      l2 (256 KiB of weights), l3 (8 MiB), dram (--dram-mb); default all\n"
      "  --threads T,...     default 1,2\n"
      "  --gemm-rows M,...   token counts of the GEMM runs (weights in L3; default 16,64,256; 0: none)\n"
      "  --repeat R          measurements per cell, the median is printed (default 5)\n"
      "  --dram-mb MB        weights rotated through in the dram level (default 1024)\n"
      "  --cpu-time          time by the process's CPU time instead of wall time: steadier on a\n"
      "                      loaded machine (other processes' time is not counted); 1 thread only\n"
      "  -mcpu=CPU -mattr=A  the target the kernels are compiled for (default: this CPU)\n");
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(arg, " expects a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      usage();
      std::exit(0);
    } else if (arg == "--kernels") {
      o.kernels = splitList(value());
    } else if (arg == "--shapes") {
      o.shapes.clear();
      for (const std::string& s : splitList(value())) {
        const size_t x = s.find('x');
        if (x == std::string::npos) fail("--shapes expects NxK items, got '", s, "'");
        o.shapes.push_back({parsePositiveInt("--shapes", s.substr(0, x)), parsePositiveInt("--shapes", s.substr(x + 1))});
      }
    } else if (arg == "--levels") {
      o.levels = splitList(value());
      for (const std::string& l : o.levels)
        if (l != "l2" && l != "l3" && l != "dram") fail("--levels: unknown level '", l, "' (l2, l3, dram)");
    } else if (arg == "--threads") {
      o.threads.clear();
      for (const std::string& t : splitList(value())) o.threads.push_back(parsePositiveInt("--threads", t));
    } else if (arg == "--gemm-rows") {
      o.gemmRows.clear();
      for (const std::string& t : splitList(value()))
        if (t != "0") o.gemmRows.push_back(parsePositiveInt("--gemm-rows", t));
    } else if (arg == "--repeat") {
      o.repeat = parsePositiveInt(arg, value());
    } else if (arg == "--dram-mb") {
      o.dramMB = parsePositiveInt(arg, value());
    } else if (arg == "--cpu-time") {
      o.cpuTime = true;
    } else if (arg.rfind("-mcpu=", 0) == 0) {
      o.cpu = arg.substr(6);
    } else if (arg.rfind("-mattr=", 0) == 0) {
      o.attrs = arg.substr(7);
    } else {
      fail("unknown option '", arg, "' (see --help)");
    }
  }
  if (o.cpuTime) {
    for (int64_t t : o.threads)
      if (t != 1) fail("--cpu-time measures one thread: give --threads 1");
  }
  return o;
}

bool gCpuTime = false;

double now() {
  if (gCpuTime) {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// 64-byte aligned bytes.
struct Buffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  explicit Buffer(size_t n) : size(n) {
    data = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
    if (!data) fail("out of memory for ", n, " bytes");
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

size_t levelBytes(const std::string& level, const Options& o) {
  if (level == "l2") return 256 << 10;
  if (level == "l3") return 8 << 20;
  return size_t(o.dramMB) << 20;
}

// Median seconds of `fn`, each measurement repeating it until >= 20 ms have passed; returns
// seconds per call.
double timeIt(const std::function<void()>& fn, int64_t repeat) {
  fn();  // warm: pages, caches, pool threads
  double t0 = now();
  fn();
  const double once = std::max(now() - t0, 1e-7);
  const int64_t calls = std::max<int64_t>(1, int64_t(0.02 / once));
  std::vector<double> times;
  for (int64_t r = 0; r < repeat; ++r) {
    t0 = now();
    for (int64_t c = 0; c < calls; ++c) fn();
    times.push_back((now() - t0) / double(calls));
  }
  return median(times);
}

// GB/s of the STREAM-like read over `bytes` with `threads` threads. Each thread reads its part
// `passes` times per start (>= 256 MiB in all), so starting threads does not count.
double readBandwidth(const Buffer& buf, size_t bytes, int64_t threads, int64_t repeat) {
  bytes = bytes / (256 * size_t(threads)) * 256 * size_t(threads);
  const int64_t passes = std::max<int64_t>(1, int64_t((size_t(256) << 20) / bytes));
  std::atomic<uint64_t> sink{0};
  auto part = [&](int64_t t) {
    const size_t n = bytes / size_t(threads);
    uint64_t v = 0;
    for (int64_t p = 0; p < passes; ++p) v += readAll(buf.data + size_t(t) * n, n);
    sink += v;
  };
  auto run = [&] {
    std::vector<std::thread> ts;
    for (int64_t t = 1; t < threads; ++t) ts.emplace_back(part, t);
    part(0);
    for (auto& t : ts) t.join();
  };
  return double(bytes) * double(passes) / timeIt(run, repeat) / 1e9;
}

struct Call {
  bitnet_tensor t[4];  // q, s, w, y
  bitnet_kernel_args args;
  bitnet_call call;
  char error[256];
  void set(int64_t M, int64_t N, int64_t K, const int8_t* q, const float* s, const uint8_t* w,
           std::string_view layout, float* y, bitnet_pool* pool) {
    std::memset(this, 0, sizeof *this);
    t[0].data = const_cast<int8_t*>(q), t[0].dtype = BITNET_I8, t[0].rank = 2, t[0].dims[0] = M, t[0].dims[1] = K;
    t[1].data = const_cast<float*>(s), t[1].dtype = BITNET_F32, t[1].rank = 1, t[1].dims[0] = M;
    t[2].data = const_cast<uint8_t*>(w), t[2].dtype = BITNET_TERNARY, t[2].rank = 2, t[2].dims[0] = N, t[2].dims[1] = K;
    t[2].layout = layout == kLayoutHFBlocked ? BITNET_LAYOUT_HF_BLOCKED_2BIT
                  : layout == kLayoutI8      ? BITNET_LAYOUT_I8
                  : layout == kLayoutLut3    ? BITNET_LAYOUT_LUT3_5BIT
                                             : BITNET_LAYOUT_MAD_2BIT;
    t[2].scale_rule = BITNET_SCALE_NONE, t[2].scale = 1.0;
    t[3].data = y, t[3].dtype = BITNET_F32, t[3].rank = 2, t[3].dims[0] = M, t[3].dims[1] = N;
    args.op = "bench bitlinear";
    args.num_operands = 3, args.operands = t, args.num_results = 1, args.results = t + 3;
    call.pool = pool, call.error = error, call.error_size = sizeof error;
  }
  void run(KernelFn fn) {
    if (fn(&call, &args) != 0) fail("kernel failed: ", error);
  }
};

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  gCpuTime = o.cpuTime;
  const target::TargetInfo target = target::resolveTarget("", o.cpu, o.attrs);
  KernelJit jit(target);
  struct Variant {
    const target::BitlinearKernel* k;
    KernelFn fn;
  };
  std::vector<Variant> variants;
  if (o.kernels.empty()) {
    for (const auto& k : target::bitlinearKernels())
      if (k.name != "i8" && target::kernelRunsOn(k, target)) variants.push_back({&k, nullptr});
  } else {
    for (const std::string& name : o.kernels) variants.push_back({&target::requireBitlinearKernel(name, target), nullptr});
  }
  for (Variant& v : variants)
    if (!(v.fn = jit.bitlinear(std::string(v.k->name)))) fail("the bitcode has no kernel ", v.k->name);

  // The rotated copies of a level fill its bytes rounded up to a whole matrix.
  size_t maxMatrix = 0, maxLevel = 0;
  for (const std::string& l : o.levels) maxLevel = std::max(maxLevel, levelBytes(l, o));
  for (auto [N, K] : o.shapes)
    for (const Variant& v : variants) maxMatrix = std::max(maxMatrix, ternaryLayoutBytes(v.k->layout, N, K) + 64);
  Buffer weights(maxLevel + maxMatrix + (64 << 10));
  std::memset(weights.data, 0x55, weights.size);  // fault the pages in once

  std::vector<bitnet_pool*> pools;
  for (int64_t t : o.threads) pools.push_back(t == 1 ? nullptr : jit.createPool(t));

  std::printf("# bitnet-kernel-bench: %s\n", target.description().c_str());
  std::printf("# clock: %s\n", o.cpuTime ? "process CPU time (--cpu-time)" : "wall");
  std::printf("# medians of %lld measurements; G w/s = 10^9 weights (or MACs for GEMM) per second;\n"
              "# GB/s = weight bytes of the layout read per second; read = STREAM-like read of the\n"
              "# same bytes with the same threads in this run.\n\n",
              (long long)o.repeat);
  std::printf("| read bandwidth | threads | GB/s |\n|---|---|---|\n");
  std::vector<std::vector<double>> readBw(o.levels.size());  // [level][threads]
  for (size_t l = 0; l < o.levels.size(); ++l)
    for (size_t t = 0; t < o.threads.size(); ++t) {
      readBw[l].push_back(readBandwidth(weights, levelBytes(o.levels[l], o), o.threads[t], o.repeat));
      std::printf("| %s (%zu KiB) | %lld | %.1f |\n", o.levels[l].c_str(), levelBytes(o.levels[l], o) >> 10,
                  (long long)o.threads[t], readBw[l].back());
    }
  std::fflush(stdout);

  std::printf("\n| kernel | N x K | weights in | threads | tokens | G w/s | GB/s | of read |\n"
              "|---|---|---|---|---|---|---|---|\n");
  std::mt19937 rng(1);
  for (auto [N, K] : o.shapes) {
    std::vector<int8_t> T(size_t(N * K));
    for (auto& x : T) x = int8_t(int(rng() % 3) - 1);
    const int64_t maxM = std::max<int64_t>(1, o.gemmRows.empty() ? 1 : *std::max_element(o.gemmRows.begin(), o.gemmRows.end()));
    std::vector<int8_t> q(size_t(maxM * K));
    for (auto& x : q) x = int8_t(int(rng() % 256) - 128);
    std::vector<float> s(size_t(maxM), 1.0f), y(size_t(maxM * N));
    // The exact reference of token 0 (scale none, s = 1: y = f32(acc), exact below 2^24).
    std::vector<float> ref(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int64_t(q[size_t(k)]) * T[size_t(n * K + k)];
      ref[size_t(n)] = float(acc);
    }
    std::string_view packedLayout;
    std::vector<uint8_t> packed;
    for (const Variant& v : variants) {
      if (v.k->layout != packedLayout) {
        packed = packTernary(v.k->layout, N, K, T);
        packedLayout = v.k->layout;
      }
      const size_t S = packed.size(), stride = (S + 63) / 64 * 64;
      // Correctness first: token 0 over the full matrix equals the reference exactly.
      std::memcpy(weights.data, packed.data(), S);
      {
        Call c;
        c.set(1, N, K, q.data(), s.data(), weights.data, v.k->layout, y.data(), nullptr);
        c.run(v.fn);
        for (int64_t n = 0; n < N; ++n)
          if (y[size_t(n)] != ref[size_t(n)])
            fail(v.k->name, " ", N, "x", K, ": y[", n, "] = ", y[size_t(n)], ", want ", ref[size_t(n)]);
      }
      for (size_t l = 0; l < o.levels.size(); ++l) {
        const size_t want = levelBytes(o.levels[l], o);
        // Smaller than the level: rotate copies; larger: a slice of rows (same K) of that size.
        int64_t rows = N, copies = 1;
        // Whole row groups of the layout (4 rows; 128-row tiles for lut3_5bit).
        const int64_t group = v.k->layout == kLayoutLut3 ? 128 : 4;
        if (S >= want) rows = std::max<int64_t>(group, int64_t(double(N) * double(want) / double(S)) / group * group);
        else copies = int64_t((want + stride - 1) / stride);
        if (S >= want) {
          std::memcpy(weights.data, packed.data(), S);
        } else {
          for (int64_t c = 0; c < copies; ++c) std::memcpy(weights.data + size_t(c) * stride, packed.data(), S);
        }
        const size_t bytes = ternaryLayoutBytes(v.k->layout, rows, K);
        for (size_t t = 0; t < o.threads.size(); ++t) {
          std::vector<Call> calls(static_cast<size_t>(copies));
          auto runAll = [&](int64_t M) {
            for (int64_t c = 0; c < copies; ++c) {
              calls[size_t(c)].set(M, rows, K, q.data(), s.data(), weights.data + size_t(c) * stride, v.k->layout,
                                   y.data(), pools[t]);
              calls[size_t(c)].run(v.fn);
            }
          };
          const double sec = timeIt([&] { runAll(1); }, o.repeat) / double(copies);
          const double gbs = double(bytes) / sec / 1e9;
          std::printf("| %s | %lldx%lld | %s | %lld | 1 | %.1f | %.1f | %.0f%% |\n", std::string(v.k->name).c_str(),
                      (long long)N, (long long)K, o.levels[l].c_str(), (long long)o.threads[t],
                      double(rows * K) / sec / 1e9, gbs, 100.0 * gbs / readBw[l][t]);
          if (o.levels[l] == "l3")
            for (int64_t M : o.gemmRows) {
              const double gs = timeIt([&] { runAll(M); }, o.repeat) / double(copies);
              std::printf("| %s | %lldx%lld | %s | %lld | %lld | %.1f | %.1f | |\n", std::string(v.k->name).c_str(),
                          (long long)N, (long long)K, o.levels[l].c_str(), (long long)o.threads[t], (long long)M,
                          double(rows * K * M) / gs / 1e9, double(bytes) / gs / 1e9);
            }
          std::fflush(stdout);
        }
      }
    }
  }
  for (bitnet_pool* p : pools)
    if (p) jit.freePool(p);
  return 0;
}

}  // namespace
}  // namespace bitnetc::bench

int main(int argc, char** argv) { return bitnetc::runToolMain(bitnetc::bench::run, argc, argv); }
