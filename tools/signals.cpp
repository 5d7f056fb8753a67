// SIGINT/SIGTERM handling through a sigwait thread, so handlers may lock and notify.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "commands.h"

namespace sctpp::tool {

namespace {
sigset_t termination_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int next_signal(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}
}  // namespace

void block_termination_signals() {
  sigset_t set = termination_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void handle_termination_signals(std::function<void(int)> on_signal,
                                std::function<void()> on_force) {
  block_termination_signals();
  sigset_t set = termination_set();
  std::thread([set, on_signal = std::move(on_signal), on_force = std::move(on_force)] {
    const int first = next_signal(set);
    const auto first_at = std::chrono::steady_clock::now();
    on_signal(first);
    // A second signal while shutting down ends the process at once, but only when it
    // comes a while after the first: timeout(1) and a terminal's Ctrl-C may deliver
    // one signal twice (to the process and to its group) within microseconds, and
    // that must not turn a graceful shutdown into an abrupt one.
    while (true) {
      const int sig = next_signal(set);
      if (std::chrono::steady_clock::now() - first_at < kForceAfter) continue;
      std::fprintf(stderr, "sctpp: second signal: exiting without a graceful shutdown\n");
      if (on_force) on_force();
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(128 + sig);
    }
  }).detach();
}

}  // namespace sctpp::tool
