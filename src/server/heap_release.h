// Gives malloc's free memory back to the system after a phase that freed a
// lot of it (a snapshot's blocks, recovery's batches): glibc keeps freed
// chunks inside its arenas, resident, until a trim; malloc_trim(0) returns
// every whole free page of every arena (MADV_DONTNEED). Costs a walk over
// the arenas' free chunks (each arena locked in turn: a thread allocating
// meanwhile waits), so it is for the end of such phases, not a hot path.
// Thread-safe; a no-op without glibc.
#pragma once

#include <cstddef>

namespace aviary::server {

// Trims malloc's arenas; returns whether anything was given back.
bool ReleaseFreeHeap();

}  // namespace aviary::server
