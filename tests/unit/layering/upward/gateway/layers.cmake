# SPDX-License-Identifier: Apache-2.0
# A small tree for the layering check's own test: core must not include the buffer.
set(EDGEGW_LAYERS core buffer metrics)
set(EDGEGW_LAYER_core_USES)
set(EDGEGW_LAYER_buffer_USES core)
set(EDGEGW_LAYER_metrics_USES core buffer/stats.h)
