// The read-only HTTP server; see read_server.hpp.
#include "node/read_server.hpp"

namespace pfex::node {

ReadServer::ReadServer(std::string host, std::uint16_t port)
    : server_(net::HttpServerOptions{.host = std::move(host), .port = port}) {}

ReadServer::~ReadServer() {
  stop();
}

void ReadServer::get(const std::string& path, std::function<std::string()> body) {
  server_.route("GET", path, [body = std::move(body)](const net::HttpRequest&) {
    return net::HttpResponse{200, "application/json", body()};
  });
}

Result<std::uint16_t> ReadServer::start() {
  return server_.start();
}

void ReadServer::stop() {
  server_.stop();
}

}  // namespace pfex::node
