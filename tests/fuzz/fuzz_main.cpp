// libFuzzer entry point; compiled once per target with SCTPP_FUZZ_TARGET set to the
// harness function's name (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sctpp::fuzz::SCTPP_FUZZ_TARGET(data, size);
}
