// SPDX-License-Identifier: Apache-2.0
#include "actions/analysis_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>

#include "log/log.h"
#include "log/rate_limited.h"

namespace edgegw::actions {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using Done = std::function<void(const RunOutcome&)>;

namespace {

// After the exit, what is still in the pipes is read for at most this long (a process that left
// the group with setsid() may hold them open).
constexpr milliseconds kDrainGrace(500);
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
constexpr std::size_t kReadChunk = 4096;

std::string error_text(int err) { return std::generic_category().message(err); }

milliseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

// A file descriptor, closed when dropped.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Child {
  pid_t pid = -1;
  Fd out;  // read ends of the child's stdout and stderr
  Fd err;
};

// Starts argv (argv[0] searched in the gateway's PATH) with exactly `env`, in a process group of
// its own, stdin from /dev/null, stdout and stderr to pipes, no other descriptor, an empty signal
// mask and every signal at its default. Returns 0 or an errno (an exec failure included: glibc's
// posix_spawn reports it and reaps the child).
int spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, Child& child) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return errno;
  Fd out_r(out[0]);
  Fd out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return errno;
  Fd err_r(err[0]);
  Fd err_w(err[1]);

  posix_spawn_file_actions_t actions;
  if (const int rc = ::posix_spawn_file_actions_init(&actions); rc != 0) return rc;
  posix_spawnattr_t attr;
  if (const int rc = ::posix_spawnattr_init(&attr); rc != 0) {
    ::posix_spawn_file_actions_destroy(&actions);
    return rc;
  }
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  int rc = ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions, out_w.get(), STDOUT_FILENO);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&actions, err_w.get(), STDERR_FILENO);
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  if (rc == 0) {
    rc = ::posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&attr, &all);
  if (rc == 0) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    rc = ::posix_spawnp(&child.pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  }
  ::posix_spawnattr_destroy(&attr);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return rc;
  child.out = std::move(out_r);
  child.err = std::move(err_r);
  return 0;
}

RunOutcome outcome_of(RunOutcome::Kind kind, std::string error = {}) {
  RunOutcome outcome;
  outcome.kind = kind;
  outcome.error = std::move(error);
  return outcome;
}

bool is_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// Splits a stream into lines; a line over AnalysisRunner::kMaxLineBytes is cut (at a UTF-8
// boundary) and marked "...", the rest of it skipped.
class LineSplitter {
 public:
  template <typename Emit>
  void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      const std::size_t nl = data.find('\n');
      const std::string_view piece = data.substr(0, nl);
      if (!skipping_) {
        const std::size_t room = AnalysisRunner::kMaxLineBytes - partial_.size();
        if (piece.size() > room) {
          // One byte past the limit, to see whether the cut would split a UTF-8 sequence.
          partial_.append(piece.substr(0, room + 1));
          std::size_t cut = AnalysisRunner::kMaxLineBytes;
          for (int i = 0; i < 3 && cut > 0 && is_continuation(partial_[cut]); ++i) --cut;
          partial_.resize(cut);
          partial_ += "...";
          emit(std::string_view(partial_));
          partial_.clear();
          skipping_ = true;
        } else {
          partial_.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!skipping_) emit(trimmed());
      partial_.clear();
      skipping_ = false;
      data.remove_prefix(nl + 1);
    }
  }

  // At the end of the stream: the last line, if it had no newline.
  template <typename Emit>
  void flush(Emit&& emit) {
    if (!skipping_ && !partial_.empty()) emit(trimmed());
    partial_.clear();
    skipping_ = false;
  }

 private:
  std::string_view trimmed() const {
    std::string_view line(partial_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  std::string partial_;
  bool skipping_ = false;
};

// A token bucket: RateLimitedLog allows one line per key per interval, which cannot express
// "N lines a second, in bursts" for a script's output, so the output has its own.
class LineBudget {
 public:
  explicit LineBudget(int per_second)
      : per_second_(per_second), tokens_(per_second), last_(SteadyClock::now()) {}

  bool take() {
    const auto now = SteadyClock::now();
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(per_second_, tokens_ + elapsed * per_second_);
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    ++suppressed_;
    return false;
  }
  std::uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }

 private:
  int per_second_;
  double tokens_;
  SteadyClock::time_point last_;
  std::uint64_t suppressed_ = 0;
};

}  // namespace

class AnalysisRunner::Impl : public std::enable_shared_from_this<AnalysisRunner::Impl> {
 public:
  Impl(asio::io_context& io, config::AnalysisConfig config, std::string api_url);

  bool submit(std::string scope_json, Done done);
  void start_schedule();
  void stop();

  const AnalysisStats& stats() const noexcept { return stats_; }
  const std::string& name() const noexcept { return config_.name; }

 private:
  using Strand = asio::strand<asio::io_context::executor_type>;

  struct Pending {
    std::string scope;
    Done done;
  };

  struct Run {
    explicit Run(const Strand& strand) : pidfd(strand), out(strand), err(strand), timer(strand) {}
    Done done;
    pid_t pid = -1;
    SteadyClock::time_point started;
    asio::posix::stream_descriptor pidfd;
    asio::posix::stream_descriptor out;
    asio::posix::stream_descriptor err;
    asio::steady_timer timer;  // the timeout; after the exit, the drain's grace
    std::array<char, kReadChunk> out_buf{};
    std::array<char, kReadChunk> err_buf{};
    LineSplitter out_lines;
    LineSplitter err_lines;
    bool out_eof = false;
    bool err_eof = false;
    bool timed_out = false;  // the timeout killed its group
    bool cancelled = false;  // stop() killed its group
    bool exited = false;     // reaped: wait_status and duration are set
    bool status_lost = false;
    bool finished = false;  // its outcome is reported; late handlers do nothing
    int wait_status = 0;
    milliseconds duration{0};
  };
  using RunPtr = std::shared_ptr<Run>;

  void enqueue(Pending pending);
  void maybe_start();
  void start(Pending pending);
  std::string fit_scope(std::string scope);
  void watch_exit(const RunPtr& run);
  void on_exit(const RunPtr& run);
  void read_output(const RunPtr& run, bool is_err);
  void log_line(bool is_err, std::string_view line);
  void maybe_finish(const RunPtr& run);
  void finish(const RunPtr& run);
  void report(const RunPtr& run, const RunOutcome& outcome);
  void deliver(Done done, RunOutcome outcome);
  void arm_schedule();
  void stop_on_strand(bool block);

  // The process table, touched by stop() from any thread as well: a group is only ever signalled
  // while its leader is unreaped (a zombie at worst), so its id cannot have been reused.
  void add_live(pid_t pid);
  void kill_group(pid_t pid);
  void kill_all_groups();
  // Reaps the run's process once it has exited, after killing what it left in its group. Returns
  // false while it still runs (block: waits for it).
  bool reap(Run& run, bool block);

  asio::io_context& io_;
  config::AnalysisConfig config_;
  Strand strand_;
  std::shared_ptr<spdlog::logger> logger_;
  log::RateLimitedLog problems_;
  std::vector<std::string> base_env_;  // all of the child's environment but T_ANALYSIS_DATA
  std::size_t max_running_;
  std::size_t capacity_;  // max_running + max_queued: runs accepted and not yet ended
  AnalysisStats stats_;

  // Any thread.
  std::atomic<std::size_t> admitted_{0};
  std::atomic<bool> stopping_{false};
  std::mutex live_mu_;
  std::vector<pid_t> live_;  // started, not yet reaped

  // On the strand.
  std::deque<Pending> queue_;
  std::vector<RunPtr> running_;  // started, outcome not yet reported
  asio::steady_timer schedule_timer_;
  SteadyClock::time_point next_tick_{};
  bool scheduled_ = false;
  LineBudget output_budget_{kOutputLinesPerSecond};
};

AnalysisRunner::Impl::Impl(asio::io_context& io, config::AnalysisConfig config, std::string api_url)
    : io_(io),
      config_(std::move(config)),
      strand_(asio::make_strand(io)),
      logger_(log::get("analysis")),
      problems_(logger_, std::chrono::seconds(10)),
      max_running_(static_cast<std::size_t>(std::max(1, config_.max_running))),
      capacity_(max_running_ + config_.max_queued),
      schedule_timer_(strand_) {
  // Built, not inherited: the gateway's environment may hold its own secrets.
  for (const char* name : {"PATH", "HOME", "LANG", "TZ"}) {
    if (const char* value = std::getenv(name)) {
      base_env_.push_back(std::string(name) + "=" + value);
    } else if (std::string_view(name) == "PATH") {
      base_env_.push_back(std::string("PATH=") + kDefaultPath);
    }
  }
  boost::json::array environment;
  for (const auto& [key, value] : config_.environment) {
    environment.push_back(boost::json::object{{"key", key}, {"value", value.reveal()}});
  }
  base_env_.push_back("T_ANALYSIS_CONTEXT=edgegw");
  base_env_.push_back("T_ANALYSIS_ID=" + config_.name);
  base_env_.push_back("T_ANALYSIS_TOKEN=" + config_.token.reveal());
  base_env_.push_back("T_ANALYSIS_ENV=" + boost::json::serialize(environment));
  base_env_.push_back("TAGOIO_API=" + api_url);
  base_env_.push_back("TAGOIO_REALTIME=" + api_url);
  base_env_.push_back("TAGOIO_SSE=" + api_url);
}

bool AnalysisRunner::Impl::submit(std::string scope_json, Done done) {
  if (stopping_) return false;
  std::size_t admitted = admitted_.load();
  do {
    if (admitted >= capacity_) {
      ++stats_.refused;
      problems_.log(log::Level::warn, config_.name + "/refused",
                    fmt::format("analysis {}: run refused: {} runs wait already (max_queued)",
                                config_.name, config_.max_queued));
      return false;
    }
  } while (!admitted_.compare_exchange_weak(admitted, admitted + 1));
  asio::post(strand_, [self = shared_from_this(), scope = std::move(scope_json),
                       done = std::move(done)]() mutable {
    self->enqueue(Pending{std::move(scope), std::move(done)});
  });
  return true;
}

void AnalysisRunner::Impl::enqueue(Pending pending) {
  if (stopping_) {
    --admitted_;
    deliver(std::move(pending.done), outcome_of(RunOutcome::Kind::kCancelled));
    return;
  }
  queue_.push_back(std::move(pending));
  ++stats_.queued;
  maybe_start();
}

void AnalysisRunner::Impl::maybe_start() {
  while (!stopping_ && running_.size() < max_running_ && !queue_.empty()) {
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    --stats_.queued;
    start(std::move(next));
  }
}

void AnalysisRunner::Impl::start(Pending pending) {
  std::vector<std::string> env = base_env_;
  env.push_back("T_ANALYSIS_DATA=" + fit_scope(std::move(pending.scope)));

  Child child;
  int err = config_.command.empty() ? ENOENT : spawn(config_.command, env, child);
  bool pidfd_failed = false;
  Fd pidfd;
  if (err == 0) {
    pidfd = Fd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
    if (pidfd.get() < 0) {
      err = errno;
      pidfd_failed = true;
      ::kill(-child.pid, SIGKILL);
      while (::waitpid(child.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  if (err != 0) {
    const std::string argv0 = config_.command.empty() ? std::string() : config_.command[0];
    const std::string message = fmt::format("cannot start '{}': {}{}", argv0,
                                            pidfd_failed ? "pidfd_open: " : "", error_text(err));
    ++stats_.start_failures;
    problems_.log(log::Level::err, config_.name + "/start",
                  fmt::format("analysis {}: {}", config_.name, message));
    --admitted_;
    deliver(std::move(pending.done), outcome_of(RunOutcome::Kind::kFailedToStart, message));
    return;
  }

  auto run = std::make_shared<Run>(strand_);
  run->done = std::move(pending.done);
  run->pid = child.pid;
  run->started = SteadyClock::now();
  add_live(child.pid);
  run->pidfd.assign(pidfd.release());
  run->out.assign(child.out.release());
  run->err.assign(child.err.release());
  running_.push_back(run);
  ++stats_.runs;
  ++stats_.running;
  logger_->debug("analysis {}: started (pid {})", config_.name, child.pid);

  watch_exit(run);
  read_output(run, false);
  read_output(run, true);
  if (config_.timeout.count() > 0) {
    run->timer.expires_after(config_.timeout);
    run->timer.async_wait([self = shared_from_this(), run](boost::system::error_code ec) {
      if (ec || run->finished || run->exited) return;
      run->timed_out = true;
      self->kill_group(run->pid);
    });
  }
}

std::string AnalysisRunner::Impl::fit_scope(std::string scope) {
  if (scope.size() <= kMaxScopeBytes) return scope;
  boost::json::error_code ec;
  const boost::json::value value = boost::json::parse(scope, ec);
  if (ec || !value.is_array()) {
    problems_.log(log::Level::warn, config_.name + "/scope",
                  fmt::format("analysis {}: its scope ({} bytes) is no JSON array and over the {} "
                              "KiB an environment variable may hold; the run gets []",
                              config_.name, scope.size(), kMaxScopeBytes / 1024));
    return "[]";
  }
  // The newest readings (the array's tail) that fit.
  const boost::json::array& readings = value.get_array();
  std::vector<std::string> kept;
  std::size_t total = 2;  // []
  for (std::size_t i = readings.size(); i-- > 0;) {
    std::string reading = boost::json::serialize(readings[i]);
    const std::size_t add = reading.size() + (kept.empty() ? 0 : 1);
    if (total + add > kMaxScopeBytes) break;
    total += add;
    kept.push_back(std::move(reading));
  }
  std::string fitted;
  fitted.reserve(total);
  fitted += '[';
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    if (it != kept.rbegin()) fitted += ',';
    fitted += *it;
  }
  fitted += ']';
  problems_.log(
      log::Level::warn, config_.name + "/scope",
      fmt::format("analysis {}: its scope of {} readings ({} bytes) is over the {} KiB an "
                  "environment variable may hold; the run gets the newest {}",
                  config_.name, readings.size(), scope.size(), kMaxScopeBytes / 1024, kept.size()));
  return fitted;
}

void AnalysisRunner::Impl::watch_exit(const RunPtr& run) {
  run->pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this(), run](boost::system::error_code ec) {
                          if (run->finished || run->exited) return;
                          if (ec) {
                            // Cannot happen with a pidfd; never leave the process unwatched.
                            self->logger_->error("analysis {}: cannot watch its process: {}",
                                                 self->config_.name, ec.message());
                            self->kill_group(run->pid);
                            self->reap(*run, true);
                            self->on_exit(run);
                            return;
                          }
                          if (!self->reap(*run, false)) {
                            self->watch_exit(run);
                            return;
                          }
                          self->on_exit(run);
                        });
}

void AnalysisRunner::Impl::on_exit(const RunPtr& run) {
  // The group is gone now: the pipes reach their end at once, unless something left the group
  // holding them; their last lines are read for a moment at most.
  run->timer.cancel();
  run->timer.expires_after(kDrainGrace);
  run->timer.async_wait([self = shared_from_this(), run](boost::system::error_code ec) {
    if (ec || run->finished) return;
    self->finish(run);
  });
  maybe_finish(run);
}

void AnalysisRunner::Impl::read_output(const RunPtr& run, bool is_err) {
  auto& stream = is_err ? run->err : run->out;
  auto& buf = is_err ? run->err_buf : run->out_buf;
  stream.async_read_some(asio::buffer(buf), [self = shared_from_this(), run, is_err](
                                                boost::system::error_code ec, std::size_t n) {
    if (run->finished) return;
    auto& lines = is_err ? run->err_lines : run->out_lines;
    const auto emit = [&](std::string_view line) { self->log_line(is_err, line); };
    if (n > 0) lines.feed(std::string_view((is_err ? run->err_buf : run->out_buf).data(), n), emit);
    if (ec) {
      lines.flush(emit);
      (is_err ? run->err_eof : run->out_eof) = true;
      self->maybe_finish(run);
      return;
    }
    self->read_output(run, is_err);
  });
}

void AnalysisRunner::Impl::log_line(bool is_err, std::string_view line) {
  if (line.empty() || !output_budget_.take()) return;
  if (const auto suppressed = output_budget_.take_suppressed(); suppressed > 0) {
    logger_->warn("analysis {}: {} lines of its output not logged (over {} a second)", config_.name,
                  suppressed, kOutputLinesPerSecond);
  }
  logger_->log(is_err ? log::Level::warn : log::Level::info, "analysis {}: {}", config_.name, line);
}

void AnalysisRunner::Impl::maybe_finish(const RunPtr& run) {
  if (run->exited && run->out_eof && run->err_eof) finish(run);
}

void AnalysisRunner::Impl::finish(const RunPtr& run) {
  if (run->finished) return;
  const auto emit = [this](bool is_err) {
    return [this, is_err](std::string_view line) { log_line(is_err, line); };
  };
  if (!run->out_eof) run->out_lines.flush(emit(false));
  if (!run->err_eof) run->err_lines.flush(emit(true));
  run->finished = true;
  boost::system::error_code ignored;
  run->timer.cancel();
  run->pidfd.close(ignored);
  run->out.close(ignored);
  run->err.close(ignored);

  RunOutcome outcome;
  outcome.duration = run->duration;
  const int status = run->wait_status;
  if (run->status_lost) {
    outcome.kind = RunOutcome::Kind::kExited;
    outcome.exit_code = -1;
  } else if (WIFSIGNALED(status) && run->timed_out) {
    outcome.kind = RunOutcome::Kind::kTimedOut;
    outcome.signal = WTERMSIG(status);
  } else if (WIFSIGNALED(status) &&
             (run->cancelled || (stopping_ && WTERMSIG(status) == SIGKILL))) {
    // stop() kills the groups at once, from its own thread: this exit may be seen before the
    // strand has marked the run.
    outcome.kind = RunOutcome::Kind::kCancelled;
    outcome.signal = WTERMSIG(status);
  } else if (WIFSIGNALED(status)) {
    outcome.kind = RunOutcome::Kind::kSignalled;
    outcome.signal = WTERMSIG(status);
  } else {
    outcome.kind = RunOutcome::Kind::kExited;
    outcome.exit_code = WEXITSTATUS(status);
  }
  report(run, outcome);

  std::erase(running_, run);
  --stats_.running;
  --admitted_;
  deliver(std::move(run->done), std::move(outcome));
  maybe_start();
}

void AnalysisRunner::Impl::report(const RunPtr& run, const RunOutcome& outcome) {
  if (const auto suppressed = output_budget_.take_suppressed(); suppressed > 0) {
    logger_->warn("analysis {}: {} lines of its output not logged (over {} a second)", config_.name,
                  suppressed, kOutputLinesPerSecond);
  }
  const std::string& name = config_.name;
  const auto ms = outcome.duration.count();
  stats_.duration_ms_total += static_cast<std::uint64_t>(ms);
  const auto signal_name = [](int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
  };
  switch (outcome.kind) {
    case RunOutcome::Kind::kExited:
      if (run->status_lost) {
        ++stats_.failed;
        logger_->warn(
            "analysis {}: ended after {} ms; its exit status was lost (is SIGCHLD "
            "ignored?)",
            name, ms);
      } else if (outcome.exit_code == 0) {
        ++stats_.succeeded;
        logger_->info("analysis {}: done in {} ms", name, ms);
      } else {
        ++stats_.failed;
        logger_->warn("analysis {}: exited with code {} after {} ms", name, outcome.exit_code, ms);
      }
      break;
    case RunOutcome::Kind::kSignalled:
      ++stats_.failed;
      logger_->warn("analysis {}: killed by {} after {} ms", name, signal_name(outcome.signal), ms);
      break;
    case RunOutcome::Kind::kTimedOut:
      ++stats_.timed_out;
      logger_->warn(
          "analysis {}: timed out after {} ms (timeout {} ms); its process group was "
          "killed",
          name, ms, config_.timeout.count());
      break;
    case RunOutcome::Kind::kCancelled:
      logger_->warn("analysis {}: killed after {} ms: the analyses are stopping", name, ms);
      break;
    case RunOutcome::Kind::kFailedToStart:
      break;  // logged where it failed
  }
}

void AnalysisRunner::Impl::deliver(Done done, RunOutcome outcome) {
  if (!done) return;
  // Posted, not called: `done` may submit or stop without re-entering what called it.
  asio::post(strand_, [done = std::move(done), outcome = std::move(outcome)] { done(outcome); });
}

void AnalysisRunner::Impl::start_schedule() {
  asio::post(strand_, [self = shared_from_this()] {
    const auto& every = self->config_.every;
    if (!every || every->count() <= 0 || self->stopping_ || self->scheduled_) return;
    self->scheduled_ = true;
    self->next_tick_ = SteadyClock::now() + *every;
    self->arm_schedule();
  });
}

void AnalysisRunner::Impl::arm_schedule() {
  schedule_timer_.expires_at(next_tick_);
  schedule_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopping_) return;
    self->submit("[]", {});
    // A fixed rate; after a stall (a suspended box), the next tick is a full period away.
    const auto now = SteadyClock::now();
    self->next_tick_ += *self->config_.every;
    if (self->next_tick_ <= now) self->next_tick_ = now + *self->config_.every;
    self->arm_schedule();
  });
}

void AnalysisRunner::Impl::stop() {
  const bool first = !stopping_.exchange(true);
  kill_all_groups();  // at once, whatever the io_context does next
  if (io_.stopped()) {
    // io.run() has returned (the destructor at shutdown): no handler runs, so do it all here.
    stop_on_strand(true);
    return;
  }
  if (first) {
    asio::dispatch(strand_, [self = shared_from_this()] { self->stop_on_strand(false); });
  }
}

void AnalysisRunner::Impl::stop_on_strand(bool block) {
  schedule_timer_.cancel();
  std::deque<Pending> dropped = std::exchange(queue_, {});
  if (!dropped.empty()) {
    stats_.queued -= static_cast<std::int64_t>(dropped.size());
    logger_->info("analysis {}: {} queued runs dropped: the analyses are stopping", config_.name,
                  dropped.size());
  }
  for (Pending& pending : dropped) {
    --admitted_;
    deliver(std::move(pending.done), outcome_of(RunOutcome::Kind::kCancelled));
  }
  const std::vector<RunPtr> running = running_;
  for (const RunPtr& run : running) {
    if (!run->exited) {
      run->cancelled = true;
      kill_group(run->pid);
    }
    if (!block) continue;  // the exit handlers reap them and report
    if (!run->exited) {
      reap(*run, true);
    }
    finish(run);
  }
}

void AnalysisRunner::Impl::add_live(pid_t pid) {
  std::lock_guard lock(live_mu_);
  live_.push_back(pid);
}

void AnalysisRunner::Impl::kill_group(pid_t pid) {
  std::lock_guard lock(live_mu_);
  if (std::find(live_.begin(), live_.end(), pid) != live_.end()) ::kill(-pid, SIGKILL);
}

void AnalysisRunner::Impl::kill_all_groups() {
  std::lock_guard lock(live_mu_);
  for (const pid_t pid : live_) ::kill(-pid, SIGKILL);
}

bool AnalysisRunner::Impl::reap(Run& run, bool block) {
  std::lock_guard lock(live_mu_);
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(run.pid), &info,
                  WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    // ECHILD: reaped elsewhere (SIGCHLD ignored, or someone's waitpid(-1)).
    run.status_lost = true;
  } else if (info.si_pid == 0) {
    return false;  // still running
  } else {
    // The leader is a zombie, so the group id is still ours: end what it left behind.
    ::kill(-run.pid, SIGKILL);
    int status = 0;
    while (::waitpid(run.pid, &status, 0) < 0) {
      if (errno != EINTR) {
        run.status_lost = true;
        break;
      }
    }
    run.wait_status = status;
  }
  std::erase(live_, run.pid);
  run.exited = true;
  run.duration = since(run.started);
  return true;
}

// AnalysisRunner

AnalysisRunner::AnalysisRunner(asio::io_context& io, config::AnalysisConfig config,
                               std::string api_url)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(api_url))) {}

AnalysisRunner::~AnalysisRunner() { impl_->stop(); }

bool AnalysisRunner::submit(std::string scope_json, std::function<void(const RunOutcome&)> done) {
  return impl_->submit(std::move(scope_json), std::move(done));
}

void AnalysisRunner::start_schedule() { impl_->start_schedule(); }

void AnalysisRunner::stop() { impl_->stop(); }

const AnalysisStats& AnalysisRunner::stats() const noexcept { return impl_->stats(); }

const std::string& AnalysisRunner::name() const noexcept { return impl_->name(); }

}  // namespace edgegw::actions
