// The runtime's thread pool (bitnet_rt_parallel_for): every index exactly once in min(n, threads)
// balanced contiguous ranges (claimed by whichever thread is free), inline without a pool, nested
// calls, and many calls in a row (spinning and sleeping workers).
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime_test_util.h"

namespace {

struct PoolDeleter {
  void operator()(bitnet_pool* p) const { bitnet_rt_pool_free(p); }
};
using PoolPtr = std::unique_ptr<bitnet_pool, PoolDeleter>;

struct Coverage {
  std::vector<std::atomic<int>> hits;
  std::mutex lock;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<std::thread::id> threads;
  explicit Coverage(int64_t n) : hits(size_t(n)) {}
};

void cover(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<Coverage*>(ctx);
  for (int64_t i = begin; i < end; ++i) c->hits[size_t(i)]++;
  std::lock_guard<std::mutex> guard(c->lock);
  c->ranges.emplace_back(begin, end);
  c->threads.insert(std::this_thread::get_id());
}

TEST(RuntimePool, EveryIndexOnceInContiguousRanges) {
  for (int64_t threads : {1, 2, 3, 4, 7}) {
    PoolPtr pool(bitnet_rt_pool_create(threads));
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(bitnet_rt_num_threads(pool.get()), threads);
    for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 100, 1001}) {
      Coverage c(n);
      bitnet_rt_parallel_for(pool.get(), n, cover, &c);
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(c.hits[size_t(i)], 1) << threads << " " << n << " " << i;
      const int64_t parts = std::min(n, threads);
      ASSERT_EQ(int64_t(c.ranges.size()), parts) << threads << " " << n;
      std::sort(c.ranges.begin(), c.ranges.end());
      int64_t next = 0, smallest = n, largest = 0;
      for (auto [b, e] : c.ranges) {
        EXPECT_EQ(b, next);
        next = e;
        smallest = std::min(smallest, e - b);
        largest = std::max(largest, e - b);
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1);  // balanced
      EXPECT_LE(int64_t(c.threads.size()), parts);
    }
  }
}

TEST(RuntimePool, NoPoolRunsInlineAndEmptyRangesNothing) {
  Coverage c(10);
  bitnet_rt_parallel_for(nullptr, 10, cover, &c);
  ASSERT_EQ(c.ranges.size(), 1u);
  EXPECT_EQ(c.ranges[0], std::make_pair(int64_t(0), int64_t(10)));
  EXPECT_EQ(*c.threads.begin(), std::this_thread::get_id());
  EXPECT_EQ(bitnet_rt_num_threads(nullptr), 1);
  PoolPtr pool(bitnet_rt_pool_create(3));
  Coverage none(1);
  bitnet_rt_parallel_for(pool.get(), 0, cover, &none);
  bitnet_rt_parallel_for(pool.get(), -5, cover, &none);
  EXPECT_TRUE(none.ranges.empty());
  PoolPtr zero(bitnet_rt_pool_create(0));  // no workers: the caller alone
  EXPECT_EQ(bitnet_rt_num_threads(zero.get()), 1);
}

struct Nested {
  bitnet_pool* pool;
  std::atomic<int64_t> sum{0};
};

void inner(void* ctx, int64_t begin, int64_t end) {
  auto* n = static_cast<Nested*>(ctx);
  for (int64_t i = begin; i < end; ++i) n->sum += i;
}

void outer(void* ctx, int64_t begin, int64_t end) {
  auto* n = static_cast<Nested*>(ctx);
  for (int64_t i = begin; i < end; ++i) bitnet_rt_parallel_for(n->pool, 100, inner, ctx);
}

TEST(RuntimePool, NestedCallsRunInline) {
  PoolPtr pool(bitnet_rt_pool_create(3));
  Nested n{pool.get()};
  bitnet_rt_parallel_for(pool.get(), 6, outer, &n);
  EXPECT_EQ(n.sum, 6 * 4950);
}

struct Sum {
  const std::vector<int64_t>* values;
  std::atomic<int64_t> total{0};
  int sleepRange = -1;  // this range sleeps: the caller has to wait for it
};

void sum(void* ctx, int64_t begin, int64_t end) {
  auto* s = static_cast<Sum*>(ctx);
  if (begin == 0 && s->sleepRange == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
  if (begin > 0 && s->sleepRange == 1) std::this_thread::sleep_for(std::chrono::microseconds(300));
  int64_t local = 0;
  for (int64_t i = begin; i < end; ++i) local += (*s->values)[size_t(i)];
  s->total += local;
}

TEST(RuntimePool, ManyCallsInARow) {
  std::vector<int64_t> values(997);
  for (size_t i = 0; i < values.size(); ++i) values[i] = int64_t(i * i % 101);
  int64_t expected = 0;
  for (int64_t v : values) expected += v;
  PoolPtr pool(bitnet_rt_pool_create(3));
  for (int call = 0; call < 3000; ++call) {
    Sum s{&values};
    // Now and then: a slow caller range, a slow worker range, a pause that lets workers sleep.
    if (call % 500 == 1) s.sleepRange = 0;
    if (call % 500 == 2) s.sleepRange = 1;
    if (call % 500 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const int64_t n = 1 + call % int64_t(values.size());
    bitnet_rt_parallel_for(pool.get(), n, sum, &s);
    int64_t want = 0;
    for (int64_t i = 0; i < n; ++i) want += values[size_t(i)];
    ASSERT_EQ(s.total, want) << "call " << call;
  }
  Sum whole{&values};
  bitnet_rt_parallel_for(pool.get(), int64_t(values.size()), sum, &whole);
  EXPECT_EQ(whole.total, expected);
}

TEST(RuntimePool, CreateAndFreeRepeatedly) {
  for (int i = 0; i < 50; ++i) {
    PoolPtr pool(bitnet_rt_pool_create(1 + i % 4));
    Coverage c(5);
    if (i % 2) {
      bitnet_rt_parallel_for(pool.get(), 5, cover, &c);
      EXPECT_EQ(c.hits[4], 1);
    }
  }
}

}  // namespace
