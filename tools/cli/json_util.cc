#include "json_util.h"

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace aviary::cli {

using nlohmann::json;

void EmitJson(const json& doc) {
  json d = doc;
  if (!d.contains("ok")) d["ok"] = true;
  std::string text = d.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fprintf(stdout, "%s\n", text.c_str());
}

json StatJson(const proto::Stat& s) {
  return {{"cZxid", s.czxid},
          {"ctime", s.ctime},
          {"mZxid", s.mzxid},
          {"mtime", s.mtime},
          {"pZxid", s.pzxid},
          {"cversion", s.cversion},
          {"dataVersion", s.version},
          {"aclVersion", s.aversion},
          {"ephemeralOwner", s.ephemeralOwner},
          {"dataLength", s.dataLength},
          {"numChildren", s.numChildren}};
}

json AclJson(const proto::AclList& acl) {
  json arr = json::array();
  for (const auto& a : acl) {
    arr.push_back({{"scheme", a.id.scheme}, {"id", a.id.id}, {"perms", proto::perms::Letters(a.perms)}});
  }
  return arr;
}

bool IsUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 0x6) {
      n = 1;
    } else if ((c >> 4) == 0xe) {
      n = 2;
    } else if ((c >> 3) == 0x1e) {
      n = 3;
    } else {
      return false;
    }
    if (i + n + 1 > s.size()) return false;
    for (size_t k = 1; k <= n; k++) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

void AddData(json* doc, const std::string& data, bool is_null) {
  (*doc)["data"] = is_null || !IsUtf8(data) ? json(nullptr) : json(data);
  (*doc)["data_base64"] = Base64Encode(data);
  if (is_null) (*doc)["data_null"] = true;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(in[i + 1])) << 8 : 0);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(const std::string& in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      pad++;
      continue;
    }
    const char* p = c ? std::strchr(kB64, c) : nullptr;
    if (p == nullptr || pad > 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return pad <= 2;
}

}  // namespace aviary::cli
