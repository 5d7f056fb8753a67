// The simulation soak (issue 4, item 1). Without arguments it is a GoogleTest
// binary: batches of seeds (one ctest entry per batch), the determinism check and
// regression scenarios. With arguments it is the long-run driver:
//
//   soak_tests --seed=12345 [--verbose]        one seed; --verbose prints the
//              [--trace[=SECONDS]]             scenario and every event, --trace
//                                              every packet (from SECONDS on)
//   soak_tests --seeds=1000000 [--start=N] [--jobs=2] [--stop-on-failure] [--strict]
//                                              seeds N .. N+count-1, progress on
//                                              stderr, each failing seed printed
//                                              with the command that replays it
//   --strict also checks the invariants that known, reported bugs break (see
//   soak_regression_test.cpp).
//
// SCTPP_SOAK_SEEDS=N (environment) makes the gtest batches cover N seeds in all
// instead of the default.
#include "soak.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sctpp::sim::soak {
namespace {

// 10 batches x 25 seeds = 250 seeds in the normal test run.
constexpr int kBatches = 10;
constexpr uint64_t kDefaultSeeds = 250;

uint64_t seeds_in_suite() {
  if (const char* e = std::getenv("SCTPP_SOAK_SEEDS")) return std::strtoull(e, nullptr, 10);
  return kDefaultSeeds;
}

std::string report(const SoakResult& r) {
  std::string s = "seed " + std::to_string(r.seed) + " failed; reproduce with:\n  " +
                  repro_command(r.seed) + "\nscenario: " + r.scenario + "\n";
  for (const auto& f : r.failures) s += "  - " + f + "\n";
  return s;
}

class SoakBatch : public ::testing::TestWithParam<int> {};

TEST_P(SoakBatch, EverySeedKeepsEveryInvariant) {
  const uint64_t total = seeds_in_suite();
  const uint64_t per = (total + kBatches - 1) / kBatches;
  const uint64_t first = 1 + static_cast<uint64_t>(GetParam()) * per;
  const uint64_t last = std::min<uint64_t>(first + per, total + 1);
  uint64_t sent = 0, delivered = 0, corrupted = 0, sessions = 0, abnormal = 0;
  for (uint64_t seed = first; seed < last; ++seed) {
    SoakResult r = run_seed(seed);
    EXPECT_TRUE(r.ok()) << report(r);
    sent += r.messages_sent;
    delivered += r.messages_delivered;
    corrupted += r.corrupted_delivered;
    sessions += r.sessions;
    abnormal += r.abnormal_ends;
  }
  std::cout << "seeds " << first << ".." << last - 1 << ": " << sent << " messages sent, "
            << delivered << " delivered and checked, " << corrupted
            << " corrupted packets delivered and rejected, " << sessions << " sessions ("
            << abnormal << " ended abnormally)\n";
  // The batch exercised something: data flowed and chaos happened.
  EXPECT_GT(delivered, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SoakBatch, ::testing::Range(0, kBatches));

// A seed replays exactly: the same packets, events and deliveries in the same
// order, whether run alone, twice, or after other seeds.
TEST(SoakDeterminism, ASeedReplaysTheSameEventTrace) {
  for (uint64_t seed : {3ull, 17ull, 42ull, 101ull}) {
    SoakResult a = run_seed(seed);
    SoakResult other = run_seed(seed + 1000);
    SoakResult b = run_seed(seed);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed << " is not reproducible";
    EXPECT_EQ(a.packets, b.packets);
    EXPECT_EQ(a.messages_delivered, b.messages_delivered);
    EXPECT_EQ(a.scenario, b.scenario);
    EXPECT_NE(a.trace_hash, other.trace_hash);
  }
}

// The soak is only worth something if the scenarios do what they claim: across
// the first seeds, corrupted packets reach endpoints, associations end abnormally
// (restart, abort, loss) and big messages get through.
TEST(SoakCoverage, ScenariosExerciseCorruptionRestartsAndAborts) {
  uint64_t corrupted = 0, abnormal = 0, delivered = 0, bytes = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SoakResult r = run_seed(seed);
    corrupted += r.corrupted_delivered;
    abnormal += r.abnormal_ends;
    delivered += r.messages_delivered;
    bytes += r.bytes_delivered;
  }
  EXPECT_GT(corrupted, 100u);
  EXPECT_GT(abnormal, 5u);
  EXPECT_GT(delivered, 1000u);
  EXPECT_GT(bytes, 1'000'000u);
}

// ---------------------------------------------------------------------------
// Long-run driver

struct Args {
  bool cli = false;
  bool verbose = false;
  bool stop_on_failure = false;
  bool strict = true;
  bool trace = false;
  double trace_from = 0;
  std::optional<uint64_t> seed;
  uint64_t seeds = 0;
  uint64_t start = 1;
  unsigned jobs = 1;
};

bool parse_u64(const char* arg, const char* name, uint64_t& out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  out = std::strtoull(arg + n + 1, nullptr, 10);
  return true;
}

int run_cli(const Args& a) {
  if (a.seed) {
    SoakOptions opt{a.strict};
    if (a.trace) {
      opt.packet_trace = &std::cout;
      opt.trace_from_seconds = a.trace_from;
    }
    SoakResult r = run_seed(*a.seed, a.verbose ? &std::cout : nullptr, opt);
    std::cout << "seed " << r.seed << ": " << (r.ok() ? "ok" : "FAILED") << ", trace hash "
              << std::hex << r.trace_hash << std::dec << ", " << r.messages_sent << " sent, "
              << r.messages_delivered << " delivered, " << r.sessions << " sessions ("
              << r.abnormal_ends << " abnormal), " << r.packets << " packets, " << r.corrupted
              << " corrupted (" << r.corrupted_delivered << " delivered, all rejected), "
              << r.virtual_seconds << " s virtual\n";
    if (!r.ok()) std::cout << report(r);
    return r.ok() ? 0 : 1;
  }
  std::atomic<uint64_t> next{a.start}, done{0}, failed{0}, messages{0}, corrupted{0};
  std::atomic<bool> stop{false};
  std::mutex out;
  const uint64_t end = a.start + a.seeds;
  const auto t0 = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (;;) {
      if (stop) return;
      uint64_t seed = next++;
      if (seed >= end) return;
      SoakResult r = run_seed(seed, nullptr, SoakOptions{a.strict});
      messages += r.messages_delivered;
      corrupted += r.corrupted_delivered;
      uint64_t n = ++done;
      std::lock_guard<std::mutex> lock(out);
      if (!r.ok()) {
        ++failed;
        std::cout << "FAIL " << report(r) << std::flush;
        if (a.stop_on_failure) stop = true;
      }
      if (n % 100 == 0 || n == a.seeds) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cerr << "soak: " << n << "/" << a.seeds << " seeds (last " << seed << "), " << failed
                  << " failed, " << messages << " messages checked, " << corrupted
                  << " corrupted packets rejected, " << static_cast<uint64_t>(n / secs)
                  << " seeds/s\n";
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, a.jobs); ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::cout << "soak: seeds " << a.start << ".." << end - 1 << ": " << done << " run, " << failed
            << " failed, " << messages << " messages checked\n";
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace sctpp::sim::soak

int main(int argc, char** argv) {
  using namespace sctpp::sim::soak;
  Args a;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    uint64_t v = 0;
    if (parse_u64(argv[i], "--seed", v)) {
      a.seed = v;
      a.cli = true;
    } else if (parse_u64(argv[i], "--seeds", v)) {
      a.seeds = v;
      a.cli = true;
    } else if (parse_u64(argv[i], "--start", v)) {
      a.start = v;
    } else if (parse_u64(argv[i], "--jobs", v)) {
    } else if (std::strcmp(argv[i], "--trace") == 0) {
      a.trace = true;
    } else if (std::strncmp(argv[i], "--trace=", 8) == 0) {
      a.trace = true;
      a.trace_from = std::strtod(argv[i] + 8, nullptr);
      a.jobs = static_cast<unsigned>(v);
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      a.verbose = true;
    } else if (std::strcmp(argv[i], "--strict") == 0) {
      a.strict = true;
    } else if (std::strcmp(argv[i], "--stop-on-failure") == 0) {
      a.stop_on_failure = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (a.cli) return run_cli(a);
  // Like the real argv, terminated by a null pointer: GoogleTest shifts argv[argc] too
  // when it removes the flags it consumed (ASan caught the read past the end).
  int n = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&n, rest.data());
  return RUN_ALL_TESTS();
}
