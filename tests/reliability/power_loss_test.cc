// SPDX-License-Identifier: Apache-2.0
// `buffer.sync: always` survives a power cut only if the WAL is synced before the source
// acknowledges. The gateway runs under strace; every PUBACK must come after a write and an
// fsync/fdatasync of the buffer's WAL that returned after the previous write of PUBACKs (the
// reasoning: POWER_LOSS.md), also when one write carries the PUBACKs of several messages. The
// sync check must fail with `sync: none`, which shows that it measures something; the write check
// holds for every `sync`.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

#include "harness.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

constexpr int kMessages = 40;

// The gateway's pid: strace's only child.
pid_t child_of(pid_t parent) {
  std::ifstream children("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) +
                         "/children");
  pid_t pid = 0;
  children >> pid;
  return pid;
}

struct SyncCheck {
  int pubacks = 0;     // PUBACK packets, however many one write carried
  int ack_writes = 0;  // writes that carried PUBACKs
  int max_acks_per_write = 0;
  int unwritten = 0;  // PUBACKs sent before a WAL write holding their message had returned
  int unsynced = 0;   // PUBACKs sent before a WAL sync that returned after that write
  int unknown = 0;    // PUBACKs of a packet id no PUBLISH read had
  int wal_syncs = 0;
};

// The bytes of a string as strace -x prints it: \xNN for what is not printable ASCII, \\ and \"
// (and C's \n, \t, ...) escaped, the rest as is.
std::string unescape(const std::string& printed) {
  std::string out;
  for (std::size_t i = 0; i < printed.size(); ++i) {
    if (printed[i] != '\\' || i + 1 == printed.size()) {
      out.push_back(printed[i]);
      continue;
    }
    const char c = printed[++i];
    if (c == 'x' && i + 2 < printed.size()) {
      out.push_back(static_cast<char>(std::stoi(printed.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      static constexpr std::string_view kFrom = "ntrvf", kTo = "\n\t\r\v\f";
      const auto at = kFrom.find(c);
      out.push_back(at == std::string_view::npos ? c : kTo[at]);
    }
  }
  return out;
}

// Every "seq":N in `bytes` (a WAL record, a PUBLISH).
std::vector<int> seqs_in(const std::string& bytes) {
  static const std::regex kSeq(R"("seq":(\d+))");
  std::vector<int> out;
  for (auto it = std::sregex_iterator(bytes.begin(), bytes.end(), kSeq);
       it != std::sregex_iterator(); ++it) {
    out.push_back(std::stoi((*it)[1]));
  }
  return out;
}

// Walks strace's lines in order and checks each PUBACK against its own message: the PUBLISH the
// gateway read gives its packet id and seq, the WAL writes that returned say which seqs are in
// the log, and the WAL syncs that returned after them which are on disk. A PUBACK of a message
// whose seq is not yet written (or synced) counts as unwritten (unsynced).
SyncCheck check_trace(const std::string& trace) {
  // A call on a WAL file, whole or the start of an unfinished one: pid, name, and the bytes.
  static const std::regex kWalCall(
      R"re(^(\d+)\s+(fsync|fdatasync|write|writev|pwrite64)\(\d+<[^>]*/buffer/\d+\.log>(?:, \[?\{?(?:iov_base=)?"((?:[^"\\]|\\.)*)")?)re");
  static const std::regex kResumed(R"(^(\d+)\s+<\.\.\. (\w+) resumed>.*= (-?\d+))");
  static const std::regex kReturned(R"(= (-?\d+)(?: \w+ \(.*\))?$)");
  // A read from or write to the broker's socket: the call and its bytes.
  static const std::regex kSocketCall(
      R"re(^\d+\s+(write|send|sendto|writev|sendmsg|read|recv|recvfrom|recvmsg)\(\d+<(?:socket|TCP):\[[^\]]*\]>,[^"]*"((?:[^"\\]|\\.)*)")re");
  // A read from a socket that another thread's call interrupted: its bytes come on the
  // "<... read resumed>" line of the same thread.
  static const std::regex kSocketReadUnfinished(
      R"re(^(\d+)\s+(read|recv|recvfrom|recvmsg)\(\d+<(?:socket|TCP):\[[^\]]*\]>,.*<unfinished \.\.\.>)re");
  static const std::regex kResumedBytes(R"re(resumed>[^"]*"((?:[^"\\]|\\.)*)")re");
  SyncCheck check;
  std::map<int, int> state;           // seq -> 1 written, 2 synced
  std::vector<int> written_unsynced;  // seqs written since the last sync
  std::map<std::string, std::pair<std::string, std::vector<int>>> pending;  // unfinished WAL calls
  std::map<int, int> seq_of_id;  // packet id -> seq of the last PUBLISH read with it
  std::string inbound;           // bytes read from the broker, not yet parsed
  std::map<std::string, std::string> pending_reads;  // pid -> socket read call, unfinished
  // PUBLISH packets from the broker (a read may end inside one: keep the rest).
  const auto read_inbound = [&](const std::string& bytes) {
    inbound += bytes;
    std::size_t at = 0;
    while (inbound.size() - at >= 2) {
      std::size_t length = 0, shift = 0, i = at + 1;
      for (; i < inbound.size(); ++i, shift += 7) {
        length |= static_cast<std::size_t>(inbound[i] & 0x7F) << shift;
        if ((inbound[i] & 0x80) == 0) break;
      }
      if (i >= inbound.size() || inbound.size() < i + 1 + length) break;
      const auto type = static_cast<unsigned char>(inbound[at]) >> 4;
      const std::string body = inbound.substr(i + 1, length);
      if (type == 3 && (inbound[at] & 0x06) != 0 && body.size() >= 2) {
        const std::size_t topic =
            static_cast<unsigned char>(body[0]) << 8 | static_cast<unsigned char>(body[1]);
        if (body.size() >= 4 + topic) {
          const int id = static_cast<unsigned char>(body[2 + topic]) << 8 |
                         static_cast<unsigned char>(body[3 + topic]);
          const std::vector<int> seqs = seqs_in(body.substr(4 + topic));
          if (!seqs.empty()) seq_of_id[id] = seqs.front();
        }
      }
      at = i + 1 + length;
    }
    inbound.erase(0, at);
  };
  const auto wal_returned = [&](const std::string& call, long long result,
                                const std::vector<int>& seqs) {
    if (result < 0) return;
    if (call == "fsync" || call == "fdatasync") {
      if (result != 0) return;
      ++check.wal_syncs;
      for (int seq : written_unsynced) state[seq] = 2;
      written_unsynced.clear();
    } else {
      for (int seq : seqs) {
        state.try_emplace(seq, 1);
        written_unsynced.push_back(seq);
      }
    }
  };
  std::istringstream lines(trace);
  std::string line;
  while (std::getline(lines, line)) {
    // Every pattern below needs one of these: most lines (RocksDB's table, OPTIONS and LOG files,
    // the gateway's own log) are skipped before any regex, which under ASan costs minutes over a
    // trace read again at each wait.
    if (line.find(".log>") == std::string::npos && line.find("socket:[") == std::string::npos &&
        line.find("TCP:[") == std::string::npos && line.find("resumed>") == std::string::npos) {
      continue;
    }
    std::smatch m;
    if (std::regex_search(line, m, kWalCall)) {
      const std::string pid = m[1], call = m[2];
      const std::vector<int> seqs = seqs_in(unescape(m[3]));
      if (line.find("<unfinished ...>") != std::string::npos) {
        pending[pid] = {call, seqs};
      } else if (std::smatch r; std::regex_search(line, r, kReturned)) {
        wal_returned(call, std::stoll(r[1]), seqs);
      }
      continue;
    }
    if (std::regex_search(line, m, kSocketReadUnfinished)) {
      pending_reads[m[1]] = m[2];
      continue;
    }
    if (std::regex_search(line, m, kResumed)) {
      if (const auto read = pending_reads.find(m[1]);
          read != pending_reads.end() && read->second == m[2].str()) {
        pending_reads.erase(read);
        if (std::smatch b; std::stoll(m[3]) > 0 && std::regex_search(line, b, kResumedBytes)) {
          read_inbound(unescape(b[1]));
        }
        continue;
      }
      // A resumed line names no file: it counts only if its start was a WAL call.
      const auto it = pending.find(m[1]);
      if (it != pending.end() && it->second.first == m[2].str()) {
        wal_returned(it->second.first, std::stoll(m[3]), it->second.second);
        pending.erase(it);
      }
      continue;
    }
    if (!std::regex_search(line, m, kSocketCall)) continue;
    const std::string call = m[1];
    const std::string bytes = unescape(m[2]);
    if (call.starts_with("read") || call.starts_with("recv")) {
      read_inbound(bytes);
      continue;
    }
    // A write of whole 4-byte PUBACKs (0x40 0x02 id id), or something else.
    if (bytes.empty() || bytes.size() % 4 != 0) continue;
    bool all_pubacks = true;
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
      all_pubacks = all_pubacks && bytes[i] == '\x40' && bytes[i + 1] == '\x02';
    }
    if (!all_pubacks) continue;
    const int acks = static_cast<int>(bytes.size() / 4);
    check.pubacks += acks;
    ++check.ack_writes;
    check.max_acks_per_write = std::max(check.max_acks_per_write, acks);
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
      const int id =
          static_cast<unsigned char>(bytes[i + 2]) << 8 | static_cast<unsigned char>(bytes[i + 3]);
      const auto seq = seq_of_id.find(id);
      if (seq == seq_of_id.end()) {
        ++check.unknown;
        continue;
      }
      const auto st = state.find(seq->second);
      if (st == state.end()) ++check.unwritten;
      if (st == state.end() || st->second < 2) ++check.unsynced;
    }
  }
  return check;
}

// `cloud`: where the gateway forwards; none: nothing listens there, so the forwarder never
// removes anything. `burst`: messages published together (each burst acknowledged by the gateway
// before the next), so that one read brings several and their PUBACKs share a write.
SyncCheck run_traced(const std::string& sync, std::string& trace_out,
                     testing::CloudEmulator* cloud = nullptr, int burst = 1) {
  testing::Mosquitto broker;
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = 1;
  options.sync = sync;
  const std::string cloud_url =
      cloud != nullptr ? cloud->url() : "http://127.0.0.1:" + std::to_string(testing::free_port());
  const std::string config = dir.write(
      "gw.yaml", gateway_config(dir.path() + "/data", cloud_url, broker.uri(), options), 0600);
  const std::string trace = dir.path() + "/strace.txt";
  testing::Subprocess strace(
      {"strace", "-f", "-y", "-qq", "-x", "-s", "4096", "-e", "signal=none", "-e",
       "trace=fsync,fdatasync,write,writev,pwrite64,send,sendto,sendmsg,read,recv,recvfrom,recvmsg",
       "-o", trace, testing::edgegw_binary(), "run", "-c", config},
      // LeakSanitizer (asan preset) cannot run under a tracer.
      {"ASAN_OPTIONS=detect_leaks=0"});
  EXPECT_TRUE(wait_subscribed(strace, 30s)) << strace.err();
  testing::MqttPublisher pub(broker.uri(), "one-burst-at-a-time");
  for (int seq = 1; seq <= kMessages; seq += burst) {
    // The broker's acknowledgement to the publisher says nothing about the gateway: wait for the
    // gateway's own PUBACKs of this burst before sending the next.
    std::vector<testing::MqttPublisher::Message> messages;
    for (int i = seq; i < seq + burst && i <= kMessages; ++i) {
      messages.push_back({"sensors/dev-1/data", payload(i)});
    }
    EXPECT_TRUE(pub.publish_all(messages, 1, burst));
    const int before = seq + static_cast<int>(messages.size()) - 1;
    EXPECT_TRUE(testing::wait_until(
        [&] { return check_trace(testing::read_file(trace)).pubacks >= before; }, 10s))
        << "no PUBACK for message " << before << " in the trace";
    if (cloud != nullptr) {
      // Delivered (and so removed from the buffer) before the next one arrives.
      EXPECT_TRUE(testing::wait_until(
          [&] { return cloud->stats().at("readings_accepted").to_number<int>() >= before; }, 10s))
          << "message " << before << " did not reach the cloud";
    }
  }
  const pid_t gateway = child_of(strace.pid());
  EXPECT_GT(gateway, 0);
  if (gateway > 0) ::kill(gateway, SIGTERM);
  EXPECT_EQ(strace.wait(20s), 0) << strace.err();
  trace_out = testing::read_file(trace);
  return check_trace(trace_out);
}

TEST(PowerLoss, SyncAlwaysSyncsTheWalBeforeEveryAcknowledgement) {
  if (const auto probe = testing::run_command({"strace", "-f", "-o", "/dev/null", "true"});
      probe.exit_code != 0) {
    GTEST_SKIP() << "strace cannot trace here (deploy/setup.sh installs it; ptrace must be "
                    "allowed): "
                 << probe.err;
  }
  std::string trace;
  const SyncCheck always = run_traced("always", trace);
  EXPECT_EQ(always.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_EQ(always.unsynced, 0) << "PUBACKs sent before the WAL was synced\n" << trace;
  EXPECT_EQ(always.unwritten, 0) << "PUBACKs sent before the WAL write\n" << trace;
  EXPECT_EQ(always.unknown, 0) << trace;
  EXPECT_GE(always.wal_syncs, kMessages);

  // The control: without sync, acknowledgements go out with no sync before them (but still
  // after the WAL write that covers them).
  const SyncCheck none = run_traced("none", trace);
  EXPECT_EQ(none.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_GT(none.unsynced, kMessages / 2) << "the check did not notice missing syncs\n" << trace;
  EXPECT_EQ(none.unwritten, 0) << "PUBACKs sent before the WAL write\n" << trace;
}

// Several messages in one read: stored in one append (one WAL write, one sync), then all their
// PUBACKs in one write, still after that sync.
TEST(PowerLoss, BatchedAcknowledgementsFollowTheSyncThatCoversThem) {
  if (const auto probe = testing::run_command({"strace", "-f", "-o", "/dev/null", "true"});
      probe.exit_code != 0) {
    GTEST_SKIP() << "strace cannot trace here: " << probe.err;
  }
  std::string trace;
  const SyncCheck check = run_traced("always", trace, nullptr, /*burst=*/10);
  EXPECT_EQ(check.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_EQ(check.unsynced, 0) << "PUBACKs sent before the WAL was synced\n" << trace;
  EXPECT_EQ(check.unwritten, 0) << "PUBACKs sent before the WAL write\n" << trace;
  EXPECT_EQ(check.unknown, 0) << trace;
  // Batching happened: fewer writes than PUBACKs, and one of them carried several.
  EXPECT_GT(check.max_acks_per_write, 1) << trace;
  EXPECT_LT(check.ack_writes, kMessages) << trace;
}

// Removing delivered readings needs no sync: a removal lost to a power cut only brings readings
// back to be sent again. With the cloud up, each of the messages is appended (a sync before its
// PUBACK) and then delivered and removed (no sync): about one WAL sync per message, not two.
TEST(PowerLoss, SyncAlwaysDoesNotSyncTheRemovalOfDeliveredReadings) {
  if (const auto probe = testing::run_command({"strace", "-f", "-o", "/dev/null", "true"});
      probe.exit_code != 0) {
    GTEST_SKIP() << "strace cannot trace here: " << probe.err;
  }
  testing::CloudEmulator cloud(emulator_args(1));
  std::string trace;
  const SyncCheck check = run_traced("always", trace, &cloud);
  EXPECT_EQ(check.pubacks, kMessages) << trace.substr(0, 4000);
  EXPECT_EQ(check.unsynced, 0) << "PUBACKs sent before the WAL was synced\n" << trace;
  EXPECT_EQ(cloud.stats().at("readings_accepted").to_number<int>(), kMessages);
  // Appends, plus a few for the device's registration at start: far fewer than appends + removals.
  EXPECT_LT(check.wal_syncs, kMessages + kMessages / 2) << trace;
}

}  // namespace
}  // namespace edgegw::reliability
