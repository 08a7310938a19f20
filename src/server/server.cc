#include "server/server.h"

#include "admin/four_letter.h"
#include "base/log.h"
#include "proto/codec.h"
#include "server/core_state.h"

namespace aviary::server {

Server::Server(ServerOptions options) : opts_(std::move(options)) {
  opts_.net.max_frame_bytes = opts_.core.max_buffer;
  committer_ = std::make_unique<LocalCommitter>();
  core_ = std::make_unique<Core>(opts_.core, committer_.get(), this);
  if (opts_.global_outstanding_limit > 0) {
    Core* core = core_.get();
    int64_t limit = opts_.global_outstanding_limit;
    opts_.net.throttled = [core, limit] { return core->Backlog() > limit; };
  }
  net_ = std::make_unique<net::ConnectionServer>(opts_.net, this,
                                                 [](std::string_view w) { return admin::IsFourLetterWord(w); });
}

Server::~Server() { Stop(); }

bool Server::Start(std::string* error) {
  if (!net_->Start(error)) return false;
  core_thread_ = std::thread([this] { core_->Run(); });
  started_ = true;
  return true;
}

void Server::Stop() {
  if (!started_) return;
  started_ = false;
  // Core first: once it is joined nothing posts to the network any more.
  core_->RequestStop();
  if (core_thread_.joinable()) core_thread_.join();
  net_->Stop();
}

void Server::OnFrames(std::vector<net::Frame>& frames) {
  std::vector<CoreEvent> events;
  events.reserve(frames.size());
  int64_t now_us = SteadyNowUs();
  for (auto& f : frames) {
    CoreEvent ev;
    ev.conn = f.conn;
    ev.received_us = now_us;
    switch (f.kind) {
      case net::Frame::Kind::kOpened:
        ev.kind = CoreEvent::Kind::kOpened;
        ev.text = std::move(f.data);
        break;
      case net::Frame::Kind::kClosed:
        ev.kind = CoreEvent::Kind::kClosed;
        break;
      case net::Frame::Kind::kFourLetter:
        ev.kind = CoreEvent::Kind::kFourLetter;
        ev.text = std::move(f.data);
        break;
      case net::Frame::Kind::kPayload:
        if (f.first) {
          ev.kind = proto::DecodeConnectRequest(f.data, &ev.connect) ? CoreEvent::Kind::kConnect
                                                                     : CoreEvent::Kind::kProtocolError;
        } else {
          ev.kind = CoreEvent::Kind::kRequest;
          ev.decode_err = proto::DecodeRequest(f.data, &ev.request);
          if (f.data.size() < 8) ev.kind = CoreEvent::Kind::kProtocolError;  // not even a header: close
        }
        break;
    }
    events.push_back(std::move(ev));
  }
  core_->Post(events);
}

void Server::Deliver(std::vector<net::ConnectionServer::Out>& batch) { net_->SendBatch(batch); }

void Server::CloseNow(net::ConnId conn) { net_->Close(conn); }

}  // namespace aviary::server
