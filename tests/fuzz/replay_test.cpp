// Replays every committed fuzz input through its harness in the ordinary build (no
// clang or libFuzzer needed): the seed corpus (corpus/<target>/) and the inputs that
// once crashed or broke an invariant (regressions/<target>/). An invariant failure is
// reported as a test failure naming the file; a crash or sanitizer report fails the
// test binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_targets.h"
#include "fuzz_util.h"

namespace sctpp::fuzz {
namespace {

namespace fs = std::filesystem;
using Harness = int (*)(const uint8_t*, size_t);

std::vector<fs::path> inputs_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    fs::path dir = fs::path(SCTPP_FUZZ_DIR) / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& target, Harness harness, size_t min_inputs) {
  set_throw_on_failure(true);
  auto files = inputs_of(target);
  EXPECT_GE(files.size(), min_inputs) << "corpus of " << target << " is missing";
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (std::getenv("SCTPP_FUZZ_VERBOSE")) std::fprintf(stderr, "%s\n", f.c_str());
    try {
      harness(bytes.data(), bytes.size());
    } catch (const CheckFailure& e) {
      ADD_FAILURE() << f.string() << ": " << e.what;
    }
  }
  set_throw_on_failure(false);
}

TEST(FuzzReplay, Packet) {
  replay("fuzz_packet", fuzz_packet, 5);
}
TEST(FuzzReplay, Endpoint) {
  replay("fuzz_endpoint", fuzz_endpoint, 5);
}
TEST(FuzzReplay, Receive) {
  replay("fuzz_receive", fuzz_receive, 5);
}

}  // namespace
}  // namespace sctpp::fuzz
