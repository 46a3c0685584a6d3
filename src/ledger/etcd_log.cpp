// EtcdLog over etcd's JSON gateway (/v3/kv/txn, /v3/kv/range, /v3/watch) with net::HttpClient and
// nlohmann-json. See etcd_log.hpp and docs/ledger/etcd.md.
#include "ledger/etcd_log.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "core/hash.hpp"
#include "net/http_client.hpp"

namespace pfex::ledger {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// envelope := version:u8 (= kEnvelopeVersion) entry_time:i64 payload:var_bytes
constexpr std::uint8_t kEnvelopeVersion = 1;

std::string base64(std::string_view raw) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL sodium writes
  return out;
}

std::string base64(ByteSpan raw) {
  return base64(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

Result<Bytes> unbase64(const std::string& text) {
  Bytes out(text.size() / 4 * 3 + 3);
  std::size_t length = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Status::corruption("etcd: invalid base64 in response");
  }
  out.resize(length);
  return out;
}

// The gateway encodes int64 fields as decimal strings and omits fields equal to zero.
std::uint64_t u64_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (!it->is_string()) return 0;
  const auto& text = it->get_ref<const std::string&>();
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : 0;
}

// First key after every key that starts with `prefix`: the range_end of a prefix range.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<unsigned char>(prefix.back());
    if (last < 0xFF) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // "all keys"
}

std::string entry_key(const std::string& prefix, ByteSpan payload) {
  return prefix + to_hex(blake2b_256(payload));
}

Bytes encode_envelope(LedgerTime time, ByteSpan payload) {
  Bytes out;
  Writer w(&out);
  w.u8(kEnvelopeVersion);
  w.i64(time.value());
  w.var_bytes(payload);
  return out;
}

// Decodes one key-value of the gateway's JSON into a LogEntry, checking that it is a
// create-only entry whose key is the hash of its payload.
// Pruning metadata values: a sequence as 20 zero-padded decimal digits, so that etcd's bytewise
// order of values is their numeric order.
std::string sequence_value(std::uint64_t sequence) {
  std::string digits = std::to_string(sequence);
  return std::string(20 - digits.size(), '0') + digits;
}

// The sequence stored in a metadata key's value, from its range response; `absent` if none.
Result<std::uint64_t> sequence_from(const json& kv) {
  auto raw = unbase64(kv.value("value", std::string()));
  if (!raw.is_ok()) return raw.status();
  const std::string text(raw->begin(), raw->end());
  if (text.size() != 20 || text.find_first_not_of("0123456789") != std::string::npos) {
    return Status::corruption("etcd log: malformed pruning metadata \"" + text.substr(0, 40) +
                              "\"");
  }
  return static_cast<std::uint64_t>(std::stoull(text));
}

// The floor in a range response for the floor key: 1 when the log was never pruned.
std::uint64_t floor_from(const json& range_response) {
  const json kvs = range_response.value("kvs", json::array());
  if (!kvs.is_array() || kvs.empty()) return 1;
  auto floor = sequence_from(kvs[0]);
  return floor.is_ok() ? *floor : std::numeric_limits<std::uint64_t>::max();  // fail closed
}

Result<LogEntry> decode_kv_unchecked(const json& kv, const std::string& prefix) {
  PFEX_ASSIGN_OR_RETURN(Bytes key, unbase64(kv.value("key", "")));
  PFEX_ASSIGN_OR_RETURN(Bytes value, unbase64(kv.value("value", "")));
  const std::uint64_t created = u64_field(kv, "create_revision");
  const std::string key_text(key.begin(), key.end());
  auto bad = [&](std::string_view what) {
    return Status::corruption("etcd log entry " + key_text + " at revision " +
                              std::to_string(created) + ": " + std::string(what));
  };
  if (created == 0 || u64_field(kv, "mod_revision") != created) return bad("was overwritten");
  Reader r(value);
  const std::uint8_t version = r.u8_in("envelope version", kEnvelopeVersion, kEnvelopeVersion);
  const LedgerTime time{r.i64("entry_time")};
  Bytes payload = r.var_bytes("payload", static_cast<std::uint32_t>(kMaxEntryBytes));
  Status decoded = r.finish();
  if (!decoded.is_ok() || version != kEnvelopeVersion) return bad(decoded.to_string());
  if (key_text != entry_key(prefix, payload)) return bad("key is not the hash of the payload");
  return LogEntry{created, time, std::move(payload)};
}

// The gateway's JSON has the expected shape unless a member is broken or an impostor; a field of
// the wrong type makes nlohmann-json throw, which becomes an error here.
Result<LogEntry> decode_kv(const json& kv, const std::string& prefix) {
  try {
    return decode_kv_unchecked(kv, prefix);
  } catch (const json::exception& e) {
    return Status::corruption(std::string("etcd: malformed key-value in reply: ") + e.what());
  }
}

// One POST of a JSON body to one member. Transport failures and 5xx/429 replies (no leader,
// leader changed, timeout, overload) are io_error, which callers retry on the next member; other
// non-200 replies (a request etcd refuses, sent chunked) are invalid_argument and are not retried.
Result<std::string> post_once(const std::string& endpoint, const std::string& path,
                              const std::string& body, milliseconds timeout) {
  // One kept-alive connection per thread and member: a fresh TCP connection per append costs
  // more than the JSON. A connection that fails is dropped and the request retried elsewhere.
  thread_local std::map<std::string, net::HttpClient> connections;
  auto client = connections.find(endpoint);
  if (client == connections.end()) {
    PFEX_ASSIGN_OR_RETURN(net::HttpClient opened, net::HttpClient::open(endpoint));
    client = connections.emplace(endpoint, std::move(opened)).first;
  }
  auto reply = client->second.request("POST", path, body, "application/json", timeout);
  if (!reply.is_ok()) {
    connections.erase(client);
    return reply.status().with_context("etcd " + path);
  }
  if (reply->status != 200) {
    std::string what = "etcd " + endpoint + path + ": HTTP " + std::to_string(reply->status) + " " +
                       reply->body.substr(0, 200);
    if (reply->status >= 500 || reply->status == 429) return Status::io_error(what);
    return Status::invalid_argument(what);
  }
  return std::move(reply->body);
}

Result<json> parse_object(const std::string& text, std::string_view what) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::io_error("etcd " + std::string(what) + ": reply is not a JSON object");
  }
  return parsed;
}

}  // namespace

Result<std::unique_ptr<EtcdLog>> EtcdLog::open(Options options) {
  if (options.endpoints.empty()) return Status::invalid_argument("etcd log: no endpoints");
  if (options.prefix.empty()) return Status::invalid_argument("etcd log: empty key prefix");
  if (!options.clock) options.clock = system_clock_now;
  for (auto& endpoint : options.endpoints) {
    if (endpoint.find("://") == std::string::npos) endpoint.insert(0, "http://");
  }
  return std::unique_ptr<EtcdLog>(new EtcdLog(std::move(options)));
}

EtcdLog::EtcdLog(Options options) : options_(std::move(options)) {}

std::string EtcdLog::current_endpoint() const {
  return options_.endpoints[endpoint_index_.load() % options_.endpoints.size()];
}

void EtcdLog::move_to_next_endpoint(const std::string& failed) {
  std::size_t seen = endpoint_index_.load();
  if (options_.endpoints[seen % options_.endpoints.size()] == failed) {
    endpoint_index_.compare_exchange_strong(seen, seen + 1);
  }
}

Result<std::string> EtcdLog::post(const std::string& path, const std::string& body) {
  const auto deadline = Clock::now() + options_.retry_deadline;
  milliseconds backoff{20};
  for (;;) {
    const std::string endpoint = current_endpoint();
    auto reply = post_once(endpoint, path, body, options_.request_timeout);
    if (reply.is_ok() || reply.status().code() != ErrorCode::kIoError) return reply;
    move_to_next_endpoint(endpoint);
    if (Clock::now() + backoff >= deadline) {
      return reply.status().with_context("etcd: giving up after " +
                                         std::to_string(options_.retry_deadline.count()) + " ms");
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, milliseconds{400});
  }
}

Result<Appended> EtcdLog::append(ByteSpan payload) {
  if (payload.size() > kMaxEntryBytes) {
    return Status::invalid_argument("log entry of " + std::to_string(payload.size()) +
                                    " bytes exceeds the maximum of " +
                                    std::to_string(kMaxEntryBytes));
  }
  const LedgerTime time = options_.clock();
  const std::string key = base64(entry_key(options_.prefix, payload));
  json compare = {
      {"key", key}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
  json put = {{"request_put", {{"key", key}, {"value", base64(encode_envelope(time, payload))}}}};
  json get = {{"request_range", {{"key", key}}}};
  json txn = {{"compare", json::array({compare})},
              {"success", json::array({put})},
              {"failure", json::array({get})}};
  // Retrying is safe: if an earlier attempt created the key, the retry takes the failure branch
  // and reads the entry back.
  PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/txn", txn.dump()));
  PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "txn"));
  try {
    return appended_from_reply(reply, payload, time);
  } catch (const json::exception& e) {
    return Status::io_error(std::string("etcd txn: malformed reply: ") + e.what());
  }
}

Result<Appended> EtcdLog::appended_from_reply(const nlohmann::json& reply, ByteSpan payload,
                                              LedgerTime time) const {
  if (reply.value("succeeded", false)) {
    // The transaction's only write is the put, so the revision after it is the put's revision.
    const std::uint64_t revision = u64_field(reply.value("header", json::object()), "revision");
    if (revision == 0) return Status::io_error("etcd txn: reply without a revision");
    return Appended{revision, time};
  }
  // The key exists: the failure branch's range read returned it.
  json kvs = json::array();
  const json responses = reply.value("responses", json::array());
  if (responses.is_array() && !responses.empty() && responses[0].is_object()) {
    kvs = responses[0].value("response_range", json::object()).value("kvs", json::array());
  }
  if (!kvs.is_array() || kvs.empty()) {
    return Status::io_error("etcd txn: key exists but the reply does not hold it");
  }
  PFEX_ASSIGN_OR_RETURN(LogEntry existing, decode_kv(kvs[0], options_.prefix));
  if (!std::equal(existing.payload.begin(), existing.payload.end(), payload.begin(),
                  payload.end())) {
    return Status::corruption("etcd log: stored entry differs from its key's payload");
  }
  return Appended{existing.sequence, existing.entry_time};
}

Result<EtcdLog::Page> EtcdLog::read_page(std::uint64_t from, std::size_t max_entries) {
  from = std::max<std::uint64_t>(from, 1);
  json range = {{"key", base64(std::string_view(options_.prefix))},
                {"range_end", base64(std::string_view(prefix_end(options_.prefix)))},
                {"sort_order", "ASCEND"},
                {"sort_target", "CREATE"},
                {"min_create_revision", std::to_string(from)},
                {"limit", std::to_string(max_entries)}};
  // The entries and the floor in one consistent read: a page never mixes a pruned log with a
  // floor read before the pruning.
  json txn = {{"success", json::array({{{"request_range", range}},
                                       {{"request_range", {{"key", base64(floor_key())}}}}})}};
  PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/txn", txn.dump()));
  PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "range"));
  try {
    const json responses = reply.value("responses", json::array());
    if (!responses.is_array() || responses.size() != 2) {
      return Status::io_error("etcd range: reply without its two responses");
    }
    json entries = responses[0].value("response_range", json::object());
    entries["header"] = reply.value("header", json::object());
    const std::uint64_t floor = floor_from(responses[1].value("response_range", json::object()));
    if (from < floor) {
      return Status::failed_precondition(
          "etcd log: entries before " + std::to_string(floor) +
          " were pruned (every validator's snapshot covers them); restore a snapshot taken at or "
          "after entry " +
          std::to_string(floor - 1) + " to read from " + std::to_string(from));
    }
    return page_from_reply(entries);
  } catch (const json::exception& e) {
    return Status::io_error(std::string("etcd range: malformed reply: ") + e.what());
  }
}

Result<EtcdLog::Page> EtcdLog::page_from_reply(const nlohmann::json& reply) const {
  Page page;
  page.revision = u64_field(reply.value("header", json::object()), "revision");
  if (reply.contains("kvs") && reply["kvs"].is_array()) {
    for (const json& kv : reply["kvs"]) {
      PFEX_ASSIGN_OR_RETURN(LogEntry entry, decode_kv(kv, options_.prefix));
      if (!page.entries.empty() && entry.sequence <= page.entries.back().sequence) {
        return Status::corruption("etcd range: entries out of revision order");
      }
      page.entries.push_back(std::move(entry));
    }
  }
  return page;
}

Result<std::vector<LogEntry>> EtcdLog::read(std::uint64_t from, std::size_t max_entries) {
  if (max_entries == 0) return std::vector<LogEntry>{};
  PFEX_ASSIGN_OR_RETURN(Page page, read_page(from, max_entries));
  return std::move(page.entries);
}

// Opens a watch of the prefix from `start_revision` on the current member and returns the entries
// of the first event message, or nothing if none arrives within `wait` or `stop` is requested.
Result<std::vector<LogEntry>> EtcdLog::watch_once(std::uint64_t start_revision,
                                                  std::size_t max_entries, milliseconds wait,
                                                  const std::stop_token& stop) {
  const std::string endpoint = current_endpoint();
  json create = {{"create_request",
                  {{"key", base64(std::string_view(options_.prefix))},
                   {"range_end", base64(std::string_view(prefix_end(options_.prefix)))},
                   {"start_revision", std::to_string(start_revision)}}}};
  std::vector<LogEntry> entries;
  Status failed;
  std::string buffer;
  // The gateway streams one JSON message per line: {"result": {...}} or {"error": {...}}.
  auto on_message_unchecked = [&](const std::string& line) {
    auto message = parse_object(line, "watch");
    if (!message.is_ok()) return failed = message.status(), void();
    if (message->contains("error")) {
      failed = Status::io_error("etcd watch: " + (*message)["error"].dump().substr(0, 200));
      return;
    }
    const json& result = message->value("result", json::object());
    if (result.value("canceled", false)) {
      const std::uint64_t compacted = u64_field(result, "compact_revision");
      failed = compacted != 0 ? Status::failed_precondition(
                                    "etcd watch from revision " + std::to_string(start_revision) +
                                    " refused: history compacted up to revision " +
                                    std::to_string(compacted) + "; restart from a snapshot")
                              : Status::io_error("etcd watch canceled by " + endpoint);
      return;
    }
    if (!result.contains("events") || !result["events"].is_array()) return;
    for (const json& event : result["events"]) {
      if (event.value("type", "PUT") != "PUT") continue;  // deletions add no entry
      auto entry = decode_kv(event.value("kv", json::object()), options_.prefix);
      if (!entry.is_ok()) return failed = entry.status(), void();
      if (entry->sequence < start_revision) continue;
      if (entries.size() < max_entries) entries.push_back(std::move(entry).value());
    }
  };
  auto on_message = [&](const std::string& line) {
    try {
      on_message_unchecked(line);
    } catch (const json::exception& e) {
      failed = Status::io_error(std::string("etcd watch: malformed message: ") + e.what());
    }
  };
  auto on_data = [&](std::string_view data) {
    buffer.append(data);
    for (std::size_t newline; (newline = buffer.find('\n')) != std::string::npos;) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (line.find_first_not_of(" \r\t") != std::string::npos) on_message(line);
    }
    return entries.empty() && failed.is_ok() && !stop.stop_requested();  // false ends the stream
  };
  PFEX_ASSIGN_OR_RETURN(net::HttpClient client, net::HttpClient::open(endpoint));
  int status = 0;
  auto ended = client.stream("POST", "/v3/watch", create.dump(), "application/json",
                             options_.request_timeout, wait, status, on_data);
  if (!entries.empty()) return entries;
  if (!failed.is_ok()) return failed;
  if (stop.stop_requested()) return std::vector<LogEntry>{};
  if (!ended.is_ok()) {
    move_to_next_endpoint(endpoint);
    return ended.status().with_context("etcd watch");
  }
  // The wait ended before the member sent its reply's header: nothing arrived within the wait,
  // which is a quiet follow (seen under ThreadSanitizer's slowdown with a 300 ms wait).
  if (*ended == net::HttpClient::StreamEnd::kDeadline && status == 0) {
    return std::vector<LogEntry>{};
  }
  if (status != 200) {
    move_to_next_endpoint(endpoint);
    return Status::io_error("etcd watch on " + endpoint + ": HTTP " + std::to_string(status) + " " +
                            buffer.substr(0, 200));
  }
  return std::vector<LogEntry>{};  // quiet for `wait`, or the member closed the stream
}

Result<std::vector<LogEntry>> EtcdLog::follow(std::uint64_t from, std::size_t max_entries,
                                              milliseconds timeout, std::stop_token stop) {
  if (max_entries == 0) return std::vector<LogEntry>{};
  from = std::max<std::uint64_t>(from, 1);
  const auto deadline = Clock::now() + timeout;
  PFEX_ASSIGN_OR_RETURN(Page page, read_page(from, max_entries));
  if (!page.entries.empty()) return std::move(page.entries);
  // Nothing at or after `from` as of page.revision, so later entries have larger revisions:
  // watching from the next revision misses nothing and never starts below revision 1.
  const std::uint64_t start = std::max(from, page.revision + 1);
  Status last_error;
  for (;;) {
    const auto now = Clock::now();
    if (stop.stop_requested()) return std::vector<LogEntry>{};
    if (now >= deadline) {
      if (!last_error.is_ok()) return last_error;
      return std::vector<LogEntry>{};
    }
    // Short watches, re-opened from the same revision, so that `stop` is honoured promptly and a
    // member that went away is noticed.
    const auto wait =
        std::min(std::chrono::duration_cast<milliseconds>(deadline - now), milliseconds{250});
    auto entries = watch_once(start, max_entries, std::max(wait, milliseconds{1}), stop);
    if (entries.is_ok()) {
      last_error = Status::ok();
      if (!entries->empty()) return entries;
      continue;
    }
    if (entries.status().code() != ErrorCode::kIoError) return entries.status();
    last_error = entries.status();
    std::this_thread::sleep_for(milliseconds{20});
  }
}

// ---- pruning ----

Status EtcdLog::record_snapshot(std::string_view validator, std::uint64_t last_sequence) {
  if (validator.empty() || validator.size() > 128 ||
      validator.find('/') != std::string_view::npos) {
    return Status::invalid_argument("validator name must be 1 to 128 characters without '/'");
  }
  json put = {{"key", base64(snapshot_key_prefix() + std::string(validator))},
              {"value", base64(sequence_value(last_sequence))}};
  PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/put", put.dump()));
  return parse_object(text, "put").status();
}

Result<std::vector<std::pair<std::string, std::uint64_t>>> EtcdLog::snapshots() {
  const std::string prefix = snapshot_key_prefix();
  json range = {{"key", base64(prefix)}, {"range_end", base64(prefix_end(prefix))}};
  PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/range", range.dump()));
  PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "range"));
  std::vector<std::pair<std::string, std::uint64_t>> out;
  try {
    for (const json& kv : reply.value("kvs", json::array())) {
      PFEX_ASSIGN_OR_RETURN(Bytes key, unbase64(kv.value("key", std::string())));
      PFEX_ASSIGN_OR_RETURN(std::uint64_t sequence, sequence_from(kv));
      out.emplace_back(
          std::string(key.begin() + static_cast<std::ptrdiff_t>(prefix.size()), key.end()),
          sequence);
    }
  } catch (const json::exception& e) {
    return Status::io_error(std::string("etcd range: malformed reply: ") + e.what());
  }
  return out;
}

Result<std::uint64_t> EtcdLog::floor() {
  json range = {{"key", base64(floor_key())}};
  PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/range", range.dump()));
  PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "range"));
  return floor_from(reply);
}

Result<std::uint64_t> EtcdLog::prune() {
  PFEX_ASSIGN_OR_RETURN(auto marks, snapshots());
  if (marks.empty()) return std::uint64_t{0};
  std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [name, sequence] : marks)
    oldest = std::min(oldest, sequence);
  const std::uint64_t target = oldest + 1;  // the first entry some validator may still need
  // A validator at 0 needs everything. (Also: etcd reads max_create_revision 0 as "no limit",
  // so the deletion below must never run with target 1.)
  if (target <= 1) return std::uint64_t{0};

  // 1. Raise the floor (never lower it: compare-and-swap on the key's mod revision), before any
  //    entry disappears, so no reader can skip a deleted entry unknowingly.
  bool raised = false;
  for (;;) {
    json range = {{"key", base64(floor_key())}};
    PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/range", range.dump()));
    PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "range"));
    const json kvs = reply.value("kvs", json::array());
    const std::uint64_t current = floor_from(reply);
    if (current >= target) break;
    const std::string mod = kvs.empty() ? "0" : kvs[0].value("mod_revision", std::string("0"));
    json compare = {{"key", base64(floor_key())},
                    {"target", "MOD"},
                    {"result", "EQUAL"},
                    {"mod_revision", mod}};
    json put = {
        {"request_put", {{"key", base64(floor_key())}, {"value", base64(sequence_value(target))}}}};
    json txn = {{"compare", json::array({compare})}, {"success", json::array({put})}};
    PFEX_ASSIGN_OR_RETURN(std::string put_text, post("/v3/kv/txn", txn.dump()));
    PFEX_ASSIGN_OR_RETURN(json put_reply, parse_object(put_text, "txn"));
    if (put_reply.value("succeeded", false)) {
      raised = true;
      break;
    }
    // Another pruner moved the floor meanwhile: look again.
  }

  // 2. Delete the entries below the floor, a page at a time (keys only).
  std::uint64_t deleted = 0;
  for (;;) {
    json range = {{"key", base64(std::string_view(options_.prefix))},
                  {"range_end", base64(std::string_view(prefix_end(options_.prefix)))},
                  {"max_create_revision", std::to_string(target - 1)},
                  {"keys_only", true},
                  {"limit", "100"}};
    PFEX_ASSIGN_OR_RETURN(std::string text, post("/v3/kv/range", range.dump()));
    PFEX_ASSIGN_OR_RETURN(json reply, parse_object(text, "range"));
    const json kvs = reply.value("kvs", json::array());
    if (!kvs.is_array() || kvs.empty()) break;
    json deletes = json::array();
    for (const json& kv : kvs)
      deletes.push_back({{"request_delete_range", {{"key", kv.value("key", std::string())}}}});
    json txn = {{"success", deletes}};
    PFEX_ASSIGN_OR_RETURN(std::string del_text, post("/v3/kv/txn", txn.dump()));
    PFEX_RETURN_IF_ERROR(parse_object(del_text, "txn").status());
    deleted += kvs.size();
  }

  // 3. Let etcd drop the history below the floor, once per floor: only the pruner that raised
  //    it compacts, since etcd refuses a compaction at or below an earlier one. A pruner that
  //    stopped before this step leaves the space to the next raise of the floor.
  if (raised) {
    json compaction = {{"revision", std::to_string(target - 1)}};
    PFEX_RETURN_IF_ERROR(post("/v3/kv/compaction", compaction.dump()).status());
  }
  return deleted;
}

}  // namespace pfex::ledger
