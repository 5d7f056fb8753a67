// The subcommands; each returns the process exit code.
#pragma once

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
// Starts a thread that calls `on_signal` once SIGINT or SIGTERM arrives; a second
// signal ends the process at once.
void handle_termination_signals(std::function<void(int)> on_signal);

}  // namespace sctpp::tool
