#include "manifest.h"

#include <fmt/core.h>

#include <sstream>

#include "commands.h"

namespace aviary::dump {

std::string ManifestText(const Manifest& m) {
  std::string out = "aviary-backup 1\n";
  out += m.snapshot_zxid < 0 ? std::string("snapshot_zxid -1\n")
                             : fmt::format("snapshot_zxid {:#x}\n", static_cast<uint64_t>(m.snapshot_zxid));
  out += fmt::format("last_zxid {:#x}\n", static_cast<uint64_t>(m.last_zxid));
  for (const auto& f : m.files) out += fmt::format("file {} {} {:08x}\n", f.name, f.size, f.crc);
  return out;
}

bool ParseManifest(const std::string& text, Manifest* m, std::string* error) {
  std::istringstream in(text);
  std::string line;
  bool header = false, have_last = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key)) continue;
    if (key == "aviary-backup") {
      int v = 0;
      if (!(ls >> v) || v != 1) {
        *error = "unsupported manifest version: " + line;
        return false;
      }
      header = true;
    } else if (key == "snapshot_zxid" || key == "last_zxid") {
      std::string v;
      int64_t z = -1;
      if (!(ls >> v) || (v != "-1" && !ParseZxid(v, &z))) {
        *error = "bad manifest line: " + line;
        return false;
      }
      if (key == "snapshot_zxid") {
        m->snapshot_zxid = z;
      } else {
        m->last_zxid = z;
        have_last = true;
      }
    } else if (key == "file") {
      ManifestFile f;
      std::string crc;
      if (!(ls >> f.name >> f.size >> crc) || f.name.find('/') != std::string::npos || f.size < 0 ||
          m->files.size() >= 1000000) {
        *error = "bad manifest line: " + line;
        return false;
      }
      int64_t c = 0;
      if (!ParseZxid("0x" + crc, &c) || c > 0xffffffffLL) {
        *error = "bad checksum in manifest line: " + line;
        return false;
      }
      f.crc = static_cast<uint32_t>(c);
      m->files.push_back(f);
    } else {
      *error = "unknown manifest line: " + line;
      return false;
    }
  }
  if (!header || !have_last) {
    *error = "not an aviary backup manifest";
    return false;
  }
  return true;
}

}  // namespace aviary::dump
