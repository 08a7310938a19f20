// The command interpreter shared by one-shot, piped and interactive modes:
// zkCli's built-ins (connect, close, quit, history, redo, printwatches, help)
// around the command table, and the printing of watch events. One thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "cli.h"

namespace aviary::cli {

class Shell {
 public:
  explicit Shell(Context& ctx) : ctx_(ctx) {}
  // Opens the session to `server`; prints the error and returns false on failure.
  bool Connect(const std::string& server, bool quiet);
  // Runs one tokenized command; returns its exit status.
  int Run(const Args& args);
  // Runs a typed line: history numbering as zkCli (empty lines ignored).
  int ExecuteLine(const std::string& line);
  std::string Prompt() const;
  bool quit() const { return quit_; }
  int last_status() const { return last_status_; }
  client::Session* session() { return session_.get(); }
  // When false (one-shot), connection state events are not printed.
  bool print_state_events = true;
  // Called after an event was printed (the terminal mode redraws its prompt).
  std::function<void()> after_event;

 private:
  int Builtin(const Args& args, bool* handled);
  void PrintEvent(const client::WatchEvent& ev) const;
  void PrintUsage() const;

  Context& ctx_;
  std::unique_ptr<client::Session> session_;
  std::string host_;
  std::map<int, std::string> history_;
  int count_ = 0;
  bool quit_ = false;
  int last_status_ = 0;
};

}  // namespace aviary::cli
