# SPDX-License-Identifier: Apache-2.0
# Loaded after a plot (GPVAL_Y_MIN/MAX set): y tick labels that differ from tick to tick. Ticks
# every `step` (1, 2 or 5 x 10^n, about five on the axis), printed with the decimals that step
# needs, in one unit for the whole axis (k, M or none), where "%.0s%c" rounded 1.0M, 1.2M and 1.4M
# all to "1M".
ticks_ymin = GPVAL_Y_MIN; ticks_ymax = GPVAL_Y_MAX
if (ticks_ymax <= ticks_ymin) { ticks_ymax = ticks_ymin + 1 }
ticks_raw = (ticks_ymax - ticks_ymin) / 5.0
ticks_mag = 10 ** floor(log10(ticks_raw))
ticks_r = ticks_raw / ticks_mag
ticks_step = ticks_mag * (ticks_r < 1.5 ? 1 : ticks_r < 3.5 ? 2 : ticks_r < 7.5 ? 5 : 10)
ticks_top = abs(ticks_ymax) > abs(ticks_ymin) ? abs(ticks_ymax) : abs(ticks_ymin)
ticks_scale = ticks_top >= 1e6 ? 1e6 : ticks_top >= 1e3 ? 1e3 : 1
ticks_suffix = ticks_scale == 1e6 ? "M" : ticks_scale == 1e3 ? "k" : ""
ticks_decimals = ticks_step / ticks_scale >= 1 ? 0 : int(ceil(-log10(ticks_step / ticks_scale) - 1e-9))
ticks_fmt = sprintf("%%.%df%%s", ticks_decimals)
set yrange [ticks_ymin:ticks_ymax]
set ytics ticks_step format ""
set ytics add ("0" 0)
do for [ticks_i = int(ceil(ticks_ymin / ticks_step)):int(floor(ticks_ymax / ticks_step))] {
  ticks_v = ticks_i * ticks_step
  if (ticks_i != 0) { set ytics add (sprintf(ticks_fmt, ticks_v / ticks_scale, ticks_suffix) ticks_v) }
}
