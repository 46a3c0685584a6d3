// The submission gateway; see gateway.hpp and docs/node/gateway.md.
#include "node/gateway.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "protocol/transaction.hpp"

namespace pfex::node {

Status check_submission(ByteSpan tx, bool verify_signature) {
  PFEX_ASSIGN_OR_RETURN(protocol::Entry entry, protocol::decode_entry(tx));
  const auto* transparent = std::get_if<protocol::TransparentTx>(&entry);
  if (transparent && verify_signature && !protocol::verify_transparent(tx, *transparent)) {
    return Status::invalid_argument("bad signature");
  }
  return Status::ok();
}

Gateway::Gateway(ledger::Log& log, GatewayOptions options)
    : log_(log), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

Gateway::~Gateway() {
  stop();
}

Result<std::uint16_t> Gateway::start() {
  server_->set_payload_max_length(protocol::kMaxTransactionBytes);
  server_->set_read_timeout(std::chrono::seconds(5));
  server_->set_write_timeout(std::chrono::seconds(5));
  server_->Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Post("/v1/tx", [this](const httplib::Request& req, httplib::Response& res) {
    const ByteSpan tx(reinterpret_cast<const std::uint8_t*>(req.body.data()), req.body.size());
    Status checked = check_submission(tx, options_.verify_signatures);
    if (!checked) {
      ++refused_;
      res.status = 400;
      res.set_content(nlohmann::json{{"error", checked.to_string()}}.dump(), "application/json");
      return;
    }
    Result<ledger::Appended> appended = log_.append(tx);
    if (!appended) {
      ++refused_;
      res.status = 503;
      res.set_content(nlohmann::json{{"error", appended.status().to_string()}}.dump(),
                      "application/json");
      return;
    }
    ++appended_;
    res.set_content(nlohmann::json{{"sequence", appended->sequence},
                                   {"entry_time", appended->entry_time.value()}}
                        .dump(),
                    "application/json");
  });
  const int port = options_.port == 0
                       ? server_->bind_to_any_port(options_.host)
                       : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) {
    return Status::io_error("gateway cannot listen on " + options_.host + ":" +
                            std::to_string(options_.port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only interrupts a server that is running: wait for it, so start-then-stop cannot hang.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return static_cast<std::uint16_t>(port);
}

void Gateway::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace pfex::node
