#include "sasl/jaas.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace aviary::sasl {
namespace {

enum class Tok { kWord, kQuoted, kPunct, kEnd, kError };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  int line = 1;
};

bool IsPunct(char c) { return c == '{' || c == '}' || c == ';' || c == '='; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// Splits the text into words, quoted strings and { } ; =, skipping blanks
// and comments. An error token carries its message.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  Token Next() {
    if (!SkipBlanks()) return Error("unterminated /* comment");
    Token t;
    t.line = line_;
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    if (IsPunct(c)) {
      ++pos_;
      t.kind = Tok::kPunct;
      t.text = std::string(1, c);
      return t;
    }
    if (c == '"') return Quoted();
    t.kind = Tok::kWord;
    while (pos_ < s_.size() && !IsSpace(s_[pos_]) && !IsPunct(s_[pos_]) && s_[pos_] != '"' && !CommentAhead()) {
      t.text.push_back(s_[pos_++]);
    }
    return t;
  }

 private:
  bool CommentAhead() const {
    if (s_[pos_] == '#') return true;
    return s_[pos_] == '/' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '/' || s_[pos_ + 1] == '*');
  }

  // False on an unterminated block comment.
  bool SkipBlanks() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (IsSpace(c)) {
        line_ += c == '\n';
        ++pos_;
      } else if (c == '#' || (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/')) {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return false;
        for (size_t i = pos_; i < end; ++i) line_ += s_[i] == '\n';
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return true;
  }

  Token Quoted() {
    Token t;
    t.kind = Tok::kQuoted;
    t.line = line_;
    ++pos_;  // opening quote
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\n') return Error("newline inside a quoted string");
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        char e = s_[pos_++];
        c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      }
      t.text.push_back(c);
    }
    if (pos_ >= s_.size()) return Error("unterminated quoted string");
    ++pos_;  // closing quote
    return t;
  }

  Token Error(std::string msg) {
    Token t;
    t.kind = Tok::kError;
    t.line = line_;
    t.text = std::move(msg);
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of file";
    case Tok::kQuoted:
      return "a quoted string";
    default:
      return fmt::format("'{}'", t.text);
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) { Advance(); }

  bool Parse(JaasConfig* out, std::string* error) {
    while (cur_.kind != Tok::kEnd) {
      if (!Section(out)) break;
    }
    if (!error_.empty()) {
      *error = error_;
      return false;
    }
    return true;
  }

 private:
  void Advance() { cur_ = lex_.Next(); }

  bool Fail(std::string msg) {
    if (error_.empty()) error_ = fmt::format("line {}: {}", cur_.line, msg);
    return false;
  }

  bool Expect(char punct, std::string_view where) {
    if (cur_.kind == Tok::kError) return Fail(cur_.text);
    if (cur_.kind != Tok::kPunct || cur_.text[0] != punct) {
      return Fail(fmt::format("expected '{}' {}, found {}", punct, where, Describe(cur_)));
    }
    Advance();
    return true;
  }

  bool Word(std::string_view what, std::string* out) {
    if (cur_.kind == Tok::kError) return Fail(cur_.text);
    if (cur_.kind != Tok::kWord) return Fail(fmt::format("expected {}, found {}", what, Describe(cur_)));
    *out = cur_.text;
    Advance();
    return true;
  }

  bool Section(JaasConfig* out) {
    JaasSection sec;
    if (!Word("a section name", &sec.name)) return false;
    if (out->Find(sec.name) != nullptr) return Fail(fmt::format("section '{}' appears twice", sec.name));
    if (!Expect('{', fmt::format("after section name '{}'", sec.name))) return false;
    while (!(cur_.kind == Tok::kPunct && cur_.text == "}")) {
      JaasModule m;
      if (!Module(&m)) return false;
      sec.modules.push_back(std::move(m));
    }
    Advance();  // '}'
    if (!Expect(';', fmt::format("after the '}}' of section '{}'", sec.name))) return false;
    out->sections.push_back(std::move(sec));
    return true;
  }

  bool Module(JaasModule* m) {
    if (!Word("a login module class name or '}'", &m->login_module)) return false;
    std::string flag;
    if (!Word(fmt::format("a control flag after '{}'", m->login_module), &flag)) return false;
    for (char& c : flag) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (flag != "required" && flag != "requisite" && flag != "sufficient" && flag != "optional") {
      return Fail(
          fmt::format("invalid control flag '{}' (expected required, requisite, sufficient or optional)", flag));
    }
    m->control_flag = flag;
    while (!(cur_.kind == Tok::kPunct && cur_.text == ";")) {
      std::string key;
      if (!Word(fmt::format("an option name or ';' in module '{}'", m->login_module), &key)) return false;
      if (!Expect('=', fmt::format("after option '{}'", key))) return false;
      if (cur_.kind == Tok::kError) return Fail(cur_.text);
      if (cur_.kind != Tok::kWord && cur_.kind != Tok::kQuoted) {
        return Fail(fmt::format("expected a value for option '{}', found {}", key, Describe(cur_)));
      }
      std::erase_if(m->options, [&](const auto& kv) { return kv.first == key; });
      m->options.emplace_back(key, cur_.text);
      Advance();
    }
    Advance();  // ';'
    return true;
  }

  Lexer lex_;
  Token cur_;
  std::string error_;
};

}  // namespace

const std::string* JaasModule::Option(std::string_view key) const {
  for (const auto& [k, v] : options) {
    if (k == key) return &v;
  }
  return nullptr;
}

const JaasSection* JaasConfig::Find(std::string_view name) const {
  for (const JaasSection& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool ParseJaas(std::string_view text, JaasConfig* out, std::string* error) {
  if (text.size() > kMaxJaasBytes) {
    *error = fmt::format("larger than {} bytes", kMaxJaasBytes);
    return false;
  }
  if (text.find('\0') != std::string_view::npos) {
    *error = "contains a NUL byte";
    return false;
  }
  JaasConfig cfg;
  Parser p(text);
  if (!p.Parse(&cfg, error)) return false;
  *out = std::move(cfg);
  return true;
}

bool LoadJaasFile(const std::string& path, JaasConfig* out, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    *error = fmt::format("JAAS configuration {}: cannot open: {}", path, std::strerror(errno));
    return false;
  }
  std::string text;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxJaasBytes) break;
  }
  if (std::ferror(f.get())) {
    *error = fmt::format("JAAS configuration {}: read error", path);
    return false;
  }
  if (!ParseJaas(text, out, error)) {
    *error = fmt::format("JAAS configuration {}: {}", path, *error);
    return false;
  }
  return true;
}

}  // namespace aviary::sasl
