// BufferPool: large buffers handed back are reused, within its bounds.
#include "util/buffer_pool.h"

#include <gtest/gtest.h>

#include <numeric>

namespace sctpp {
namespace {

constexpr size_t k64 = 64 * 1024;

std::vector<uint8_t> with_capacity(size_t n) {
  std::vector<uint8_t> v;
  v.reserve(n);
  return v;
}

TEST(BufferPool, AGivenBufferIsTakenAgainEmptyWithItsMemory) {
  BufferPool pool;
  auto v = with_capacity(k64);
  v.assign(1000, 7);
  const uint8_t* memory = v.data();
  pool.give(std::move(v));
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(pool.buffers(), 1u);
  auto again = pool.take(k64);
  EXPECT_EQ(again.data(), memory);
  EXPECT_TRUE(again.empty());
  EXPECT_GE(again.capacity(), k64);
  EXPECT_EQ(pool.buffers(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
}

TEST(BufferPool, TakesOnlyABufferThatFitsAndIsNotMuchLarger) {
  BufferPool pool;
  pool.give(with_capacity(k64));
  // Too small for 100 KiB; more than twice what 20 KiB needs: a new buffer each time.
  auto big = pool.take(100 * 1024);
  EXPECT_GE(big.capacity(), 100 * 1024u);
  auto small = pool.take(20 * 1024);
  EXPECT_GE(small.capacity(), 20 * 1024u);
  EXPECT_EQ(pool.buffers(), 1u);
  auto fits = pool.take(40 * 1024);  // large enough, and not twice as large
  EXPECT_EQ(fits.capacity(), k64);
  EXPECT_EQ(pool.buffers(), 0u);
}

TEST(BufferPool, KeepsNeitherSmallBuffersNorMoreThanItsBounds) {
  BufferPool pool;
  pool.give(with_capacity(BufferPool::kMinBytes - 1));
  EXPECT_EQ(pool.buffers(), 0u);
  for (size_t i = 0; i < BufferPool::kMaxBuffers + 4; ++i) pool.give(with_capacity(k64));
  EXPECT_EQ(pool.buffers(), BufferPool::kMaxBuffers);
  BufferPool bytes_bound;
  const size_t mib = 1024 * 1024;
  for (size_t i = 0; i < BufferPool::kMaxBytes / mib + 2; ++i) bytes_bound.give(with_capacity(mib));
  EXPECT_LE(bytes_bound.bytes(), BufferPool::kMaxBytes);
  EXPECT_EQ(bytes_bound.buffers(), BufferPool::kMaxBytes / mib);
}

TEST(BufferPool, ASharedCopyComesBackWhenItsLastHolderLetsGo) {
  BufferPool pool;
  std::vector<uint8_t> data(k64);
  std::iota(data.begin(), data.end(), 0);
  auto copy = BufferPool::share_copy(&pool, data);
  EXPECT_EQ(*copy, data);
  auto second_holder = copy;
  copy.reset();
  EXPECT_EQ(pool.buffers(), 0u);  // still held
  const uint8_t* memory = second_holder->data();
  second_holder.reset();
  ASSERT_EQ(pool.buffers(), 1u);
  // The next large message is copied into the same memory, and is intact.
  std::vector<uint8_t> next(k64, 0x5a);
  auto again = BufferPool::share_copy(&pool, next);
  EXPECT_EQ(again->data(), memory);
  EXPECT_EQ(*again, next);
  // Small messages and a null pool: plain copies.
  EXPECT_EQ(*BufferPool::share_copy(nullptr, data), data);
  std::vector<uint8_t> small(100, 1);
  EXPECT_EQ(*BufferPool::share_copy(&pool, small), small);
  EXPECT_EQ(pool.buffers(), 0u);
}

}  // namespace
}  // namespace sctpp
