#include "zkformat/digest_check.h"

namespace aviary::zkformat {

int64_t DigestChecker::Current(const tree::DataTree& tree) {
  if (!valid_) {
    tracker_.Reset(tree);
    valid_ = true;
  }
  return tracker_.value();
}

void DigestChecker::BeforeApply(const tree::DataTree& tree, const txn::Txn& t, const tree::Node* node) {
  Current(tree);
  tracker_.Before(tree, t, node);
}

void DigestChecker::AfterApply(const tree::DataTree& tree, const txn::Txn& t) {
  tracker_.After(tree);
  if (!t.zk_digest) return;
  compared_.fetch_add(1, std::memory_order_relaxed);
  if (*t.zk_digest == tracker_.value()) return;
  mismatches_.fetch_add(1, std::memory_order_relaxed);
  if (on_mismatch_) on_mismatch_(DigestMismatch{t.zxid, *t.zk_digest, tracker_.value()});
}

}  // namespace aviary::zkformat
