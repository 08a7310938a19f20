// One named metric value as mntr and the AdminServer's "monitor" command
// report it: an integer, a floating value or a string (zk_version,
// zk_server_state). Plain data.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace aviary::metrics {

using MetricValue = std::variant<int64_t, double, std::string>;

struct Sample {
  std::string name;  // without mntr's "zk_" prefix
  MetricValue value;
};

// The value as mntr prints it: integers plain, doubles as Java's
// Double.toString for the values metrics take ("0.0", "6.5", "0.1234"),
// strings as they are.
std::string FormatValue(const MetricValue& v);

}  // namespace aviary::metrics
