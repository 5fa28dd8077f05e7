// SPDX-License-Identifier: Apache-2.0
// A buffer write hook that counts the group writes that succeeded (a test's check that work was
// gathered into one write rather than one each).
#pragma once

#include <cstdint>

#include "buffer/write_hook.h"

namespace edgegw::testing {

class WriteCounter final : public buffer::WriteHook {
 public:
  void on_append(rocksdb::WriteBatch&, const buffer::Record&, buffer::Seq, std::int64_t) override {}
  void on_written(const rocksdb::WriteBatch&, bool ok) override { writes += ok ? 1 : 0; }
  int writes = 0;
};

}  // namespace edgegw::testing
