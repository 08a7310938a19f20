// Internal to src/config: typed value parsing for zoo.cfg entries with the
// uniform error text "invalid value for <key>: '<value>' (<expectation>)".
// Thread use: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::config::detail {

std::string_view Trim(std::string_view s);

// Sets *error to the uniform message and returns false.
bool Invalid(std::string_view key, std::string_view value, std::string_view expectation, std::string* error);

// Decimal integer with optional sign (as java's Integer/Long.parseLong), no
// surrounding text. Returns false on syntax error or overflow of [lo, hi].
bool ParseInt64(std::string_view s, int64_t lo, int64_t hi, int64_t* out);

// Java's Long.parseLong(s, 16) for non-negative values: hex digits only
// (an optional '+'), at most 16 of them, no "0x".
bool ParseHexInt64(std::string_view s, int64_t* out);

// Integer key handlers; `expectation` is used in the error text.
bool IntValue(std::string_view key, std::string_view value, int64_t lo, int64_t hi, std::string_view expectation,
              int64_t* out, std::string* error);
bool PositiveInt(std::string_view key, std::string_view value, int* out, std::string* error);
bool NonNegativeInt(std::string_view key, std::string_view value, int* out, std::string* error);
bool PortValue(std::string_view key, std::string_view value, bool allow_zero, uint16_t* out, std::string* error);
// 'true' / 'false', case-insensitive (ZooKeeper's QuorumPeerConfig.parseBoolean).
bool BoolValue(std::string_view key, std::string_view value, bool* out, std::string* error);
// 'yes' / 'no' (also true/false), case-insensitive (forceSync).
bool YesNoValue(std::string_view key, std::string_view value, bool* out, std::string* error);

}  // namespace aviary::config::detail
