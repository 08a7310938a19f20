#include "interactive.h"

#include <editline/readline.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace aviary::cli {

namespace {

Shell* g_shell = nullptr;
bool g_eof = false;
std::vector<std::string> g_matches;
size_t g_match_index = 0;
std::string g_history_file;
bool g_line_shown = false;  // libedit shows a prompt and a partial line

const char* const kBuiltins[] = {"connect", "close", "history", "redo", "printwatches", "quit", "help", "version"};

void CollectCommands(const std::string& prefix) {
  for (const auto& c : Commands()) {
    if (c.name.rfind(prefix, 0) == 0) g_matches.push_back(c.name);
  }
  for (const char* b : kBuiltins) {
    if (std::string(b).rfind(prefix, 0) == 0) g_matches.emplace_back(b);
  }
}

// Children of the text's parent whose names start with its last segment.
void CollectPaths(const std::string& text) {
  client::Session* s = g_shell->session();
  if (s == nullptr || !s->alive() || text.empty() || text[0] != '/') return;
  size_t slash = text.rfind('/');
  std::string parent = slash == 0 ? "/" : text.substr(0, slash);
  std::string prefix = text.substr(slash + 1);
  proto::Request req;
  req.header.type = static_cast<int32_t>(proto::OpCode::kGetChildren);
  req.body = proto::GetChildrenRequest{parent, false};
  client::Result r = s->Call(req);
  if (r.err != proto::Err::kOk) return;
  for (const auto& c : std::get<proto::GetChildrenResponse>(r.body).children) {
    if (c.rfind(prefix, 0) == 0) g_matches.push_back(ChildPath(parent, c));
  }
}

char* Generator(const char* /*text*/, int state) {
  if (state == 0) g_match_index = 0;
  if (g_match_index >= g_matches.size()) return nullptr;
  return strdup(g_matches[g_match_index++].c_str());
}

char** Complete(const char* text, int start, int /*end*/) {
  g_matches.clear();
  std::string t(text);
  if (start == 0) {
    CollectCommands(t);
  } else {
    CollectPaths(t);
  }
  rl_attempted_completion_over = 1;
  if (g_matches.empty()) return nullptr;
  rl_completion_append_character = start == 0 ? ' ' : '\0';
  return rl_completion_matches(text, Generator);
}

void OnLine(char* line) {
  g_line_shown = false;  // the command's output follows; no redraw until the next prompt
  if (line == nullptr) {
    g_eof = true;
    return;
  }
  std::string text(line);
  free(line);
  if (!text.empty()) {
    add_history(text.c_str());
    write_history(g_history_file.c_str());
  }
  g_shell->ExecuteLine(text);
  if (!g_shell->quit()) rl_callback_handler_install(g_shell->Prompt().c_str(), OnLine);
}

std::string HistoryFile() {
  if (const char* f = std::getenv("AVIARY_HISTFILE")) return f;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.aviary_history";
}

// Keeps the session alive until stdin is readable (or the session is gone).
void WaitForInput(Shell& shell) {
  for (;;) {
    client::Session* s = shell.session();
    int sfd = s ? s->fd() : -1;
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0}};
    int wait_ms = s && s->negotiated_timeout_ms() > 0 ? s->negotiated_timeout_ms() / 3 : 1000;
    int rc = poll(fds, sfd >= 0 ? 2 : 1, wait_ms);
    if (rc > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) return;
    if (s && s->session_id() != 0) s->Poll(0);
  }
}

int RunTerminal(Shell& shell) {
  g_history_file = HistoryFile();
  rl_readline_name = "aviary";
  using_history();
  read_history(g_history_file.c_str());
  rl_attempted_completion_function = Complete;
  rl_completer_word_break_characters = const_cast<char*>(" \t\n\"'");
  rl_callback_handler_install(shell.Prompt().c_str(), OnLine);
  // An event printed while a line is being typed: draw the prompt and line again.
  shell.after_event = [] {
    if (g_line_shown) rl_forced_update_display();
  };
  while (!g_eof && !shell.quit()) {
    g_line_shown = true;
    WaitForInput(shell);
    rl_callback_read_char();
    g_line_shown = false;
  }
  rl_callback_handler_remove();
  if (g_eof) std::printf("\n");
  return shell.last_status();
}

int RunPiped(Shell& shell) {
  std::string buf;
  char chunk[4096];
  while (!shell.quit()) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos && !shell.quit()) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      shell.ExecuteLine(line);
    }
    if (shell.quit()) break;
    WaitForInput(shell);
    ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
    if (n <= 0) {
      if (!buf.empty()) shell.ExecuteLine(buf);
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  return shell.last_status();
}

}  // namespace

int RunInteractive(Shell& shell) {
  g_shell = &shell;
  std::printf("Welcome to Aviary!\n");
  bool tty = isatty(STDIN_FILENO) != 0;
  std::printf(tty ? "Line editing (libedit) is enabled\n" : "Line editing is disabled\n");
  std::fflush(stdout);
  int rc = tty ? RunTerminal(shell) : RunPiped(shell);
  if (shell.session() && shell.session()->alive()) shell.session()->Close();
  return rc;
}

}  // namespace aviary::cli
