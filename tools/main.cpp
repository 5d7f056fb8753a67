// The sctpp command-line tool: `sctpp echo`, `sctpp cat` and `sctpp perf` (design.md §3).
#include <cstring>
#include <variant>

#include "cli.h"
#include "commands.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "perf") == 0) {
    return sctpp::tool::run_perf_command(argc, argv);
  }
  auto outcome = sctpp::tool::parse_command_line(argc, argv);
  if (!outcome.command) return outcome.exit_code;
  if (auto* echo = std::get_if<sctpp::tool::EchoArgs>(&*outcome.command)) {
    return sctpp::tool::run_echo(*echo);
  }
  return sctpp::tool::run_cat(std::get<sctpp::tool::CatArgs>(*outcome.command));
}
