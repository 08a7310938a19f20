#include "storage/digest.h"

#include <string>

#include "storage/snapshot_node.h"

namespace aviary::storage {
namespace {

// FNV-1a over the bytes, then a splitmix64 finaliser so that the per-node
// values summed below are well spread.
uint64_t Hash64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

uint64_t TreeDigest(const tree::DataTree& tree) {
  uint64_t sum = 0;
  std::string scratch;
  tree.ForEach([&](const std::string& path, const tree::Node& n) {
    scratch.clear();
    snapnode::EncodeBody(path, n, tree.AclOf(n), &scratch);
    sum += Hash64(scratch);
  });
  return sum ^ (static_cast<uint64_t>(tree.NodeCount()) * 0x9e3779b97f4a7c15ULL);
}

}  // namespace aviary::storage
