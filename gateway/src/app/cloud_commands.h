// SPDX-License-Identifier: Apache-2.0
// `edgegw cloud ...`: the devices the gateway provisioned and their tokens (provision/).
//   devices              what the store holds (read-only: works while the gateway runs)
//   rotate-token KEY     a new token; the old one deleted once no request carries it
//   forget KEY           drop the device's entry and delete its token in the cloud
// With the gateway running, rotate-token and forget are done by it (control_socket.h): it
// switches its lanes; with it stopped, by this command alone (the data-dir lock is taken).
#pragma once

#include <ostream>
#include <string>

namespace edgegw::app {

int cloud_devices(const std::string& config_path, std::ostream& out, std::ostream& err);
int cloud_rotate_token(const std::string& config_path, const std::string& key, std::ostream& out,
                       std::ostream& err);
int cloud_forget(const std::string& config_path, const std::string& key, std::ostream& out,
                 std::ostream& err);

}  // namespace edgegw::app
