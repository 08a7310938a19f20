#include "storage/log_range.h"

namespace aviary::storage {

bool OldestLoggedZxid(const std::string& log_dir, int64_t* zxid, std::string* error) {
  *zxid = -1;
  for (const FileEntry& seg : ListSegments(log_dir)) {
    SegmentReader r;
    if (!r.Open(seg.path, error)) return false;
    SegmentRecord rec;
    if (r.Next(&rec)) {
      *zxid = rec.txn.zxid;
      return true;
    }
    if (r.end() == SegmentEnd::kCorrupt) {
      *error = seg.path + ": " + r.bad_reason() + " at offset " + std::to_string(r.bad_offset());
      return false;
    }
  }
  return true;
}

bool LogRangeReader::Fail(std::string why) {
  error_ = std::move(why);
  done_ = true;
  return false;
}

bool LogRangeReader::ReadRecord(SegmentRecord* rec) {
  while (seg_ < segs_.size()) {
    if (reader_ == nullptr) {
      reader_ = std::make_unique<SegmentReader>();
      reader_->set_trust_end_marker(true);  // continuity is checked below
      std::string why;
      if (!reader_->Open(segs_[seg_].path, &why)) return Fail(why);
    }
    if (reader_->Next(rec)) {
      if (prev_ >= 0 && !ZxidFollows(prev_, rec->txn.zxid)) {
        return Fail(segs_[seg_].path + ": zxid gap, " + std::to_string(rec->txn.zxid) + " after " +
                    std::to_string(prev_) + " at offset " + std::to_string(rec->offset));
      }
      prev_ = rec->txn.zxid;
      return true;
    }
    const bool last = seg_ + 1 == segs_.size();
    if (reader_->end() == SegmentEnd::kCorrupt || (reader_->end() == SegmentEnd::kTorn && !last)) {
      return Fail(segs_[seg_].path + ": " + reader_->bad_reason() + " at offset " +
                  std::to_string(reader_->bad_offset()));
    }
    reader_.reset();
    ++seg_;
  }
  return false;  // the end of the log (a torn tail of the last segment is where the writer is)
}

bool LogRangeReader::Open(const std::string& log_dir, int64_t from, int64_t to, std::string* error) {
  from_ = from;
  to_ = to;
  segs_ = ListSegments(log_dir);
  // The segment holding `from` is the last one named <= from; a segment
  // holds only zxids >= its name, and earlier ones only zxids below it. A
  // segment named from + 1 was opened when the writer's last zxid was
  // `from` (a roll, a restart, a TRUNC or a SNAP installed at `from`): the
  // range starts there, whatever gap lies before it.
  seg_ = 0;
  bool opened_after_from = false;
  for (size_t i = 0; i < segs_.size(); ++i) {
    if (segs_[i].zxid <= from) seg_ = i;
    if (segs_[i].zxid == from + 1) {
      seg_ = i;
      opened_after_from = true;
    }
  }
  const bool from_start = seg_ == 0 || opened_after_from;
  SegmentRecord rec;
  bool first = true;
  while (ReadRecord(&rec)) {
    if (rec.txn.zxid == from) covers_from_ = true;
    // A segment opened after `from` starts with what followed it: from + 1,
    // or the first txn of a later epoch (a restart, then a new leader).
    if (first && from_start && (rec.txn.zxid == from + 1 || (opened_after_from && ZxidFollows(from, rec.txn.zxid)))) {
      covers_from_ = true;
    }
    first = false;
    if (rec.txn.zxid <= from) continue;
    pending_ = std::move(rec);
    has_pending_ = true;
    return true;
  }
  if (!error_.empty()) {
    *error = error_;
    return false;
  }
  return true;  // the log ends at or before `from`
}

bool LogRangeReader::Next(txn::Txn* t) {
  if (done_) return false;
  if (!has_pending_ && prev_ >= to_ && prev_ >= 0) {
    // `to` was the last record handed out: reading on would only find the
    // end of the data (or the writer's next record) past it.
    done_ = true;
    return false;
  }
  SegmentRecord rec;
  if (has_pending_) {
    rec = std::move(pending_);
    has_pending_ = false;
  } else if (!ReadRecord(&rec)) {
    if (error_.empty() && prev_ < to_ && from_ < to_) {
      return Fail("the log ends at zxid " + std::to_string(prev_) + ", before " + std::to_string(to_));
    }
    done_ = true;
    return false;
  }
  if (rec.txn.zxid > to_) {
    done_ = true;
    return false;
  }
  *t = std::move(rec.txn);
  return true;
}

}  // namespace aviary::storage
