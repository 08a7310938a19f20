// ZAB's epoch files, kept as Apache ZooKeeper keeps them (QuorumPeer 3.8):
// `acceptedEpoch` (the last epoch this server agreed to follow: written when
// it accepts a NEWEPOCH / LEADERINFO) and `currentEpoch` (the epoch of the
// leader it last synced with: written at NEWLEADER), both in
// <dataDir>/version-2/ (ZooKeeper's snapshot directory), each holding the
// number as decimal text without a newline ("5"). So a ZooKeeper dataDir
// and an Aviary one hold the same files.
//
// Writes are atomic and durable: <name>.tmp, fsync, rename, fsync of the
// directory (ZooKeeper's AtomicFileWritingIdiom, plus the directory fsync).
// Reads take the first line (ZooKeeper's readLine + Long.parseLong: an
// optional '+', decimal digits, nothing else; a trailing newline is fine).
// Negative numbers are refused (ZooKeeper would take them; they never occur).
//
// LoadEpochs applies ZooKeeper's start-up rules (QuorumPeer.loadDataBase),
// given the last zxid recovered from the snapshot and the log:
//  - a missing file gets epoch(last zxid) = last_zxid >> 32, and is written;
//  - epoch(last zxid) > currentEpoch is an error, unless currentEpoch.tmp
//    exists (a crash during setCurrentEpoch): then its value is taken and
//    written as currentEpoch;
//  - acceptedEpoch < currentEpoch is an error.
// Single-threaded file I/O; callers own the ordering with the log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::storage {

inline constexpr char kAcceptedEpochFile[] = "acceptedEpoch";
inline constexpr char kCurrentEpochFile[] = "currentEpoch";

// VersionDir(data_dir) + "/" + name
std::string EpochFilePath(const std::string& data_dir, const std::string& name);

// false with *error on a bad value; *missing set (and false) when absent.
bool ReadEpochFile(const std::string& path, int64_t* epoch, bool* missing, std::string* error);
// Atomic and durable (see above). epoch must be >= 0.
bool WriteEpochFile(const std::string& path, int64_t epoch, std::string* error);

struct Epochs {
  int64_t accepted = 0;
  int64_t current = 0;
  std::vector<std::string> notes;  // what was created or repaired, for the log
};

// ZooKeeper's rules above. data_dir = dataDir; creates version-2 if needed.
bool LoadEpochs(const std::string& data_dir, int64_t last_zxid, Epochs* out, std::string* error);
// setAcceptedEpoch / setCurrentEpoch: write the file (durably) first.
bool StoreAcceptedEpoch(const std::string& data_dir, int64_t epoch, std::string* error);
bool StoreCurrentEpoch(const std::string& data_dir, int64_t epoch, std::string* error);

}  // namespace aviary::storage
