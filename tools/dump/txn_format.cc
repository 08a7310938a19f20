#include "txn_format.h"

#include <fmt/core.h>

#include <type_traits>

#include "proto/codes.h"

namespace aviary::dump {
namespace {

std::string_view KindName(txn::NodeKind k) {
  switch (k) {
    case txn::NodeKind::kPersistent:
      return "persistent";
    case txn::NodeKind::kEphemeral:
      return "ephemeral";
    case txn::NodeKind::kContainer:
      return "container";
    case txn::NodeKind::kTtl:
      return "ttl";
  }
  return "?";
}

// Key/value pairs of one op, appended as `key=value` (text) or `"key":value`
// (json). Values are already rendered (numbers, or JSON strings for json).
class Fields {
 public:
  explicit Fields(bool json) : json_(json) {}
  void Num(std::string_view k, int64_t v) { Add(k, std::to_string(v)); }
  void HexNum(std::string_view k, int64_t v) { Add(k, json_ ? std::to_string(v) : Hex(v)); }
  void Str(std::string_view k, std::string_view v) { Add(k, json_ ? JsonString(v) : std::string(v)); }
  void Raw(std::string_view k, std::string v) { Add(k, std::move(v)); }
  std::string Take() { return std::move(out_); }

 private:
  void Add(std::string_view k, const std::string& v) {
    if (!out_.empty()) out_ += json_ ? "," : " ";
    out_ += json_ ? fmt::format("\"{}\":{}", k, v) : fmt::format("{}={}", k, v);
  }
  bool json_;
  std::string out_;
};

void DataFields(Fields& f, const std::string& data, bool null) {
  f.Num("data_len", null ? -1 : static_cast<int64_t>(data.size()));
  if (!null) f.Str("data", data.size() <= 64 ? data : data.substr(0, 64) + "...");
}

void OpFields(Fields& f, const txn::Op& op) {
  f.Str("type", proto::OpName(op.type));
  std::visit(
      [&f](const auto& b) {
        using B = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<B, txn::CreateTxn>) {
          f.Str("path", b.path);
          DataFields(f, b.data, b.data_null);
          f.Str("kind", KindName(b.kind));
          if (b.ephemeral_owner != 0) f.HexNum("owner", b.ephemeral_owner);
          if (b.ttl_ms != 0) f.Num("ttl_ms", b.ttl_ms);
          f.Num("acl_entries", static_cast<int64_t>(b.acl.size()));
          f.Num("parent_cversion", b.parent_cversion);
        } else if constexpr (std::is_same_v<B, txn::DeleteTxn>) {
          f.Str("path", b.path);
        } else if constexpr (std::is_same_v<B, txn::SetDataTxn>) {
          f.Str("path", b.path);
          DataFields(f, b.data, b.data_null);
          f.Num("version", b.version);
        } else if constexpr (std::is_same_v<B, txn::SetAclTxn>) {
          f.Str("path", b.path);
          f.Num("acl_entries", static_cast<int64_t>(b.acl.size()));
          f.Num("version", b.version);
        } else if constexpr (std::is_same_v<B, txn::CheckTxn>) {
          f.Str("path", b.path);
          f.Num("version", b.version);
        } else if constexpr (std::is_same_v<B, txn::CreateSessionTxn>) {
          f.Num("timeout_ms", b.timeout_ms);
        } else if constexpr (std::is_same_v<B, txn::CloseSessionTxn>) {
          f.Num("ephemerals", static_cast<int64_t>(b.paths_to_delete.size()));
        } else if constexpr (std::is_same_v<B, txn::ErrorTxn>) {
          f.Str("err", proto::ErrName(b.err));
        }
      },
      op.body);
}

std::string Render(const txn::Txn& t, int64_t offset, int64_t bytes, bool json) {
  Fields f(json);
  f.HexNum("zxid", t.zxid);
  f.HexNum("session", t.session_id);
  f.Num("cxid", t.cxid);
  f.Num("time", t.time_ms);
  f.Num("offset", offset);
  f.Num("length", bytes);
  if (t.type != proto::OpCode::kMulti) {
    OpFields(f, t.op);
    std::string s = f.Take();
    return json ? "{" + s + "}" : s;
  }
  f.Str("type", "multi");
  std::string ops;
  for (size_t i = 0; i < t.multi.size(); ++i) {
    Fields of(json);
    OpFields(of, t.multi[i]);
    if (json) {
      ops += (i ? ",{" : "{") + of.Take() + "}";
    } else {
      ops += fmt::format("\n    op[{}] {}", i, of.Take());
    }
  }
  if (json) f.Raw("ops", "[" + ops + "]");
  if (!json) f.Num("ops", static_cast<int64_t>(t.multi.size()));
  // A multi's first op path, so that tools can match records by path.
  for (const auto& op : t.multi) {
    if (const auto* c = std::get_if<txn::CreateTxn>(&op.body)) {
      f.Str("path", c->path);
      break;
    }
  }
  std::string s = f.Take();
  return json ? "{" + s + "}" : s + ops;
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\u{:04x}", c);
    }
  }
  return out + "\"";
}

std::string Hex(int64_t v) { return fmt::format("{:#x}", static_cast<uint64_t>(v)); }

std::string TxnText(const txn::Txn& t, int64_t offset, int64_t bytes) { return Render(t, offset, bytes, false); }
std::string TxnJson(const txn::Txn& t, int64_t offset, int64_t bytes) { return Render(t, offset, bytes, true); }

}  // namespace aviary::dump
