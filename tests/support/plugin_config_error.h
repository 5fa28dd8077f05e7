// SPDX-License-Identifier: Apache-2.0
// For the plugins' config tests: the message of the sdk::Error a plugin's parse_config throws
// (which must carry EDGEGW_ERR_INVALID_ARGUMENT), or "" when the config parses.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "edgegw/plugin_sdk.h"

namespace edgegw::testing {

template <typename Parse>
std::string config_error(Parse&& parse_config, std::string_view json) {
  try {
    (void)parse_config(json);
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), EDGEGW_ERR_INVALID_ARGUMENT);
    return e.what();
  }
  return "";
}

}  // namespace edgegw::testing
