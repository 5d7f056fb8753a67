// SIGINT/SIGTERM handling through a sigwait thread, so handlers may lock and notify.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

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
}  // namespace

void block_termination_signals() {
  sigset_t set = termination_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void handle_termination_signals(std::function<void(int)> on_signal) {
  block_termination_signals();
  sigset_t set = termination_set();
  std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    on_signal(sig);
    // A second signal while shutting down ends the process at once.
    sigwait(&set, &sig);
    _exit(130);
  }).detach();
}

}  // namespace sctpp::tool
