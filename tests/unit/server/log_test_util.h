// Shared helpers of the server unit tests that run a write-ahead log on a
// thread (quorum_log_test, durable_committer_test) or files
// (state_machine_replay_test): a temporary directory removed afterwards, a
// plain create txn for a zxid, and a bounded wait for a condition another
// thread makes true. Header-only; the test's thread.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include "txn/txn.h"

namespace aviary::server::logtest {

// A fresh directory under the system's temporary directory, removed with
// everything in it when the TempDir goes.
struct TempDir {
  std::string path;
  explicit TempDir(const char* prefix = "aviary-test") {
    std::string tmpl = std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX");
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// create /n<zxid> as a txn numbered `zxid`.
inline txn::Txn CreateTxnAt(int64_t zxid) {
  txn::Txn t;
  t.zxid = zxid;
  t.type = proto::OpCode::kCreate;
  t.op.type = proto::OpCode::kCreate;
  txn::CreateTxn c;
  c.path = "/n" + std::to_string(zxid);
  t.op.body = c;
  return t;
}

// Polls `pred` every millisecond for at most `limit_ms`; its last answer.
template <typename Pred>
bool WaitFor(Pred pred, int limit_ms = 5000) {
  for (int i = 0; i < limit_ms; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace aviary::server::logtest
