# SPDX-License-Identifier: Apache-2.0
# The floors of gateway/src, lowest first, and what each may include (#include "<layer>/...") and
# link (edgegw_<layer>). A layer may use only layers listed below it here, so no arrow can run
# back up and no library cycle can form. An entry that is a header path ("buffer/stats.h") allows
# that one header only: a small leaf of a higher-reaching layer, included without linking it.
# Headers under gateway/include/ and plugins/include/ ("edgegw/...") are public: anyone may use them.
# Checked by cmake/check_layers.cmake (the ctest `layering`).
set(EDGEGW_LAYERS core log decode device_api buffer history config forward ingest actions
    provision plugin_host metrics app)

set(EDGEGW_LAYER_core_USES)
set(EDGEGW_LAYER_log_USES core)
set(EDGEGW_LAYER_decode_USES core)
set(EDGEGW_LAYER_device_api_USES core)
# The buffer knows its write hook (buffer/write_hook.h) only, never the history.
set(EDGEGW_LAYER_buffer_USES core)
set(EDGEGW_LAYER_history_USES core device_api buffer)
# Typed config: the value types it names come from leaf headers of the layers that own them.
set(EDGEGW_LAYER_config_USES core decode buffer/policy.h)
set(EDGEGW_LAYER_forward_USES core log buffer config)
set(EDGEGW_LAYER_ingest_USES core log decode buffer config)
# Actions and analyses: evaluated in the buffer's appends (a write hook), run after them.
set(EDGEGW_LAYER_actions_USES core log buffer config forward)
set(EDGEGW_LAYER_provision_USES core log device_api buffer config forward ingest)
set(EDGEGW_LAYER_plugin_host_USES core log buffer history config ingest)
# The metrics read the components' counters through their stats headers only.
set(EDGEGW_LAYER_metrics_USES core log config buffer/stats.h forward/stats.h ingest/source_stats.h
    ingest/unmapped.h actions/stats.h provision/stats.h)
set(EDGEGW_LAYER_app_USES core log decode device_api buffer history config forward ingest
    actions provision plugin_host metrics)
