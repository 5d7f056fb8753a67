// Runs a program with pipes on stdin/stdout/stderr, for testing the sctpp tool.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sctpp::test {

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();  // kills the child if it still runs

  void write_stdin(const std::string& data);
  void close_stdin();
  // The next line of standard output (without '\n'), or nullopt on timeout/EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void signal(int sig);
  // Exit code (128+signal when killed by one), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything read so far (after wait(): everything).
  std::string out();
  std::string err();

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  size_t out_consumed_ = 0;
  bool out_eof_ = false, err_eof_ = false;
  std::thread out_reader_, err_reader_;
  std::optional<int> status_;
};

struct RunResult {
  int code = -1;
  std::string out, err;
};
// Runs to completion with `input` on stdin (killed after `timeout`).
RunResult run(std::vector<std::string> argv, const std::string& input = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace sctpp::test
