// Shared pieces of the fuzz harnesses: a reader that turns the fuzzer's bytes into
// choices (never failing: an exhausted input reads as zeros), the invariant check
// macro, and a probe of live heap bytes for memory bounds.
//
// Each harness is a plain function (fuzz_targets.h) so that the same code runs under
// libFuzzer (fuzz_main.cpp, clang, -DSCTPP_FUZZ=ON) and under GoogleTest in every
// ordinary build (replay_test.cpp replays the corpus and the regression inputs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace sctpp::fuzz {

// Big-endian reads from the front of the input.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  explicit Input(std::span<const uint8_t> s) : p_(s.data()), n_(s.size()) {}

  bool empty() const { return n_ == 0; }
  size_t remaining() const { return n_; }
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
  bool flag() { return u8() & 1; }
  // Up to `n` bytes (fewer when the input runs out).
  std::span<const uint8_t> bytes(size_t n) {
    if (n > n_) n = n_;
    std::span<const uint8_t> s(p_, n);
    p_ += n;
    n_ -= n;
    return s;
  }
  // A length-prefixed byte string (16-bit length), capped at `max`.
  std::span<const uint8_t> blob(size_t max = 65535) {
    size_t len = u16();
    return bytes(len < max ? len : max);
  }
  std::span<const uint8_t> rest() { return bytes(n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

// Called when an invariant fails: prints and aborts under libFuzzer (a crash the
// fuzzer saves), throws CheckFailure under GoogleTest so that the replay test can name
// the input file.
[[noreturn]] void check_failed(const char* expr, const char* file, int line,
                               const std::string& msg);
void set_throw_on_failure(bool on);

struct CheckFailure {
  std::string what;
};

#define FUZZ_CHECK(cond, msg)                                                   \
  do {                                                                          \
    if (!(cond)) ::sctpp::fuzz::check_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

// Deterministic filler bytes for message bodies: pattern(key, n) is n bytes that
// depend on `key` (n <= 65536). Filling and checking with memcpy/memcmp keeps the
// harnesses' own per-byte work (and its coverage tracing) out of the profile.
std::span<const uint8_t> pattern(uint32_t key, size_t n);

// Bytes currently allocated on the heap by the whole process (ASan's allocator
// statistics under a sanitizer, glibc's mallinfo2 otherwise). Harnesses compare it
// with a baseline taken at the start of each input.
size_t live_heap_bytes();

}  // namespace sctpp::fuzz
