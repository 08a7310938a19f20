// aviary-dump: renders log records and snapshot contents as one text line or
// one JSON object per item. Pure functions (no I/O); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "txn/txn.h"

namespace aviary::dump {

// A JSON string literal (quotes included). Bytes outside printable ASCII
// become \u00XX, so binary data stays valid JSON (bytes >= 0x80 read as
// Latin-1).
std::string JsonString(std::string_view s);
// "0x" + lowercase hex.
std::string Hex(int64_t v);

// One log record. `offset` is the file offset of the record, `bytes` its
// size on disk (header + payload).
std::string TxnText(const txn::Txn& t, int64_t offset, int64_t bytes);
std::string TxnJson(const txn::Txn& t, int64_t offset, int64_t bytes);

}  // namespace aviary::dump
