#pragma once
// Runs the built `mvsp` binary as a child process for command-line and multi-process tests.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support.hpp"

extern char** environ;

namespace mvsp::test {

struct Run {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `mvsp args…` to completion.
inline Run run_mvsp(const std::string& args) {
  Run r;
  std::string cmd = mvsp_binary() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A `mvsp` process in the background; killed (SIGTERM) when dropped.
class Process {
 public:
  explicit Process(std::vector<std::string> args, const std::string& log_path) {
    args.insert(args.begin(), mvsp_binary());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() { stop(SIGTERM); }
  pid_t pid() const { return pid_; }
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace mvsp::test
