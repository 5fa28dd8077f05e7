// SPDX-License-Identifier: Apache-2.0
// A point's value from the registers (or the bit) a request returned: its type, word and byte
// order, scale and offset applied, written as the JSON text of a reading's `value`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config.h"
#include "edgegw/plugin.h"

namespace edgegw::plugins::modbus {

// Appends the JSON text of `p`'s value to `out`: `regs` are its registers (p.count of them) for a
// register kind; `bit` its bit for a coil or discrete input. For a number, *number is set to the
// value (scaled) for the deadband of on_change. False, with nothing appended, when the value is
// not a finite number (a NaN or infinity that a device sends for "not available"): the cloud
// takes no such value, and none is made up in its place.
//
// Integers without scale or offset are written exactly (all 64 bits); f32 and f64 as the
// shortest text that reads back as the same float or double; a scaled value with 15 significant
// digits (7 for an f32), so that 2301 x 0.1 is 230.1. A string ends at its first NUL, loses its
// trailing spaces, and its bytes are read as Latin-1 (control and non-ASCII bytes escaped).
bool append_value(const Point& p, const std::uint16_t* regs, bool bit, std::string& out,
                  double* number);

// The same value typed for the host (plugin ABI 1.6's edgegw_reading: out.type and its field),
// written by the host as the text above: a bool; an unscaled f32 as EDGEGW_VALUE_FLOAT32 (the
// host writes its shortest text); an integer where the text is an integer that fits 64 bits
// signed; a number otherwise (only a scaled value goes through that text, the others are typed
// directly); a string's text (its bytes read as Latin-1) into
// *text as UTF-8 (out.text is left for the caller to point at where it keeps it). False, with
// nothing set, as append_value. `scratch` is reused between calls.
bool typed_value(const Point& p, const std::uint16_t* regs, bool bit, edgegw_reading& out,
                 std::string& text, std::string& scratch, double* number);

}  // namespace edgegw::plugins::modbus
