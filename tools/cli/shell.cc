#include "shell.h"

#include <algorithm>
#include <cstdio>

namespace aviary::cli {

namespace {

std::string StateText(proto::KeeperState s) {
  switch (s) {
    case proto::KeeperState::kDisconnected:
      return "Disconnected";
    case proto::KeeperState::kNoSyncConnected:
      return "NoSyncConnected";
    case proto::KeeperState::kSyncConnected:
      return "SyncConnected";
    case proto::KeeperState::kAuthFailed:
      return "AuthFailed";
    case proto::KeeperState::kConnectedReadOnly:
      return "ConnectedReadOnly";
    case proto::KeeperState::kSaslAuthenticated:
      return "SaslAuthenticated";
    case proto::KeeperState::kExpired:
      return "Expired";
    case proto::KeeperState::kClosed:
      return "Closed";
    default:
      return "Unknown";
  }
}

std::string TypeText(proto::EventType t) {
  switch (t) {
    case proto::EventType::kNone:
      return "None";
    case proto::EventType::kNodeCreated:
      return "NodeCreated";
    case proto::EventType::kNodeDeleted:
      return "NodeDeleted";
    case proto::EventType::kNodeDataChanged:
      return "NodeDataChanged";
    case proto::EventType::kNodeChildrenChanged:
      return "NodeChildrenChanged";
    case proto::EventType::kDataWatchRemoved:
      return "DataWatchRemoved";
    case proto::EventType::kChildWatchRemoved:
      return "ChildWatchRemoved";
    case proto::EventType::kPersistentWatchRemoved:
      return "PersistentWatchRemoved";
  }
  return "Unknown";
}

const char* const kBuiltinUsage[][2] = {{"connect", "host:port"},   {"close", ""}, {"history", ""}, {"redo", "cmdno"},
                                        {"printwatches", "on|off"}, {"quit", ""},  {"help", ""}};

}  // namespace

void Shell::PrintEvent(const client::WatchEvent& ev) const {
  if (!ctx_.print_watches) return;
  if (ev.type == proto::EventType::kNone && !print_state_events) return;
  std::printf("\nWATCHER::\n\nWatchedEvent state:%s type:%s path:%s\n", StateText(ev.state).c_str(),
              TypeText(ev.type).c_str(), ev.path.empty() ? "null" : ev.path.c_str());
  std::fflush(stdout);
  if (after_event) after_event();
}

bool Shell::Connect(const std::string& server, bool quiet) {
  if (session_ && session_->alive()) session_->Close();
  host_ = server;
  client::SessionOptions opts = ctx_.session_opts;
  opts.connect_string = server;
  session_ = std::make_unique<client::Session>(opts);
  session_->on_event = [this](const client::WatchEvent& ev) { PrintEvent(ev); };
  ctx_.zk = session_.get();
  std::string error;
  if (session_->Connect(&error)) return true;
  if (!quiet) std::fprintf(stderr, "%s\n", error.c_str());
  return false;
}

std::string Shell::Prompt() const {
  std::string state = session_ ? std::string(client::StateName(session_->state())) : "CLOSED";
  return "[zk: " + host_ + "(" + state + ") " + std::to_string(count_) + "] ";
}

void Shell::PrintUsage() const {
  std::vector<std::pair<std::string, std::string>> all;
  for (const auto& c : Commands()) all.emplace_back(c.name, c.usage);
  for (const auto& b : kBuiltinUsage) all.emplace_back(b[0], b[1]);
  std::sort(all.begin(), all.end());
  std::fprintf(stderr, "aviary -server host:port[,host:port...][/chroot] [-timeout ms] [-r] [--json] cmd args\n");
  for (const auto& [name, usage] : all) std::fprintf(stderr, "\t%s %s\n", name.c_str(), usage.c_str());
}

int Shell::Builtin(const Args& args, bool* handled) {
  *handled = true;
  const std::string& cmd = args[0];
  if (cmd == "quit") {
    if (session_) session_->Close();
    quit_ = true;
    return kOk;
  }
  if (cmd == "close") {
    if (session_) session_->Close();
    return kOk;
  }
  if (cmd == "version") {
    std::printf("Aviary CLI version: %s\n", AVIARY_VERSION);
    return kOk;
  }
  if (cmd == "help") {
    PrintUsage();
    return kOk;
  }
  if (cmd == "history") {
    for (int i = std::max(0, count_ - 10); i <= count_; i++) {
      if (history_.count(i)) std::printf("%d - %s\n", i, history_[i].c_str());
    }
    return kOk;
  }
  if (cmd == "printwatches") {
    if (args.size() == 1) {
      std::printf("printwatches is %s\n", ctx_.print_watches ? "on" : "off");
    } else {
      ctx_.print_watches = args[1] == "on";
    }
    return kOk;
  }
  if (cmd == "connect") return Connect(args.size() >= 2 ? args[1] : host_, false) ? kOk : kFailed;
  if (cmd == "redo" && args.size() >= 2) {
    int64_t i = -1;
    if (!ParseInt(args[1], &i) || i < 0 || i >= count_) return Fail(ctx_, "Command index out of range");
    Args again = Tokenize(history_[static_cast<int>(i)]);
    if (!again.empty() && again[0] == "redo") return Fail(ctx_, "No redoing redos");
    history_[count_] = history_[static_cast<int>(i)];
    return Run(again);
  }
  *handled = false;
  return kOk;
}

int Shell::Run(const Args& args) {
  if (args.empty()) {
    PrintUsage();
    return Fail(ctx_, "No command entered");
  }
  bool handled = false;
  int rc = Builtin(args, &handled);
  if (handled) return last_status_ = rc;
  const Command* c = FindCommand(args[0]);
  if (c == nullptr) {
    PrintUsage();
    Fail(ctx_, "Command not found: " + args[0]);
    return last_status_ = kNotFound;
  }
  if (session_ == nullptr || session_->state() == client::State::kClosed) {
    std::printf("Not connected\n");
    return last_status_ = kFailed;
  }
  rc = c->run(ctx_, args);
  std::fflush(stdout);
  return last_status_ = rc;
}

int Shell::ExecuteLine(const std::string& line) {
  if (line.empty()) return last_status_;
  Args args = Tokenize(line);
  if (args.empty()) return last_status_;
  history_[count_] = line;
  int rc = Run(args);
  count_++;
  return rc;
}

}  // namespace aviary::cli
