// The subcommands; each returns the process exit code.
#pragma once

#include <chrono>
#include <functional>

#include "cli.h"

namespace sctpp::tool {

int run_echo(const EchoArgs& args);
int run_cat(const CatArgs& args);
// `sctpp perf ...` (argv[1] == "perf"): parses its own flags (tools/perf_cli.cpp).
int run_perf_command(int argc, char** argv);

// Blocks SIGINT and SIGTERM in the calling thread and so in every thread it creates
// afterwards: call before any thread exists (the Stack starts one).
void block_termination_signals();
// A second SIGINT/SIGTERM this long after the first forces the exit; an earlier one is
// taken as the same request delivered twice.
inline constexpr std::chrono::milliseconds kForceAfter{1000};
// Starts a thread that calls `on_signal` once SIGINT or SIGTERM arrives. A second
// signal at least kForceAfter later calls `on_force` (meant to ABORT what is still
// open, so that peers learn at once) and ends the process with 128 + its number.
void handle_termination_signals(std::function<void(int)> on_signal,
                                std::function<void()> on_force = {});

}  // namespace sctpp::tool
