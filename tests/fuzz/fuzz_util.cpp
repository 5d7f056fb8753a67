#include "fuzz_util.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCTPP_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SCTPP_FUZZ_ASAN 1
#endif

#if defined(SCTPP_FUZZ_ASAN)
// From <sanitizer/allocator_interface.h> (clang ships it, GCC does not; both runtimes
// export the function).
extern "C" size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

namespace sctpp::fuzz {
namespace {
bool g_throw = false;
}

void set_throw_on_failure(bool on) {
  g_throw = on;
}

void check_failed(const char* expr, const char* file, int line, const std::string& msg) {
  std::string text = std::string(file) + ":" + std::to_string(line) +
                     ": invariant failed: " + expr + (msg.empty() ? "" : " -- " + msg);
  if (g_throw) throw CheckFailure{text};
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
  std::abort();
}

std::span<const uint8_t> pattern(uint32_t key, size_t n) {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(2 * 65536);
    uint32_t x = 0x12345678;
    for (auto& b : t) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<uint8_t>(x >> 24);
    }
    return t;
  }();
  size_t offset = (key * 2654435761u) >> 16;  // < 65536
  if (n > 65536) n = 65536;
  return std::span<const uint8_t>(table.data() + offset, n);
}

size_t live_heap_bytes() {
#if defined(SCTPP_FUZZ_ASAN)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

}  // namespace sctpp::fuzz
