// SPDX-License-Identifier: Apache-2.0
#include "app/version.h"

#include <spdlog/version.h>
#include <boost/version.hpp>

#include <fmt/format.h>

#include "edgegw/plugin.h"

namespace edgegw::app {

std::string_view version() noexcept { return EDGEGW_VERSION; }
std::string_view commit() noexcept { return EDGEGW_GIT_COMMIT; }

std::string version_text() {
  return fmt::format(
      "edgegw {}\n"
      "commit:   {}\n"
      "plugin ABI: {}.{}\n"
      "compiler: {}\n"
      "boost:    {}.{}.{}\n"
      "spdlog:   {}.{}.{}\n",
      EDGEGW_VERSION, EDGEGW_GIT_COMMIT, EDGEGW_PLUGIN_ABI_MAJOR, EDGEGW_PLUGIN_ABI_MINOR,
      __VERSION__, BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100,
      SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
}

}  // namespace edgegw::app
