#include "config/properties.h"

#include <unordered_map>

namespace aviary::config {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Splits the text into logical lines the way Properties' LineReader does:
// comment and blank lines are dropped, continuation lines are joined (with the
// continuation's leading whitespace removed). Returned lines are still escaped.
std::vector<std::string> LogicalLines(std::string_view text) {
  std::vector<std::string> lines;
  std::string cur;
  bool skip_ws = true;          // skipping leading whitespace
  bool appended_begin = false;  // at the start of a continuation line
  bool new_line = true;         // at the start of a logical line
  bool comment = false;
  bool backslash = false;  // odd number of trailing backslashes so far
  bool skip_lf = false;    // previous char was the \r of a \r\n pair
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (skip_lf) {
      skip_lf = false;
      if (c == '\n') continue;
    }
    if (skip_ws) {
      if (IsBlank(c)) continue;
      if (!appended_begin && (c == '\r' || c == '\n')) continue;
      skip_ws = false;
      appended_begin = false;
    }
    if (new_line) {
      new_line = false;
      if (c == '#' || c == '!') {
        comment = true;
        continue;
      }
    }
    if (c != '\n' && c != '\r') {
      if (!comment) {
        cur.push_back(c);
        backslash = (c == '\\') ? !backslash : false;
      }
      continue;
    }
    // End of a natural line.
    if (comment || cur.empty()) {
      comment = false;
      new_line = true;
      skip_ws = true;
      cur.clear();
      backslash = false;
      continue;
    }
    if (backslash) {
      cur.pop_back();
      skip_ws = true;
      appended_begin = true;
      backslash = false;
      if (c == '\r') skip_lf = true;
      continue;
    }
    lines.push_back(std::move(cur));
    cur.clear();
    new_line = true;
    skip_ws = true;
  }
  if (!comment && !cur.empty()) {
    if (backslash) cur.pop_back();
    lines.push_back(std::move(cur));
  }
  return lines;
}

void AppendUtf8(unsigned cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool Unescape(std::string_view in, std::string* out, std::string* error) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= in.size()) break;  // dangling backslash: dropped
    c = in[i];
    switch (c) {
      case 't':
        out->push_back('\t');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'u': {
        if (i + 4 >= in.size()) {
          *error = "malformed \\uxxxx encoding";
          return false;
        }
        unsigned cp = 0;
        for (int k = 1; k <= 4; ++k) {
          char h = in[i + k];
          cp <<= 4;
          if (h >= '0' && h <= '9')
            cp |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f')
            cp |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            cp |= static_cast<unsigned>(h - 'A' + 10);
          else {
            *error = "malformed \\uxxxx encoding";
            return false;
          }
        }
        i += 4;
        AppendUtf8(cp, out);
        break;
      }
      default:
        out->push_back(c);
        break;
    }
  }
  return true;
}

}  // namespace

bool ParseProperties(std::string_view text, PropertyList* out, std::string* error) {
  out->clear();
  std::unordered_map<std::string, size_t> index;
  for (const std::string& line : LogicalLines(text)) {
    size_t limit = line.size();
    size_t key_len = 0;
    size_t value_start = limit;
    bool has_sep = false;
    bool backslash = false;
    while (key_len < limit) {
      char c = line[key_len];
      if ((c == '=' || c == ':') && !backslash) {
        value_start = key_len + 1;
        has_sep = true;
        break;
      }
      if (IsBlank(c) && !backslash) {
        value_start = key_len + 1;
        break;
      }
      backslash = (c == '\\') ? !backslash : false;
      ++key_len;
    }
    while (value_start < limit) {
      char c = line[value_start];
      if (!IsBlank(c)) {
        if (!has_sep && (c == '=' || c == ':')) {
          has_sep = true;
        } else {
          break;
        }
      }
      ++value_start;
    }
    std::string key, value;
    std::string_view lv(line);
    if (!Unescape(lv.substr(0, key_len), &key, error) || !Unescape(lv.substr(value_start), &value, error)) {
      return false;
    }
    auto it = index.find(key);
    if (it != index.end()) {
      (*out)[it->second].second = std::move(value);
      continue;
    }
    if (out->size() >= kMaxProperties) {
      *error = "too many properties (limit " + std::to_string(kMaxProperties) + ")";
      return false;
    }
    index.emplace(key, out->size());
    out->emplace_back(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace aviary::config
