// JSON output of the CLI (--json; schema in docs/CLI.md). Declares against
// nlohmann's forward header so only the .cc files that build documents pull
// in the full library.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "cli.h"

namespace aviary::cli {

// Writes `doc` (with "ok": true added when absent) as one line to stdout.
void EmitJson(const nlohmann::json& doc);
nlohmann::json StatJson(const proto::Stat& s);
nlohmann::json AclJson(const proto::AclList& acl);
// Data as JSON: {"data": utf-8 string or null, "data_base64": "..."}.
void AddData(nlohmann::json* doc, const std::string& data, bool is_null);
bool IsUtf8(const std::string& s);
std::string Base64Encode(const std::string& in);
bool Base64Decode(const std::string& in, std::string* out);

}  // namespace aviary::cli
