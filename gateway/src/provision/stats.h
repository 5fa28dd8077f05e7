// SPDX-License-Identifier: Apache-2.0
// What the metrics read of provisioning (a leaf header: nothing to link).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgegw::provision {

struct ProvisionStats {
  std::uint64_t created = 0;             // cloud devices made
  std::uint64_t found = 0;               // cloud devices found by their tags (made before)
  std::uint64_t failed = 0;              // attempts that failed (retried)
  std::uint64_t refused = 0;             // new keys refused: max_pending keys wait already
  std::uint64_t duplicates_deleted = 0;  // devices of a lost race between gateways, deleted
  std::uint64_t rotations = 0;           // tokens rotated
  std::size_t pending = 0;               // keys waiting for their device
  std::uint64_t pending_readings = 0;    // the readings those keys hold in the buffer
  std::size_t provisioned = 0;           // devices in the store
  bool stopped = false;                  // the account token was refused
};

class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual ProvisionStats stats() const = 0;
};

}  // namespace edgegw::provision
