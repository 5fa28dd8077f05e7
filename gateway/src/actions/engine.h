// SPDX-License-Identifier: Apache-2.0
// The actions' conditions, evaluated in the buffer's appends (a write hook): a reading that fires
// an action puts a job in the outbox, and a fired action with a reset condition its "disarmed"
// mark, in the same WriteBatch as the reading. So a job exists exactly when its reading does,
// the hysteresis survives a kill -9, and the jobs become ready (take_ready) only once that batch
// is written. The dispatcher (actions/dispatcher.h) runs them and removes them with finish().
//
// Layout in the buffer's `actions` column family (gateway/docs/buffer_format.md):
//   'o' | id (8, big endian)         -> job: version (1) | time ms (8) | action | 0 | device | 0 |
//                                       the reading's cloud JSON
//   'd' | id (8)                     -> a dead job: the job's value | 0 | status (decimal) | 0 |
//   why 's' | action | 0 | fingerprint | 0 | device -> "" (the action fired for the device and
//   waits
//                                       for its reset condition)
// The fingerprint names the action's conditions: a changed condition starts every device armed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actions/condition.h"
#include "actions/stats.h"
#include "buffer/buffer.h"
#include "config/config.h"
#include "edgegw/status.h"

namespace edgegw::actions {

// One fired action, waiting in the outbox until it was carried out (or dead-lettered).
struct Job {
  std::uint64_t id = 0;
  std::string action;
  std::string device;  // the device's key
  std::int64_t time_ms = 0;
  std::string reading;  // the reading's cloud JSON
};

class Engine final : public buffer::WriteHook {
 public:
  // The buffer's `actions` column family must exist (not a read-only buffer). Call load() next.
  explicit Engine(buffer::Buffer& buffer);
  ~Engine() override;

  // Reads the jobs left by an earlier run (they are ready at once: at least once, a crash may
  // repeat a job that was carried out but not yet removed) and the next job id.
  Status load();

  // The actions and the buffer's devices (id, key) to evaluate from now on. Reads the
  // disarmed marks of the actions from the store; removes marks of actions no longer
  // configured, or whose conditions changed. Jobs of actions no longer configured are
  // dead-lettered ("the action is no longer configured").
  Status configure(std::span<const config::ActionConfig> actions,
                   std::span<const std::pair<buffer::DeviceId, std::string>> devices);
  // A device the config does not list whose readings the gateway takes (a provisioned one):
  // from now on, and across configure(), the actions whose devices or pattern name it watch it,
  // with their disarmed marks of an earlier run. Called before its first reading is appended.
  Status add_device(buffer::DeviceId id, const std::string& key);

  // Called, under the buffer's lock, when jobs became ready: it must only schedule a
  // take_ready() elsewhere.
  void set_on_ready(std::function<void()> callback);
  std::vector<Job> take_ready();

  // A job carried out: removed from the outbox.
  Status finish(const Job& job);
  // A job that cannot be carried out, ever (a 4xx answer): moved to the dead jobs, with why.
  Status dead_letter(const Job& job, int status, std::string_view why);
  // Visits the dead jobs in id order.
  Status for_each_dead_letter(
      const std::function<void(const Job& job, int status, std::string_view why)>& visit) const;

  // Each action's counters, by name; kept across reloads while the action is configured.
  std::map<std::string, std::shared_ptr<ActionStats>> stats() const;

  // buffer::WriteHook
  void on_append(rocksdb::WriteBatch& batch, const buffer::Record& record, buffer::Seq seq,
                 std::int64_t stored_ms) override;
  void on_written(const rocksdb::WriteBatch& batch, bool ok) override;
  // Only while some action is configured: without, appenders need not fill in the readings.
  bool wants_readings() const override { return has_rules_.load(std::memory_order_acquire); }

 private:
  // Devices by id (the buffer's ids are small and dense): a bit each, no hashing per reading.
  class DeviceSet {
   public:
    bool test(buffer::DeviceId id) const { return id < bits_.size() && bits_[id]; }
    void set(buffer::DeviceId id) {
      if (id >= bits_.size()) bits_.resize(id + 1);
      bits_[id] = true;
    }
    void reset(buffer::DeviceId id) {
      if (id < bits_.size()) bits_[id] = false;
    }
    void clear_all() { bits_.assign(bits_.size(), false); }

   private:
    std::vector<bool> bits_;
  };
  struct Rule {
    // First: read for every reading of its variable (the config is not).
    DeviceSet devices;   // those it watches
    DeviceSet disarmed;  // fired, waiting for the reset condition
    config::ActionConfig config;
    std::string fingerprint;
    std::shared_ptr<ActionStats> stats;
  };
  struct Pending {
    const rocksdb::WriteBatch* batch;
    Job job;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  // Re-reads every rule's disarmed marks from the store (mu_ held).
  Status load_marks_locked();
  void disarm_locked(Rule& rule, buffer::DeviceId device);
  void rearm_locked(Rule& rule, buffer::DeviceId device);
  void fire_locked(rocksdb::WriteBatch& batch, Rule& rule, buffer::DeviceId device,
                   std::int64_t time_ms, std::string_view json);

  buffer::Buffer& buffer_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::function<void()> on_ready_;

  mutable std::mutex
      mu_;  // taken inside the buffer's lock (on_append, on_written), never around it
  std::vector<Rule> rules_;
  std::atomic<bool> has_rules_{false};
  // A rule a variable's readings are evaluated against: its set condition, its reset condition,
  // or both name the variable (decided at configure, not per reading).
  struct Watch {
    std::size_t rule;
    bool set;
    bool reset;
    bool every_device;  // the rule watches every device configured: no look at its own set
    Check when_set;     // of rules_[rule].config, evaluated here
    Check when_reset;
  };
  std::unordered_map<std::string, std::vector<Watch>, StringHash, std::equal_to<>> by_variable_;
  // The last variable looked up and its watches (null: none): the readings of one append mostly
  // share it, and comparing it costs less than hashing it. Cleared when by_variable_ changes.
  std::string last_variable_;
  const std::vector<Watch>* last_watches_ = nullptr;
  // Per device, read once per reading instead of once per watching rule: configured at all, and
  // how many rules wait for its reset (mostly none: then no rule's disarmed set is looked at).
  DeviceSet known_;
  std::vector<std::uint32_t> disarmed_count_;
  std::unordered_map<buffer::DeviceId, std::string> device_keys_;
  std::vector<std::pair<buffer::DeviceId, std::string>> added_;  // by add_device()
  std::map<std::string, std::shared_ptr<ActionStats>, std::less<>> stats_;
  std::uint64_t next_id_ = 1;
  std::vector<Pending> pending_;              // jobs in batches not yet written
  std::atomic<std::size_t> pending_jobs_{0};  // pending_.size(), read without mu_ in on_written
  std::vector<Job> ready_;
  std::string scratch_;
};

// The outbox's and marks' keys and values (engine.cc; tests read them).
std::string job_key(std::uint64_t id);
std::string encode_job(const Job& job);
std::optional<Job> decode_job(std::uint64_t id, std::string_view value);

}  // namespace edgegw::actions
