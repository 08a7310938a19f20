// Failpoints for fault-injection tests: the environment variable
// AVIARY_FAILPOINT holds comma-separated names (some with an argument after
// a colon, e.g. "wal_sync_eio_after:3"); each part that reads one documents
// its names (storage/wal.h, server/snapshotter.h). Unknown names are ignored.
// Thread use: any thread (reads the environment only).
#pragma once

#include <string>
#include <vector>

namespace aviary::base {

// The names in AVIARY_FAILPOINT now, in order; empty when it is unset.
std::vector<std::string> ActiveFailpoints();

}  // namespace aviary::base
