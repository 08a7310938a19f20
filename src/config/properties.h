// Parser for the java.util.Properties text format, which is what Apache
// ZooKeeper uses to read zoo.cfg (Properties.load, then key/value trim).
//
// Owns: only the lexical layer (comments, separators, escapes, continuation
// lines). It knows nothing about zoo.cfg keys; see zoo_config.h.
// Semantics follow Properties.load: '#'/'!' comment lines, key ends at the
// first unescaped '=', ':' or whitespace, an optional '='/':' separator with
// surrounding whitespace, backslash escapes (\t \n \r \f \uXXXX, \x -> x),
// lines ending in an odd number of backslashes continue, a repeated key
// replaces the earlier value (keeping its first position).
// Thread use: pure functions, no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aviary::config {

using PropertyList = std::vector<std::pair<std::string, std::string>>;

// Upper bound on distinct keys accepted in one document.
inline constexpr size_t kMaxProperties = 10000;

// Parses `text`. Keys and values are returned exactly as Properties.load
// produces them (values keep trailing whitespace; callers trim like ZooKeeper
// does). Returns false and sets *error for a malformed \uXXXX escape or too
// many keys.
bool ParseProperties(std::string_view text, PropertyList* out, std::string* error);

}  // namespace aviary::config
