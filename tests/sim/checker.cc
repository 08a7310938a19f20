#include "checker.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

namespace aviary::sim {

std::string EncodeTxn(const Txn& t) { return fmt::format("w{}:{}={}", t.write_id, t.key, t.value); }

bool DecodeTxn(const std::string& bytes, Txn* t) {
  size_t colon = bytes.find(':');
  size_t eq = bytes.find('=');
  if (bytes.empty() || bytes[0] != 'w' || colon == std::string::npos || eq == std::string::npos || eq < colon) {
    return false;
  }
  t->write_id = std::stoll(bytes.substr(1, colon - 1));
  t->key = bytes.substr(colon + 1, eq - colon - 1);
  t->value = bytes.substr(eq + 1);
  return true;
}

void Checker::Fail(std::string what) {
  if (failures_.size() < 20) failures_.push_back(std::move(what));
}

int64_t Checker::IndexOf(Zxid zxid) const {
  if (zxid == 0) return -1;
  auto it = index_.find(zxid);
  return it == index_.end() ? -2 : static_cast<int64_t>(it->second);
}

void Checker::OnReset(ServerId server, Zxid zxid) {
  int64_t index = IndexOf(zxid);
  if (index == -2) Fail(fmt::format("server {} reset to {:#x}, not in the committed sequence", server, zxid));
  position_[server] = index;
}

void Checker::OnApply(ServerId server, Zxid zxid, const std::string& bytes) {
  int64_t pos = position_.count(server) ? position_[server] : -1;
  size_t next = static_cast<size_t>(pos + 1);
  if (next < seq_.size()) {
    if (seq_[next].first != zxid || seq_[next].second != bytes) {
      Fail(fmt::format("server {} applied {:#x} '{}' where the sequence has {:#x} '{}'", server, zxid, bytes,
                       seq_[next].first, seq_[next].second));
    }
  } else {
    if (!seq_.empty() && zxid <= seq_.back().first) {
      Fail(fmt::format("server {} applied {:#x} after {:#x}: not ascending", server, zxid, seq_.back().first));
    }
    index_[zxid] = seq_.size();
    seq_.push_back({zxid, bytes});
    Txn t;
    if (DecodeTxn(bytes, &t)) {
      if (write_zxid_.count(t.write_id)) Fail(fmt::format("write {} committed twice", t.write_id));
      write_zxid_[t.write_id] = zxid;
    }
  }
  position_[server] = static_cast<int64_t>(next);
}

void Checker::OnWriteInvoked(int64_t write_id, int64_t now_ms) { invoked_ms_[write_id] = now_ms; }

void Checker::OnWriteAcked(int64_t write_id, int64_t now_ms) {
  if (!write_zxid_.count(write_id)) Fail(fmt::format("write {} acked but never applied", write_id));
  acked_[write_id] = now_ms;
}

Zxid Checker::ClientSeen(int client) const {
  auto it = client_seen_.find(client);
  return it == client_seen_.end() ? 0 : it->second;
}

void Checker::NoteClientSeen(int client, Zxid zxid) { client_seen_[client] = std::max(ClientSeen(client), zxid); }

void Checker::OnRead(int client, const std::string& key, const std::string& value, Zxid at, int64_t now_ms) {
  (void)now_ms;
  if (at < ClientSeen(client)) {
    Fail(fmt::format("client {} read at {:#x}, older than the {:#x} it had seen", client, at, ClientSeen(client)));
  }
  NoteClientSeen(client, at);
  reads_.push_back({client, key, value, at});
}

void Checker::Finish() {
  for (const auto& [id, t] : acked_) {
    if (!write_zxid_.count(id)) Fail(fmt::format("acked write {} lost", id));
  }
  // Linearizable writes: scanning G backwards, no later write may have been
  // acked before an earlier one was invoked.
  int64_t min_ack_after = std::numeric_limits<int64_t>::max();
  for (size_t i = seq_.size(); i-- > 0;) {
    Txn t;
    if (!DecodeTxn(seq_[i].second, &t)) continue;
    auto inv = invoked_ms_.find(t.write_id);
    if (inv != invoked_ms_.end() && min_ack_after < inv->second) {
      Fail(fmt::format("write {} ordered before a write acked before it was invoked", t.write_id));
    }
    auto ack = acked_.find(t.write_id);
    if (ack != acked_.end()) min_ack_after = std::min(min_ack_after, ack->second);
  }
  // Reads: the value G gives the key at the state read.
  for (const Read& r : reads_) {
    int64_t index = IndexOf(r.at);
    if (index == -2) {
      Fail(fmt::format("client {} read a state {:#x} not in the sequence", r.client, r.at));
      continue;
    }
    std::string expect;
    for (int64_t i = index; i >= 0; --i) {
      Txn t;
      if (DecodeTxn(seq_[i].second, &t) && t.key == r.key) {
        expect = t.value;
        break;
      }
    }
    if (expect != r.value) {
      Fail(fmt::format("client {} read {}='{}' at {:#x}, the sequence says '{}'", r.client, r.key, r.value, r.at,
                       expect));
    }
  }
}

}  // namespace aviary::sim
