// The key that derives session passwords. It must survive restarts, or a
// client could not re-attach to its recovered session; it lives in
// <dataDir>/session.secret (16 hex digits, created once, fsynced).
#pragma once

#include <cstdint>
#include <string>

namespace aviary::server {

bool LoadOrCreateSessionSecret(const std::string& data_dir, uint64_t* secret, std::string* error);

}  // namespace aviary::server
