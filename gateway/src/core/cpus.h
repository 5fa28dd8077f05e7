// SPDX-License-Identifier: Apache-2.0
// The CPUs this process may run on: what sizes thread pools, so that a gateway confined by
// systemd's CPUAffinity=, a container's cpuset or taskset starts one I/O thread per CPU it really
// has rather than per CPU of the machine.
#pragma once

#include <vector>

namespace edgegw::core {

// The CPU numbers in the calling thread's affinity mask, ascending; never empty.
std::vector<int> usable_cpus();

// usable_cpus().size(), at least 1.
unsigned usable_cpu_count();

// Confines the calling thread, and the threads and processes it starts from now on, to `cpus`.
// Returns false (and changes nothing) when the set is empty or the kernel refuses it.
bool pin_to_cpus(const std::vector<int>& cpus);

}  // namespace edgegw::core
