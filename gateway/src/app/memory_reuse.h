// SPDX-License-Identifier: Apache-2.0
// How the daemon's heap gives memory back to the system.
#pragma once

namespace edgegw::app {

// Keeps the memory of a freed memtable for the next one. RocksDB allocates a memtable in blocks
// of write_buffer_size / 8 (2 MiB for the queue) and frees them after the flush; by default glibc
// maps blocks that size on their own or trims them off the heap's top, so every new memtable
// faults its pages in again, one fault per 4 KiB stored (5% of the gateway's CPU in the Modbus
// bench on this VM, where a fault costs tens of µs). With blocks from the heap and a trim
// threshold above two memtables, a flushed memtable's pages are reused as they are. The cost: up
// to 32 MiB of freed heap per malloc arena stays with the process instead of going back.
//
// Does nothing when the operator set glibc's malloc tunables (GLIBC_TUNABLES glibc.malloc.*,
// MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_): theirs stand. Returns whether it applied.
bool reuse_freed_memory();

}  // namespace edgegw::app
