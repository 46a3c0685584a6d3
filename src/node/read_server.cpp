// The read-only HTTP server; see read_server.hpp.
#include "node/read_server.hpp"

#include <httplib.h>

namespace pfex::node {

ReadServer::ReadServer(std::string host, std::uint16_t port)
    : host_(std::move(host)), port_(port), server_(std::make_unique<httplib::Server>()) {}

ReadServer::~ReadServer() {
  stop();
}

void ReadServer::get(const std::string& path, std::function<std::string()> body) {
  server_->Get(path, [body = std::move(body)](const httplib::Request&, httplib::Response& res) {
    res.set_content(body(), "application/json");
  });
}

Result<std::uint16_t> ReadServer::start() {
  server_->set_read_timeout(std::chrono::seconds(5));
  server_->set_write_timeout(std::chrono::seconds(5));
  const int port = port_ == 0 ? server_->bind_to_any_port(host_)
                              : (server_->bind_to_port(host_, port_) ? port_ : -1);
  if (port <= 0) {
    return Status::io_error("cannot listen on " + host_ + ":" + std::to_string(port_));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return static_cast<std::uint16_t>(port);
}

void ReadServer::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace pfex::node
