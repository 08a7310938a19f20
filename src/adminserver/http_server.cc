// The only file that includes <httplib.h> (it is large).
#include "adminserver/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

namespace aviary::adminserver {
namespace {

std::string RegexEscape(const std::string& s) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, kSpecial, R"(\$&)");
}

// JettyAdminServer.commandLinks, one "<a ...>" line and one "<br/>" each.
std::string CommandLinks(const std::string& url) {
  std::string out;
  for (const std::string& name : PrimaryNames()) {
    out += "<a href=\"" + url + "/" + name + "\">" + name + "</a>\n<br/>\n";
  }
  return out;
}

void SendFile(const std::string& path, httplib::Response& res) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    res.status = 500;
    return;
  }
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  auto file = std::shared_ptr<FILE>(f, [path](FILE* p) {
    std::fclose(p);
    ::unlink(path.c_str());
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) ::rmdir(path.substr(0, slash).c_str());  // only when empty
  });
  res.set_content_provider(
      static_cast<size_t>(size), "application/octet-stream",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[64 * 1024];
        std::fseek(file.get(), static_cast<long>(offset), SEEK_SET);
        size_t n = std::fread(buf, 1, std::min(length, sizeof buf), file.get());
        if (n == 0) return false;
        sink.write(buf, n);
        return true;
      },
      [file](bool) {});
}

}  // namespace

AdminHttpServer::AdminHttpServer(HttpOptions opts, AdminBackend* backend)
    : opts_(std::move(opts)), backend_(backend), http_(std::make_unique<httplib::Server>()) {
  Install();
}

AdminHttpServer::~AdminHttpServer() { Stop(); }

void AdminHttpServer::Install() {
  const int threads = opts_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  const time_t idle_s = static_cast<time_t>(std::max<int64_t>(1, opts_.idle_timeout_ms / 1000));
  http_->set_keep_alive_timeout(idle_s);
  http_->set_read_timeout(idle_s, 0);
  http_->set_write_timeout(idle_s, 0);
  http_->set_payload_max_length(static_cast<size_t>(opts_.max_body_bytes));
  // httplib's default sets SO_REUSEPORT: a second server would then share a
  // busy port silently. SO_REUSEADDR only, so a busy port fails the bind.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto handle = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (name.empty()) return res.set_content(CommandLinks(opts_.command_url), "text/html");
    const CommandSpec* spec = FindCommand(name);
    if (spec == nullptr) return res.set_content(RenderUnknown(name), "application/json");
    AdminRequest ar;
    ar.spec = spec;
    ar.post = req.method == "POST";
    for (const auto& [k, v] : req.params) ar.params.emplace(k, v);  // the first value of each
    ar.authorization = req.get_header_value("Authorization");
    ar.remote_ip = req.remote_addr;
    if (spec->post != ar.post && !(spec->id == CommandId::kSnapshot)) {
      CommandResult r;
      r.status = 405;
      r.error = std::string(spec->primary) + (spec->post ? " is a POST command" : " is a GET command");
      res.status = r.status;
      return res.set_content(RenderJson(*spec, r), "application/json");
    }
    bool body_read = reader == nullptr;
    if (reader != nullptr) {
      const size_t limit = static_cast<size_t>(opts_.max_body_bytes);
      ar.read_body = [reader, limit, &body_read](std::string* out) {
        body_read = true;
        return (*reader)([out, limit](const char* data, size_t n) {
          if (out->size() + n > limit) return false;
          out->append(data, n);
          return true;
        });
      };
    }
    CommandResult r = backend_->RunCommand(ar);
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    if (!body_read) res.set_header("Connection", "close");  // the unread body ends this connection
    if (!r.stream_file.empty()) return SendFile(r.stream_file, res);
    res.set_content(RenderJson(*spec, r), "application/json");
  };
  const std::string pattern = RegexEscape(opts_.command_url) + "(/.*)?";
  http_->Get(pattern, [handle](const httplib::Request& req, httplib::Response& res) { handle(req, res, nullptr); });
  http_->Post(pattern, [handle](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) { handle(req, res, &reader); });
}

bool AdminHttpServer::Start(std::string* error) {
  const int port = opts_.port == 0 ? http_->bind_to_any_port(opts_.address)
                                   : (http_->bind_to_port(opts_.address, opts_.port) ? opts_.port : -1);
  if (port <= 0) {
    *error = "cannot bind the AdminServer to " + opts_.address + ":" + std::to_string(opts_.port);
    return false;
  }
  bound_port_ = static_cast<uint16_t>(port);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return true;
}

void AdminHttpServer::Stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

}  // namespace aviary::adminserver
