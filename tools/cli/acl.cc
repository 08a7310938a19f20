// ACL text forms shared by the commands: zkCli's AclParser and permission strings.
#include <cstdio>

#include "cli.h"

namespace aviary::cli {

namespace {

int32_t ParsePerms(const std::string& s) {
  int32_t perm = 0;
  for (char c : s) {
    switch (c) {
      case 'r':
        perm |= proto::perms::kRead;
        break;
      case 'w':
        perm |= proto::perms::kWrite;
        break;
      case 'c':
        perm |= proto::perms::kCreate;
        break;
      case 'd':
        perm |= proto::perms::kDelete;
        break;
      case 'a':
        perm |= proto::perms::kAdmin;
        break;
      default:
        std::fprintf(stderr, "Unknown perm type: %c\n", c);
    }
  }
  return perm;
}

}  // namespace

proto::AclList ParseAcl(const std::string& text) {
  proto::AclList acl;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string a = text.substr(start, comma - start);
    start = comma + 1;
    size_t first = a.find(':'), last = a.rfind(':');
    if (first == std::string::npos || first == last) {
      std::fprintf(stderr, "%s does not have the form scheme:id:perm\n", a.c_str());
      continue;
    }
    acl.push_back(
        proto::Acl{ParsePerms(a.substr(last + 1)), {a.substr(0, first), a.substr(first + 1, last - first - 1)}});
  }
  return acl;
}

proto::AclList OpenAcl() { return {proto::Acl{proto::perms::kAll, {"world", "anyone"}}}; }

}  // namespace aviary::cli
