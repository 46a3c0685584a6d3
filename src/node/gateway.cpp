// The submission gateway; see gateway.hpp and docs/node/gateway.md.
#include "node/gateway.hpp"

#include <strings.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "node/log_adapter.hpp"

namespace pfex::node {
namespace {

using json = nlohmann::json;

constexpr std::size_t kCatchUpBatch = 1024;

net::HttpResponse json_reply(int status, const json& body) {
  return net::HttpResponse{status, "application/json", body.dump()};
}

// "application/octet-stream", in any case, with or without parameters.
bool is_transaction_media_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  return type.size() == kTransactionMediaType.size() &&
         ::strncasecmp(type.data(), kTransactionMediaType.data(), type.size()) == 0;
}

std::string short_hex(const Digest32& id) {
  return to_hex(id).substr(0, 16);
}

}  // namespace

Result<protocol::Entry> check_submission(ByteSpan tx, bool verify_signature,
                                         const protocol::MarketContext& market) {
  PFEX_ASSIGN_OR_RETURN(protocol::Entry entry, protocol::decode_entry(tx, market));
  const auto* transparent = std::get_if<protocol::TransparentTx>(&entry);
  if (transparent && verify_signature && !protocol::verify_transparent(tx, *transparent)) {
    return Status::invalid_argument("bad signature");
  }
  return entry;
}

Gateway::Gateway(ledger::Log& log, GatewayOptions options)
    : log_(log),
      options_(std::move(options)),
      server_(net::HttpServerOptions{
          .host = options_.host,
          .port = options_.port,
          .max_body_bytes = protocol::kMaxTransactionBytes,
          .request_deadline = options_.request_deadline,
          .max_connections = options_.max_connections,
          // Workers mostly wait on the log; more of them let concurrent appends share an fsync.
          .handler_threads = 16,
      }) {}

Gateway::~Gateway() {
  stop();
}

net::HttpResponse Gateway::refuse(int status, const std::string& why) {
  ++refused_;
  return json_reply(status, {{"error", why}});
}

Status Gateway::catch_up() {
  for (;;) {
    PFEX_ASSIGN_OR_RETURN(std::vector<ledger::LogEntry> entries,
                          log_.read(replica_.next_sequence(), kCatchUpBatch));
    if (entries.empty()) return Status::ok();
    for (const auto& entry : entries)
      remember(blake2b_256(entry.payload), entry.sequence);
    PFEX_RETURN_IF_ERROR(replica_.apply_batch(to_protocol_entries(std::move(entries))).status());
  }
}

void Gateway::remember(const Digest32& hash, std::uint64_t sequence) {
  if (options_.recent_hashes == 0) return;
  // The same bytes twice in the log (written before the gateway checked): the first is kept.
  if (!in_log_.emplace(hash, sequence).second) return;
  recent_.emplace(sequence, hash);
  while (recent_.size() > options_.recent_hashes) {
    const auto oldest = recent_.begin();
    in_log_.erase(oldest->second);
    recent_.erase(oldest);
  }
}

// Answered on the server's I/O thread, even when every worker is busy: it never blocks.
net::HttpResponse Gateway::health() {
  std::lock_guard lock(health_mutex_);
  if (!last_append_.is_ok()) {
    return json_reply(503, {{"status", "not ok"},
                            {"error", "the last append failed: " + last_append_.to_string()}});
  }
  if (!appends_running_since_.empty()) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - *appends_running_since_.begin());
    if (waited > options_.stalled_append) {
      return json_reply(503, {{"status", "not ok"},
                              {"error", "an append has been waiting for the log for " +
                                            std::to_string(waited.count()) + " ms"}});
    }
  }
  return net::HttpResponse{200, "text/plain", "ok\n"};
}

net::HttpResponse Gateway::check_against_replica(ByteSpan tx, const protocol::Entry& entry,
                                                 const Digest32& hash, bool& passed,
                                                 std::optional<priv::DetachedTx>& detached) {
  passed = false;
  if (Status read = catch_up(); !read.is_ok()) {
    return refuse(503, "cannot read the log to check the transaction: " + read.to_string());
  }
  if (auto it = in_log_.find(hash); it != in_log_.end()) {
    ++refused_;
    return json_reply(409,
                      {{"error", "already in the log at sequence " + std::to_string(it->second)},
                       {"sequence", it->second}});
  }
  if (in_flight_.contains(hash)) return refuse(409, "the same transaction is being appended now");
  const auto& market = replica_.market_id();
  if (std::holds_alternative<protocol::Genesis>(entry)) {
    if (market)
      return refuse(409, "the log already has a genesis (market " + short_hex(*market) + ")");
    const protocol::MarketId id = protocol::market_id_of(tx);
    if (!options_.market || id != *options_.market) {
      return refuse(400, "genesis of market " + short_hex(id) + "; this gateway serves " +
                             (options_.market ? "market " + short_hex(*options_.market)
                                              : std::string("no market")));
    }
  } else if (std::holds_alternative<protocol::DkgMessage>(entry) ||
             std::holds_alternative<protocol::DecryptionShares>(entry)) {
    // A validator's key-generation message (its session checks signature, round and content) or
    // decryption shares (the ledger checks signature, round and DLEQ proofs).
    if (replica_.key_generation() == nullptr) {
      return refuse(400, "this market's genesis started no key generation");
    }
  } else if (const auto* p = std::get_if<protocol::PrivateEntry>(&entry)) {
    const priv::PrivateLedger* ledger = replica_.private_ledger();
    if (ledger == nullptr) return refuse(400, "a private transaction in a transparent market");
    // The rules against the log as it is: a used serial, sequence or chain key is final (409);
    // any other refusal is final for these bytes (400). Then, when asked, the proofs.
    if (Status rules = ledger->check_rules(p->tx); !rules.is_ok()) {
      return refuse(rules.code() == ErrorCode::kAlreadyExists ? 409 : 400, rules.to_string());
    }
    if (options_.verify_signatures) {
      // Its statement and window copied out; the proofs are verified after the lock.
      Result<priv::DetachedTx> d = priv::detach(*ledger, p->tx);
      if (!d)
        return refuse(d.status().code() == ErrorCode::kAlreadyExists ? 409 : 400,
                      d.status().to_string());
      detached = std::move(d).value();
    }
  } else {
    const auto& transparent = std::get<protocol::TransparentTx>(entry);
    if (!market) return refuse(409, "the log has no market yet (no genesis)");
    if (transparent.market != *market) {
      return refuse(400, "transaction for market " + short_hex(transparent.market) +
                             "; this gateway serves market " + short_hex(*market));
    }
    const std::uint64_t last = replica_.last_sequence_of(transparent.signer);
    if (transparent.sequence <= last) {
      return refuse(409, "sequence number " + std::to_string(transparent.sequence) +
                             " is used: the signer's last accepted sequence is " +
                             std::to_string(last));
    }
  }
  in_flight_.insert(hash);
  passed = true;
  return {};
}

net::HttpResponse Gateway::verify_private_proofs(const priv::DetachedTx& detached,
                                                 const Digest32& hash, bool& passed) {
  passed = false;
  if (options_.before_proof_check) options_.before_proof_check();
  const priv::PrivateGens* gens = nullptr;
  {
    std::lock_guard lock(replica_mutex_);
    gens = &replica_.private_ledger()->gens();  // the replica's, for its life
  }
  const Status proofs = priv::verify_detached(*gens, detached);
  std::lock_guard lock(replica_mutex_);
  auto give_up = [&](int status, const std::string& why) {
    in_flight_.erase(hash);
    return refuse(status, why);
  };
  if (!proofs.is_ok()) return give_up(400, proofs.to_string());
  // The log may have moved while the proofs were checked: the cheap rules again, and the
  // statement the proofs were checked against must still be the transaction's.
  if (Status read = catch_up(); !read.is_ok()) {
    return give_up(503, "cannot read the log to check the transaction: " + read.to_string());
  }
  if (auto it = in_log_.find(hash); it != in_log_.end()) {
    in_flight_.erase(hash);
    ++refused_;
    return json_reply(409,
                      {{"error", "already in the log at sequence " + std::to_string(it->second)},
                       {"sequence", it->second}});
  }
  const priv::PrivateLedger& ledger = *replica_.private_ledger();
  if (Status rules = ledger.check_rules(detached.tx); !rules.is_ok()) {
    return give_up(rules.code() == ErrorCode::kAlreadyExists ? 409 : 400, rules.to_string());
  }
  if (!priv::same_statement(detached.statement, priv::resolve_statement(ledger, detached.tx))) {
    return give_up(409,
                   "the log changed this transaction's statement while its proofs were checked "
                   "(an entry before it moved its cash, order or terms): build it again");
  }
  passed = true;
  return {};
}

net::HttpResponse Gateway::append_and_answer(ByteSpan tx, const Digest32& hash) {
  std::multiset<std::chrono::steady_clock::time_point>::iterator running;
  {
    std::lock_guard lock(health_mutex_);
    running = appends_running_since_.insert(std::chrono::steady_clock::now());
  }
  Result<ledger::Appended> appended = log_.append(tx);
  {
    std::lock_guard lock(health_mutex_);
    appends_running_since_.erase(running);
    last_append_ = appended.status();
  }
  {
    std::lock_guard lock(replica_mutex_);
    in_flight_.erase(hash);
    if (appended.is_ok()) remember(hash, appended->sequence);
  }
  if (!appended) return refuse(503, appended.status().to_string());
  ++appended_;
  return json_reply(
      200, {{"sequence", appended->sequence}, {"entry_time", appended->entry_time.value()}});
}

net::HttpResponse Gateway::submit(const net::HttpRequest& request) {
  if (!is_transaction_media_type(request.content_type)) {
    return refuse(415, "Content-Type must be " + std::string(kTransactionMediaType) + ", not \"" +
                           request.content_type.substr(0, 100) + "\"");
  }
  const ByteSpan tx(reinterpret_cast<const std::uint8_t*>(request.body.data()),
                    request.body.size());
  // A private transaction decodes with the window size of the log's market.
  protocol::MarketContext market;
  {
    std::lock_guard lock(replica_mutex_);
    if (!replica_.mode()) (void)catch_up();  // a failure to read is answered by the checks below
    market = replica_.context();
  }
  Result<protocol::Entry> entry = check_submission(tx, options_.verify_signatures, market);
  if (!entry) return refuse(400, entry.status().to_string());
  std::optional<LedgerTime> scripted;
  if (const std::string* text = request.header("Pfex-Ledger-Time")) {
    std::int64_t ms = -1;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), ms);
    if (!options_.scripted_clock || error != std::errc() || end != text->data() + text->size() ||
        ms < 0) {
      // The request, not the transaction: the node keeps it pending.
      return refuse(403, options_.scripted_clock
                             ? "Pfex-Ledger-Time must be milliseconds >= 0"
                             : "this gateway stamps its own clock (no scripted time)");
    }
    scripted = LedgerTime(ms);
  }
  const Digest32 hash = blake2b_256(tx);
  std::optional<priv::DetachedTx> detached;
  {
    std::lock_guard lock(replica_mutex_);
    bool passed = false;
    net::HttpResponse refused = check_against_replica(tx, *entry, hash, passed, detached);
    if (!passed) return refused;
  }
  if (detached) {
    bool passed = false;
    net::HttpResponse refused = verify_private_proofs(*detached, hash, passed);
    if (!passed) return refused;
  }
  if (!scripted) return append_and_answer(tx, hash);
  // Serialised with the append, so a scripted time is the one its own entry is stamped with.
  std::lock_guard lock(scripted_mutex_);
  options_.scripted_clock(*scripted);
  return append_and_answer(tx, hash);
}

Result<std::uint16_t> Gateway::start() {
  {
    std::lock_guard lock(replica_mutex_);
    PFEX_RETURN_IF_ERROR(catch_up().with_context("gateway: replaying the log"));
    const auto& market = replica_.market_id();
    if (!market && !options_.market) {
      return Status::failed_precondition(
          "the log holds no market yet: tell the gateway which market it serves (--market ID), "
          "so that it appends that market's genesis and no other");
    }
    if (market && options_.market && *market != *options_.market) {
      return Status::failed_precondition("the log holds market " + to_hex(*market) +
                                         ", not the market " + to_hex(*options_.market) +
                                         " this gateway was told to serve");
    }
  }
  server_.route(
      "GET", "/v1/health", [this](const net::HttpRequest&) { return health(); },
      net::HttpServer::RunOn::kIoThread);
  server_.route("POST", "/v1/tx", [this](const net::HttpRequest& r) { return submit(r); });
  return server_.start();
}

void Gateway::stop() {
  server_.stop();
}

}  // namespace pfex::node
