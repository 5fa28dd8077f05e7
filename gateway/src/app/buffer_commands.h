// SPDX-License-Identifier: Apache-2.0
// `edgegw buffer ...`: look into and fix the buffer of a gateway, with the gateway running
// (stats, dead-letter list: read-only) or stopped (retry, purge, repair: they need the store
// alone).
#pragma once

#include <ostream>
#include <string>

namespace edgegw::app {

int buffer_stats(const std::string& config_path, std::ostream& out, std::ostream& err);
int dead_letter_list(const std::string& config_path, std::ostream& out, std::ostream& err);
int dead_letter_retry(const std::string& config_path, std::ostream& out, std::ostream& err);
int dead_letter_purge(const std::string& config_path, std::ostream& out, std::ostream& err);
int buffer_repair(const std::string& config_path, std::ostream& out, std::ostream& err);

// "3d4h", "12m5s", "40s", "-" for none: how long a reading has waited.
std::string format_age(std::int64_t ms);

}  // namespace edgegw::app
