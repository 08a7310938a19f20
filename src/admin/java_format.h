// Formatting helpers that reproduce how ZooKeeper's Java code prints values,
// so the four-letter words match byte for byte.
// Thread use: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::admin {

// Double.toString: "0.0", "1.5", "0.1235", "1.0E7", "1.0E-4", "NaN", "Infinity".
std::string JavaDouble(double v);

// Rounds to 4 decimals, half up (ZooKeeper's AvgMinMaxCounter.getAvg).
double RoundLatency4(double v);

// Long.toHexString: two's complement for negatives, lower case, no padding.
std::string JavaHex(int64_t v);

// InetSocketAddress.toString for an unresolved-name address: "/127.0.0.1:5000",
// "/[::1]:5000".
std::string JavaSocketAddress(std::string_view ip, uint16_t port);

}  // namespace aviary::admin
