#include "server/durable_committer.h"

#include "base/log.h"

namespace aviary::server {

DurableCommitter::DurableCommitter(storage::WalOptions opts, std::function<void()> wake)
    : wal_(std::move(opts)), wake_(std::move(wake)) {}

DurableCommitter::~DurableCommitter() { Stop(); }

bool DurableCommitter::Start(int64_t next_zxid, std::string* error) {
  if (!wal_.Open(next_zxid, error)) return false;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void DurableCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DurableCommitter::Propose(txn::Txn txn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.load()) return;  // never committed, never acknowledged
    queue_.push_back(Item{false, 0, std::move(txn)});
  }
  cv_.notify_one();
}

void DurableCommitter::RequestRoll(int64_t next_zxid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{true, next_zxid, {}});
  }
  cv_.notify_one();
}

void DurableCommitter::TakeCommitted(std::vector<txn::Txn>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : committed_) out->push_back(std::move(t));
  committed_.clear();
}

void DurableCommitter::Fail(const std::string& why) {
  AV_LOG(kError,
         "transaction log failure: {}; writes are no longer acknowledged (reads go on). Fix the disk and restart.",
         why);
  std::lock_guard<std::mutex> lock(mu_);
  failed_.store(true);
  queue_.clear();
}

void DurableCommitter::Run() {
  std::vector<Item> batch;
  std::vector<txn::Txn> done;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    if (failed_.load()) {
      batch.clear();
      continue;
    }
    std::string error;
    bool ok = true;
    for (auto& item : batch) {
      if (item.roll) {
        // Everything before the roll must be durable first. An empty
        // segment already starts where the new one would.
        ok = Sync(done, &error) && (wal_.txns_in_segment() == 0 || wal_.Roll(item.roll_zxid, &error));
      } else {
        ok = wal_.Append(item.txn, &error);
        if (ok) done.push_back(std::move(item.txn));
      }
      if (!ok) break;
    }
    batch.clear();
    if (ok) ok = Sync(done, &error);
    if (!ok) {
      // Txns written but not fsynced are not committed: they are dropped.
      done.clear();
      Fail(error);
    }
  }
}

bool DurableCommitter::Sync(std::vector<txn::Txn>& done, std::string* error) {
  if (done.empty()) return true;
  if (!wal_.Sync(error)) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : done) committed_.push_back(std::move(t));
  }
  done.clear();
  wake_();
  return true;
}

}  // namespace aviary::server
