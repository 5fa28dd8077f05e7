// SPDX-License-Identifier: Apache-2.0
#include "actions/executor.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace edgegw::actions {

std::string scope_item(const Job& job) {
  // The reading is an object of ours ({"variable":...}): the device goes first.
  std::string item = "{\"device\":";
  item += boost::json::serialize(boost::json::string(job.device));
  if (job.reading.size() > 2) {
    item += ',';
    item.append(job.reading, 1);
  } else {
    item += '}';
  }
  return item;
}

}  // namespace edgegw::actions
