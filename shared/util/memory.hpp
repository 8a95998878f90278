// Process-wide allocator settings for long-running glint daemons. Call once at start-up, before
// any thread starts.
#pragma once

namespace glint::util {

// Large buffers (transfer chunks) always come from mmap and go back to the system when freed, and
// the number of malloc arenas is capped: without this glibc raises its mmap threshold after the
// first freed MiB buffer and keeps every later one resident, so RSS creeps up with each transfer.
void tune_malloc();

}  // namespace glint::util
