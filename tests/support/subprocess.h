// SPDX-License-Identifier: Apache-2.0
// Test support: child processes with captured output, temp dirs and free loopback ports.
// Tests use real parts (edgegw, mosquitto, socat, the cloud emulator) and must clean up after
// themselves: a Subprocess kills its process group when it goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace edgegw::testing {

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH) with stdout and stderr captured to files in a temp dir.
  // `env` entries ("NAME=value") are added to the inherited environment. The child is killed
  // when the thread that started it ends (PR_SET_PDEATHSIG): start long-lived processes from
  // the test's own thread, not from a short-lived helper thread.
  Subprocess(std::vector<std::string> argv, std::vector<std::string> env = {});
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  void signal(int signal_number) const;
  // Waits for the exit; the exit code, 128+signal when killed, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  // User + system CPU seconds the process has used so far (/proc/PID/stat; 0 once reaped).
  double cpu_seconds() const;
  // Everything written so far.
  std::string out() const;
  std::string err() const;
  // Polls err() until it contains `text` or the timeout passes.
  bool wait_for_err(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string dir_;
};

// Runs a command to completion (at most `timeout`) and returns {exit code, stdout, stderr}.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, std::vector<std::string> env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A fresh directory under $TMPDIR, removed (recursively) in the destructor.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name with the given mode and returns the full path.
  std::string write(const std::string& name, const std::string& content, int mode = 0644) const;

 private:
  std::string path_;
};

// Polls `done` every 20 ms until it is true or `timeout` passes; its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago (bound with port 0, then released). Another
// test running at the same time may take it before it is used: a server of the gateway's own is
// better started on port 0 (logged_port).
int free_port();
// The address ("HOST:PORT") `process` first logged on stderr right after `before` ("listening on
// 127.0.0.1:41234"): where a server given port 0 listens. "": not logged within `timeout`.
std::string logged_address(const Subprocess& process, const std::string& before,
                           std::chrono::milliseconds timeout);
// The port of logged_address; 0: none.
int logged_port(const Subprocess& process, const std::string& before,
                std::chrono::milliseconds timeout);

// The edgegw binary of this build tree (from EDGEGW_BINARY_DIR, set by ctest).
std::string edgegw_binary();
// The source tree's root (compiled in).
std::string source_dir();

std::string read_file(const std::string& path);

}  // namespace edgegw::testing
