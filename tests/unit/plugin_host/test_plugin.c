// SPDX-License-Identifier: Apache-2.0
/* Plugins that misbehave, for the host's tests; written in C99 to prove the ABI header is C.
 * TEST_PLUGIN_MODE: 1 built for ABI major 2; 2 built for a newer minor; 3 create() fails;
 * 4 exports no entry point. */
#include <string.h>

#include "edgegw/plugin.h"

#if TEST_PLUGIN_MODE != 4
static int32_t fail_create(const edgegw_host* host, const edgegw_source_info* source,
                           edgegw_instance** out_plugin_ptr, char* error, size_t error_size) {
  const char* why = "port: /dev/ttyUSB9 does not exist";
  (void)host;
  (void)source;
  (void)out_plugin_ptr;
  if (error != NULL && error_size > 0) {
    strncpy(error, why, error_size - 1);
    error[error_size - 1] = '\0';
  }
  return EDGEGW_ERR_INVALID_ARGUMENT;
}

static int32_t no_start(edgegw_instance* plugin_ptr, char* error, size_t error_size) {
  (void)plugin_ptr;
  (void)error;
  (void)error_size;
  return EDGEGW_ERR_UNSUPPORTED;
}

static void no_op(edgegw_instance* plugin_ptr) { (void)plugin_ptr; }

EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(uint32_t host_abi_version) {
  static edgegw_plugin table;
  (void)host_abi_version;
  table.struct_size = sizeof table;
#if TEST_PLUGIN_MODE == 1
  table.abi_version = (2u << 16) | 0u;
#elif TEST_PLUGIN_MODE == 2
  table.abi_version = EDGEGW_PLUGIN_ABI_VERSION + 7u;
#else
  table.abi_version = EDGEGW_PLUGIN_ABI_VERSION;
#endif
  table.name = "test";
  table.version = "0";
  table.create = fail_create;
  table.start = no_start;
  table.stop = no_op;
  table.destroy = no_op;
  return &table;
}
#else
EDGEGW_PLUGIN_EXPORT int edgegw_something_else(void) { return 0; }
#endif
