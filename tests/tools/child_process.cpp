#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace sctpp::test {

ChildProcess::ChildProcess(std::vector<std::string> argv) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) return;
  ::signal(SIGPIPE, SIG_IGN);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_ = in[1];
  auto reader = [this](int fd, std::string* sink, bool* eof) {
    char buf[65536];
    while (true) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (n <= 0) {
        *eof = true;
        cv_.notify_all();
        break;
      }
      sink->append(buf, static_cast<size_t>(n));
      cv_.notify_all();
    }
    close(fd);
  };
  out_reader_ = std::thread(reader, out[0], &out_, &out_eof_);
  err_reader_ = std::thread(reader, err[0], &err_, &err_eof_);
}

ChildProcess::~ChildProcess() {
  close_stdin();
  if (!status_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

void ChildProcess::write_stdin(const std::string& data) {
  size_t off = 0;
  while (in_ >= 0 && off < data.size()) {
    ssize_t n = write(in_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

void ChildProcess::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t nl = std::string::npos;
  cv_.wait_for(lock, timeout, [&] {
    nl = out_.find('\n', out_consumed_);
    return nl != std::string::npos || out_eof_;
  });
  if (nl == std::string::npos) return std::nullopt;
  std::string line = out_.substr(out_consumed_, nl - out_consumed_);
  out_consumed_ = nl + 1;
  return line;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !status_) kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the readers drain what the child wrote.
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [&] { return out_eof_ && err_eof_; });
  return status_;
}

std::string ChildProcess::out() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string ChildProcess::err() {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

RunResult run(std::vector<std::string> argv, const std::string& input,
              std::chrono::milliseconds timeout) {
  ChildProcess p(std::move(argv));
  std::thread writer([&] {
    p.write_stdin(input);
    p.close_stdin();
  });
  auto code = p.wait(timeout);
  if (!code) {
    p.signal(SIGKILL);
    code = p.wait(std::chrono::seconds(10));
  }
  writer.join();
  return RunResult{code.value_or(-1), p.out(), p.err()};
}

}  // namespace sctpp::test
