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

void Gateway::append_and_answer(ByteSpan tx, httplib::Response& res) {
  Result<ledger::Appended> appended = log_.append(tx);
  if (!appended) {
    ++refused_;
    res.status = 503;
    res.set_content(nlohmann::json{{"error", appended.status().to_string()}}.dump(),
                    "application/json");
    return;
  }
  ++appended_;
  res.set_content(
      nlohmann::json{{"sequence", appended->sequence}, {"entry_time", appended->entry_time.value()}}
          .dump(),
      "application/json");
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
    if (req.has_header("Pfex-Ledger-Time")) {
      const std::string text = req.get_header_value("Pfex-Ledger-Time");
      char* end = nullptr;
      const long long ms = std::strtoll(text.c_str(), &end, 10);
      if (!options_.scripted_clock || text.empty() || *end != '\0' || ms < 0) {
        ++refused_;
        res.status = 403;  // the request, not the transaction: the node keeps it pending
        res.set_content(
            nlohmann::json{{"error", options_.scripted_clock
                                         ? "Pfex-Ledger-Time must be milliseconds >= 0"
                                         : "this gateway stamps its own clock (no scripted time)"}}
                .dump(),
            "application/json");
        return;
      }
      // Serialised with the append, so a scripted time is the one its own entry is stamped with.
      std::lock_guard lock(scripted_mutex_);
      options_.scripted_clock(LedgerTime(ms));
      append_and_answer(tx, res);
      return;
    }
    append_and_answer(tx, res);
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
