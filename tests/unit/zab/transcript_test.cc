// Data-driven scenario transcripts (testdata/*.txt), in the style of etcd
// raft's testdata: each block is a command, "----", and the output it must
// produce, then a blank line. The commands drive a sim::World with fixed
// latencies, so the output (trace of quorum packets, roles, storage events,
// client results, status) is deterministic. AVIARY_REWRITE=1 rewrites the
// expected outputs from the actual ones (review the diff before committing).
//
// Commands:
//   ensemble voters=N [observers=M] [replay=1] [channels=1]
//                                     a new world (fixed 2 ms network, 1 ms fsync);
//                                     replay=1: a restart applies the whole log (as the
//                                     real server), a TRUNC below it reloads the state;
//                                     channels=1: election channels report down/up
//   start ID... | all                 start servers (from their disks)
//   crash ID                          crash: the unsynced log is lost
//   partition A B | C ...             groups separated by '|'
//   heal
//   compact ID                        snapshot the applied state, trim the log
//   write VIA KEY=VALUE               a client write through server VIA
//   run MS                            advance time; prints the trace
//   status                            every server's state and data
//   log ID                            the zxids in ID's log (* = not durable)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "../source_dir.h"
#include "base/log.h"
#include "world.h"

namespace aviary::sim {
namespace {

struct Block {
  std::string comments;  // lines before the command
  std::string command;
  std::string expected;
};

std::vector<Block> Parse(const std::string& text) {
  std::vector<Block> blocks;
  std::istringstream in(text);
  std::string line;
  Block b;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      b.comments += line + "\n";
      continue;
    }
    b.command = line;
    std::getline(in, line);  // ----
    while (std::getline(in, line) && !line.empty()) b.expected += line + "\n";
    blocks.push_back(b);
    b = Block{};
  }
  return blocks;
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

class Runner {
 public:
  std::string Do(const std::string& command) {
    out_.clear();
    std::vector<std::string> w = Words(command);
    const std::string& op = w[0];
    if (op == "ensemble") return Ensemble(w);
    if (op == "start") {
      for (size_t i = 1; i < w.size(); ++i) {
        if (w[i] == "all") {
          for (ServerId id : world_->ids()) world_->Start(id);
        } else {
          world_->Start(std::stoll(w[i]));
        }
      }
    } else if (op == "crash") {
      world_->Crash(std::stoll(w[1]));
    } else if (op == "partition") {
      std::vector<std::set<ServerId>> groups(1);
      for (size_t i = 1; i < w.size(); ++i) {
        if (w[i] == "|") {
          groups.emplace_back();
        } else {
          groups.back().insert(std::stoll(w[i]));
        }
      }
      world_->Partition(groups);
    } else if (op == "heal") {
      world_->Heal();
    } else if (op == "compact") {
      world_->Compact(std::stoll(w[1]));
    } else if (op == "write") {
      Write(std::stoll(w[1]), w[2]);
    } else if (op == "run") {
      world_->RunFor(std::stoll(w[1]));
    } else if (op == "status") {
      for (ServerId id : world_->ids()) out_ += world_->Status(id) + "\n";
    } else if (op == "log") {
      out_ += world_->LogOf(std::stoll(w[1])) + "\n";
    } else {
      return "unknown command\n";
    }
    for (const auto& f : world_->checker().failures()) out_ += "CHECKER: " + f + "\n";
    return out_.empty() ? "ok\n" : out_;
  }

 private:
  std::string Ensemble(const std::vector<std::string>& w) {
    Options o;
    o.channel_reports = false;  // channels=1 turns the election channel reports on
    for (size_t i = 1; i < w.size(); ++i) {
      size_t eq = w[i].find('=');
      std::string k = w[i].substr(0, eq);
      int v = std::stoi(w[i].substr(eq + 1));
      if (k == "voters") o.voters = v;
      if (k == "observers") o.observers = v;
      if (k == "replay") o.replay_log_at_start = v != 0;
      if (k == "channels") o.channel_reports = v != 0;
    }
    o.net_min_ms = o.net_max_ms = 2;
    o.fsync_min_ms = o.fsync_max_ms = 1;
    o.step_ms = 10;
    world_ = std::make_unique<World>(o);
    world_->SetTrace([this](const std::string& line) { out_ += line + "\n"; });
    return "ok\n";
  }

  void Write(ServerId via, const std::string& kv) {
    size_t eq = kv.find('=');
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    World* w = world_.get();
    world_->Write(0, via, key, value, [this, w, kv](bool ok, Zxid zxid) {
      out_ += fmt::format("{:>6} client write {} {}\n", w->now(), kv,
                          ok ? fmt::format("ok at {:#x}", zxid) : std::string("failed"));
    });
  }

  std::unique_ptr<World> world_;
  std::string out_;
};

std::vector<std::filesystem::path> Files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(AviarySourceDir()) + "/tests/unit/zab/testdata")) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ZabTranscript, AllFiles) {
  log::SetLevel(log::kError);
  bool rewrite = std::getenv("AVIARY_REWRITE") != nullptr;
  std::vector<std::filesystem::path> files = Files();
  ASSERT_GE(files.size(), 6u);
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Runner runner;
    std::string rewritten;
    for (const Block& b : Parse(text.str())) {
      std::string actual = runner.Do(b.command);
      if (!rewrite) {
        EXPECT_EQ(b.expected, actual) << path.filename() << ": " << b.command;
      }
      rewritten += b.comments + b.command + "\n----\n" + actual + "\n";
    }
    if (rewrite) std::ofstream(path) << rewritten;
  }
}

}  // namespace
}  // namespace aviary::sim
