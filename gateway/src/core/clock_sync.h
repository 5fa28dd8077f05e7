// SPDX-License-Identifier: Apache-2.0
// Whether the system clock can be trusted. An edge box without a battery-backed clock boots in
// the past and stays there until its time service (systemd-timesyncd, chrony, ntpd) reaches a
// server; the kernel knows which (adjtimex(2): TIME_ERROR and STA_UNSYNC until then).
#pragma once

#include <cstdint>
#include <string>

namespace edgegw::core {

enum class ClockState {
  kSynchronised,
  kUnsynchronised,
  kUnknown,  // the kernel could not be asked (a seccomp filter without adjtimex)
};

// The kernel's word, asked at most once a second.
ClockState system_clock_state() noexcept;

// kUnknown counts as synchronised: the gateway then judges times as on a box with a good clock.
inline bool system_clock_synchronised() noexcept {
  return system_clock_state() != ClockState::kUnsynchronised;
}

// The kernel's id of this boot (/proc/sys/kernel/random/boot_id), read once; "" when unknown.
const std::string& boot_id();
// Milliseconds since boot, suspend included (CLOCK_BOOTTIME): a clock no time service steps.
std::int64_t boottime_ms() noexcept;

}  // namespace edgegw::core
