// SPDX-License-Identifier: Apache-2.0
// A RocksDB file system whose write-ahead-log writes a test can hold (buffer::Options::env): a
// group commit stopped midway, its readings counted by the buffer but not readable yet, while the
// test looks at what the rest of the gateway does meanwhile.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace edgegw::testing {

class HeldWal {
 public:
  HeldWal() : fs_(std::make_shared<FileSystem>(*this)), env_(rocksdb::NewCompositeEnv(fs_)) {}

  rocksdb::Env* env() const { return env_.get(); }
  // From now on each write to the WAL waits, until release().
  void hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  // Returns once a write waits.
  void wait_for_a_held_write() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return waiting_ > 0; });
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    changed_.notify_all();
  }

 private:
  void gate() {
    std::unique_lock lock(mu_);
    if (!held_) return;
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    --waiting_;
  }

  class WalFile final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    WalFile(std::unique_ptr<rocksdb::FSWritableFile> file, HeldWal& owner)
        : FSWritableFileOwnerWrapper(std::move(file)), owner_(owner) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      owner_.gate();
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      owner_.gate();
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }

   private:
    HeldWal& owner_;
  };

  class FileSystem final : public rocksdb::FileSystemWrapper {
   public:
    explicit FileSystem(HeldWal& owner)
        : FileSystemWrapper(rocksdb::FileSystem::Default()), owner_(owner) {}
    const char* Name() const override { return "HeldWal"; }
    rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* dbg) override {
      rocksdb::IOStatus s = target()->NewWritableFile(name, options, file, dbg);
      // The WAL's files are NNNNNN.log; the info log is LOG.
      if (s.ok() && name.ends_with(".log"))
        *file = std::make_unique<WalFile>(std::move(*file), owner_);
      return s;
    }

   private:
    HeldWal& owner_;
  };

  std::mutex mu_;
  std::condition_variable changed_;
  bool held_ = false;
  int waiting_ = 0;
  std::shared_ptr<FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace edgegw::testing
