// SPDX-License-Identifier: Apache-2.0
#include "actions/engine.h"

#include <fnmatch.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>

#include "actions/condition.h"

namespace edgegw::actions {

namespace {

constexpr char kJobPrefix = 'o';
constexpr char kDeadPrefix = 'd';
constexpr char kMarkPrefix = 's';
constexpr std::uint8_t kJobVersion = 1;

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t get_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

std::string prefixed_id(char prefix, std::uint64_t id) {
  std::string key(1, prefix);
  put_be64(key, id);
  return key;
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

// FNV-1a: stable across builds and runs, unlike std::hash.
std::string fingerprint(const config::ActionConfig& a) {
  std::string text;
  const auto add = [&](const config::Condition& c) {
    text += c.variable;
    text += '\0';
    text += config::to_string(c.op);
    text += '\0';
    text += c.value;
    text += '\0';
  };
  add(a.when_set);
  if (a.when_reset) add(*a.when_reset);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 0xf];
  return out;
}

std::string mark_key(const std::string& action, const std::string& fp, std::string_view device) {
  std::string key(1, kMarkPrefix);
  key += action;
  key += '\0';
  key += fp;
  key += '\0';
  key += device;
  return key;
}

bool watches(const config::ActionConfig& a, const std::string& key) {
  if (!a.devices.empty())
    return std::find(a.devices.begin(), a.devices.end(), key) != a.devices.end();
  if (!a.device_pattern.empty()) return fnmatch(a.device_pattern.c_str(), key.c_str(), 0) == 0;
  return true;
}

std::unique_ptr<rocksdb::Iterator> scan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
  return std::unique_ptr<rocksdb::Iterator>(db.NewIterator(rocksdb::ReadOptions(), cf));
}

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  return Status::io_error(std::string(what) + ": " + s.ToString());
}

}  // namespace

std::string job_key(std::uint64_t id) { return prefixed_id(kJobPrefix, id); }

std::string encode_job(const Job& job) {
  std::string v;
  v.reserve(16 + job.action.size() + job.device.size() + job.reading.size());
  v.push_back(static_cast<char>(kJobVersion));
  put_be64(v, static_cast<std::uint64_t>(job.time_ms));
  v += job.action;
  v += '\0';
  v += job.device;
  v += '\0';
  v += job.reading;
  return v;
}

std::optional<Job> decode_job(std::uint64_t id, std::string_view value) {
  if (value.size() < 9 || static_cast<std::uint8_t>(value[0]) != kJobVersion) return std::nullopt;
  Job job;
  job.id = id;
  job.time_ms = static_cast<std::int64_t>(get_be64(value.substr(1, 8)));
  std::string_view rest = value.substr(9);
  const std::size_t a = rest.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  job.action = std::string(rest.substr(0, a));
  rest.remove_prefix(a + 1);
  const std::size_t d = rest.find('\0');
  if (d == std::string_view::npos) return std::nullopt;
  job.device = std::string(rest.substr(0, d));
  job.reading = std::string(rest.substr(d + 1));
  return job;
}

Engine::Engine(buffer::Buffer& buffer) : buffer_(buffer) {
  const buffer::HookStore store = buffer.hook_store(buffer::kActionsColumnFamily);
  db_ = store.db;
  cf_ = store.column_family;
}

Engine::~Engine() = default;

Status Engine::load() {
  if (db_ == nullptr || cf_ == nullptr) {
    return Status::internal("the buffer has no actions column family (read-only?)");
  }
  auto it = scan(*db_, cf_);
  std::lock_guard lock(mu_);
  for (it->Seek(std::string(1, kDeadPrefix)); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.empty() || (key[0] != kDeadPrefix && key[0] != kJobPrefix) || key.size() != 9) break;
    const std::uint64_t id = get_be64(key.substr(1));
    next_id_ = std::max(next_id_, id + 1);
    if (key[0] != kJobPrefix) continue;
    auto job = decode_job(id, std::string_view(it->value().data(), it->value().size()));
    if (!job) continue;  // written by a newer version: left alone
    auto& stats = stats_[job->action];
    if (!stats) stats = std::make_shared<ActionStats>();
    stats->queued.fetch_add(1, std::memory_order_relaxed);
    ready_.push_back(std::move(*job));
  }
  return from_rocksdb(it->status(), "cannot read the actions' outbox");
}

Status Engine::configure(std::span<const config::ActionConfig> actions,
                         std::span<const std::pair<buffer::DeviceId, std::string>> configured) {
  // Whether the appenders are to fill in the readings follows the rules, and is told the buffer
  // with this engine's lock free (an append holds the buffer's lock, then takes this one). Turned
  // on before new rules can see a reading, so that none reaches them without its fields (an
  // append that asked before gets them rebuilt by the buffer); turned off on the way out.
  if (!actions.empty()) {
    has_rules_.store(true, std::memory_order_release);  // rules_ may still be the old ones
    buffer_.hooks_changed();
  }
  struct TellBuffer {
    buffer::Buffer& buffer;
    ~TellBuffer() { buffer.hooks_changed(); }
  } tell{buffer_};
  // The config's devices, and those added (provisioned) that it does not list. added_ only
  // grows: what add_device() appends while the rules are built is taken under the lock below.
  std::vector<std::pair<buffer::DeviceId, std::string>> devices(configured.begin(),
                                                                configured.end());
  DeviceSet listed;
  for (const auto& d : configured) listed.set(d.first);
  const auto take_added = [&](std::size_t from) {
    for (std::size_t k = from; k < added_.size(); ++k) {
      if (!listed.test(added_[k].first)) devices.push_back(added_[k]);
    }
    return added_.size();
  };
  std::size_t taken = 0;
  {
    std::lock_guard lock(mu_);
    taken = take_added(0);
  }
  std::vector<Rule> rules;
  rules.reserve(actions.size());
  for (const auto& a : actions) {
    Rule& r = rules.emplace_back();
    r.config = a;
    r.fingerprint = fingerprint(a);
    for (const auto& [id, key] : devices) {
      if (watches(a, key)) r.devices.set(id);
    }
  }
  std::vector<std::string> stale;
  {
    std::lock_guard lock(mu_);
    const std::size_t built = devices.size();
    take_added(taken);
    for (std::size_t k = built; k < devices.size(); ++k) {
      for (Rule& r : rules) {
        if (watches(r.config, devices[k].second)) r.devices.set(devices[k].first);
      }
    }
    rules_ = std::move(rules);
    has_rules_.store(!rules_.empty(), std::memory_order_release);
    by_variable_.clear();
    last_variable_.clear();
    last_watches_ = nullptr;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      Rule& r = rules_[i];
      const bool same =
          r.config.when_reset && r.config.when_reset->variable == r.config.when_set.variable;
      const Check set = check_of(r.config.when_set);
      const Check reset = r.config.when_reset ? check_of(*r.config.when_reset) : Check{};
      const bool every = std::all_of(devices.begin(), devices.end(),
                                     [&](const auto& d) { return r.devices.test(d.first); });
      by_variable_[r.config.when_set.variable].push_back({i, true, same, every, set, reset});
      if (r.config.when_reset && !same) {
        by_variable_[r.config.when_reset->variable].push_back({i, false, true, every, set, reset});
      }
      auto& stats = stats_[r.config.name];
      if (!stats) stats = std::make_shared<ActionStats>();
      r.stats = stats;
    }
    device_keys_.clear();
    known_ = DeviceSet();
    for (const auto& [id, key] : devices) {
      device_keys_.emplace(id, key);
      known_.set(id);
    }
    if (Status s = load_marks_locked(); !s) return s;
    // Marks of actions gone or changed, and of devices no longer watched.
    auto it = scan(*db_, cf_);
    for (it->Seek(std::string(1, kMarkPrefix)); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (key.empty() || key[0] != kMarkPrefix) break;
      const std::size_t a = key.find('\0', 1);
      const std::size_t f = a == std::string_view::npos ? a : key.find('\0', a + 1);
      bool keep = false;
      if (f != std::string_view::npos) {
        const std::string_view name = key.substr(1, a - 1);
        const std::string_view fp = key.substr(a + 1, f - a - 1);
        const std::string device(key.substr(f + 1));
        for (const Rule& r : rules_) {
          if (r.config.name == name && r.fingerprint == fp && watches(r.config, device)) {
            keep = true;
          }
        }
      }
      if (!keep) stale.emplace_back(key);
    }
    if (Status s = from_rocksdb(it->status(), "cannot read the actions' state"); !s) return s;
  }
  if (stale.empty()) return Status::ok();
  return buffer_.write_hook_changes([&](rocksdb::WriteBatch& batch) {
    for (const auto& key : stale) (void)batch.Delete(cf_, slice(key));
  });
}

Status Engine::add_device(buffer::DeviceId id, const std::string& key) {
  // The marks an earlier run left for it, read before taking the lock every append takes: a
  // read from disk under it would hold up every source. Nothing writes them meanwhile: only the
  // device's own readings do, and none is appended before it is known.
  std::vector<std::pair<std::string, std::string>> watching;  // action, fingerprint
  {
    std::lock_guard lock(mu_);
    if (known_.test(id)) return Status::ok();
    for (const Rule& r : rules_) {
      if (watches(r.config, key)) watching.emplace_back(r.config.name, r.fingerprint);
    }
  }
  std::vector<std::pair<std::string, std::string>> disarmed;
  for (auto& [action, fp] : watching) {
    std::string ignored;
    const rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cf_, slice(mark_key(action, fp, key)), &ignored);
    if (s.ok()) {
      disarmed.emplace_back(std::move(action), std::move(fp));
    } else if (!s.IsNotFound()) {
      return from_rocksdb(s, "cannot read the actions' state");
    }
  }
  std::lock_guard lock(mu_);
  if (known_.test(id)) return Status::ok();
  added_.emplace_back(id, key);
  device_keys_.emplace(id, key);
  known_.set(id);
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    Rule& r = rules_[i];
    if (!watches(r.config, key)) {  // the rule no longer watches every device there is
      for (auto& entry : by_variable_) {
        for (Watch& w : entry.second) w.every_device = w.every_device && w.rule != i;
      }
      continue;
    }
    r.devices.set(id);
    // It fired before a restart and waits for its reset (a rule changed meanwhile starts armed).
    const std::pair<std::string, std::string> self(r.config.name, r.fingerprint);
    if (std::find(disarmed.begin(), disarmed.end(), self) != disarmed.end()) disarm_locked(r, id);
  }
  return Status::ok();
}

Status Engine::load_marks_locked() {
  std::unordered_map<std::string, buffer::DeviceId> ids;
  for (const auto& [id, key] : device_keys_) ids.emplace(key, id);
  disarmed_count_.assign(disarmed_count_.size(), 0);
  for (Rule& r : rules_) {
    r.disarmed.clear_all();
    const std::string prefix = mark_key(r.config.name, r.fingerprint, "");
    auto it = scan(*db_, cf_);
    for (it->Seek(slice(prefix)); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (!key.starts_with(prefix)) break;
      if (auto id = ids.find(std::string(key.substr(prefix.size()))); id != ids.end()) {
        disarm_locked(r, id->second);
      }
    }
    if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the actions' state");
  }
  return Status::ok();
}

void Engine::set_on_ready(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  on_ready_ = std::move(callback);
}

std::vector<Job> Engine::take_ready() {
  std::lock_guard lock(mu_);
  return std::exchange(ready_, {});
}

void Engine::on_append(rocksdb::WriteBatch& batch, const buffer::Record& record, buffer::Seq,
                       std::int64_t stored_ms) {
  const buffer::DeviceId device = record.device;
  const std::string_view variable = record.variable;
  // Every append passes here: with no action configured, not even the lock is taken.
  if (variable.empty() || !has_rules_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  if (variable != last_variable_) {
    const auto it = by_variable_.find(variable);
    last_variable_.assign(variable);
    last_watches_ = it == by_variable_.end() ? nullptr : &it->second;
  }
  if (last_watches_ == nullptr) return;
  // The value, read once and only if a watching rule needs it: the decoder's number when the
  // condition compares numbers, else from the JSON (text, strings, bools).
  std::optional<ReadingValue> value;
  bool value_has_text = false;
  const auto value_for = [&](const Check& c) -> const ReadingValue& {
    const bool text = needs_text(c) || !record.number;
    if (!value || (text && !value_has_text)) {
      if (text) {
        value = value_of(record.json);
      } else {
        value.emplace();
        value->kind = ReadingValue::Kind::kNumber;
        value->number = *record.number;
        value->numeric = true;
      }
      value_has_text = text;
    }
    return *value;
  };
  const bool known = known_.test(device);
  const bool some_disarmed = device < disarmed_count_.size() && disarmed_count_[device] != 0;
  for (const Watch& w : *last_watches_) {
    Rule& r = rules_[w.rule];  // its fields are read only when the reading concerns it
    if (w.every_device ? !known : !r.devices.test(device)) continue;
    const auto key = [&] { return mark_key(r.config.name, r.fingerprint, device_keys_[device]); };
    if (some_disarmed && r.disarmed.test(device)) {
      if (!w.reset) continue;
      if (holds(w.when_reset, value_for(w.when_reset))) {
        rearm_locked(r, device);
        (void)batch.Delete(cf_, slice(key()));
      }
      continue;
    }
    if (!w.set) continue;
    if (!holds(w.when_set, value_for(w.when_set))) continue;
    if (r.stats->queued.load(std::memory_order_relaxed) >=
        static_cast<std::int64_t>(r.config.max_queued)) {
      // Not fired, and still armed: it fires on a later reading once there is room.
      r.stats->refused.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    fire_locked(batch, r, device, record.time_ms != 0 ? record.time_ms : stored_ms, record.json);
    if (r.config.when_reset) {
      disarm_locked(r, device);
      (void)batch.Put(cf_, slice(key()), rocksdb::Slice());
    }
  }
}

void Engine::disarm_locked(Rule& rule, buffer::DeviceId device) {
  if (rule.disarmed.test(device)) return;
  rule.disarmed.set(device);
  if (device >= disarmed_count_.size()) disarmed_count_.resize(device + 1, 0);
  ++disarmed_count_[device];
}

void Engine::rearm_locked(Rule& rule, buffer::DeviceId device) {
  if (!rule.disarmed.test(device)) return;
  rule.disarmed.reset(device);
  --disarmed_count_[device];
}

void Engine::fire_locked(rocksdb::WriteBatch& batch, Rule& rule, buffer::DeviceId device,
                         std::int64_t time_ms, std::string_view json) {
  Job job;
  job.id = next_id_++;
  job.action = rule.config.name;
  job.device = device_keys_[device];
  job.time_ms = time_ms;
  job.reading = std::string(json);
  scratch_ = encode_job(job);
  (void)batch.Put(cf_, slice(job_key(job.id)), slice(scratch_));
  rule.stats->fired.fetch_add(1, std::memory_order_relaxed);
  rule.stats->queued.fetch_add(1, std::memory_order_relaxed);
  pending_.push_back({&batch, std::move(job)});
  pending_jobs_.store(pending_.size(), std::memory_order_relaxed);
}

void Engine::on_written(const rocksdb::WriteBatch& batch, bool ok) {
  // Every group the buffer writes passes here (acks too): one that fired nothing costs no lock.
  // pending_jobs_ changes only under the buffer's lock, which the caller holds.
  if (ok && pending_jobs_.load(std::memory_order_relaxed) == 0) return;
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    bool any = false;
    std::erase_if(pending_, [&](Pending& p) {
      if (p.batch != &batch) return false;
      if (ok) {
        ready_.push_back(std::move(p.job));
        any = true;
      } else if (auto s = stats_.find(p.job.action); s != stats_.end()) {
        s->second->fired.fetch_sub(1, std::memory_order_relaxed);
        s->second->queued.fetch_sub(1, std::memory_order_relaxed);
      }
      return true;
    });
    pending_jobs_.store(pending_.size(), std::memory_order_relaxed);
    // The batch's marks were not written either: the store says which devices wait for a reset.
    if (!ok) (void)load_marks_locked();
    if (any) notify = on_ready_;
  }
  if (notify) notify();
}

Status Engine::finish(const Job& job) {
  const std::string key = job_key(job.id);
  Status s = buffer_.write_hook_changes(
      [&](rocksdb::WriteBatch& batch) { (void)batch.Delete(cf_, slice(key)); });
  if (!s) return s;
  std::lock_guard lock(mu_);
  if (auto it = stats_.find(job.action); it != stats_.end()) {
    it->second->done.fetch_add(1, std::memory_order_relaxed);
    it->second->queued.fetch_sub(1, std::memory_order_relaxed);
  }
  return s;
}

Status Engine::dead_letter(const Job& job, int status, std::string_view why) {
  const std::string key = job_key(job.id);
  const std::string dead_key = prefixed_id(kDeadPrefix, job.id);
  std::string value = encode_job(job);
  value += '\0';
  value += std::to_string(status);
  value += '\0';
  value += why;
  Status s = buffer_.write_hook_changes([&](rocksdb::WriteBatch& batch) {
    (void)batch.Delete(cf_, slice(key));
    (void)batch.Put(cf_, slice(dead_key), slice(value));
  });
  if (!s) return s;
  std::lock_guard lock(mu_);
  if (auto it = stats_.find(job.action); it != stats_.end()) {
    it->second->dead_lettered.fetch_add(1, std::memory_order_relaxed);
    it->second->queued.fetch_sub(1, std::memory_order_relaxed);
  }
  return s;
}

Status Engine::for_each_dead_letter(
    const std::function<void(const Job& job, int status, std::string_view why)>& visit) const {
  auto it = scan(*db_, cf_);
  for (it->Seek(std::string(1, kDeadPrefix)); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() != 9 || key[0] != kDeadPrefix) break;
    std::string_view value(it->value().data(), it->value().size());
    // job | 0 | status | 0 | why: the job's reading may hold no NUL (it is JSON).
    const std::size_t why_at = value.rfind('\0');
    if (why_at == std::string_view::npos) continue;
    const std::size_t status_at = value.rfind('\0', why_at - 1);
    if (status_at == std::string_view::npos) continue;
    auto job = decode_job(get_be64(key.substr(1)), value.substr(0, status_at));
    if (!job) continue;
    int status = 0;
    const std::string_view digits = value.substr(status_at + 1, why_at - status_at - 1);
    (void)std::from_chars(digits.data(), digits.data() + digits.size(), status);
    visit(*job, status, value.substr(why_at + 1));
  }
  return from_rocksdb(it->status(), "cannot read the actions' dead jobs");
}

std::map<std::string, std::shared_ptr<ActionStats>> Engine::stats() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::shared_ptr<ActionStats>> out;
  for (const Rule& r : rules_) out.emplace(r.config.name, r.stats);
  return out;
}

}  // namespace edgegw::actions
