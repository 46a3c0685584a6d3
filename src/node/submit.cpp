// Submission to a gateway, directly or through SOCKS5; see submit.hpp.
#include "node/submit.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/hash.hpp"

namespace pfex::node {
namespace {

constexpr std::size_t kMaxResponseBytes = std::size_t{64} * 1024;

// An owned socket descriptor.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

Status net_error(const std::string& what) {
  return Status::io_error(what + ": " + std::strerror(errno));
}

Result<std::unique_ptr<Socket>> connect_to(const Endpoint& to, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(to.port);
  if (int rc = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::io_error("cannot resolve " + to.host + ": " + ::gai_strerror(rc));
  }
  auto sock = std::make_unique<Socket>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock->fd() < 0) {
    ::freeaddrinfo(found);
    return net_error("socket");
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  // On Linux SO_SNDTIMEO also bounds connect().
  ::setsockopt(sock->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock->fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int rc = ::connect(sock->fd(), found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0) return net_error("connect to " + to.host + ":" + port);
  return sock;
}

Status send_all(const Socket& s, ByteSpan bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(s.fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return net_error("send");
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status recv_exact(const Socket& s, std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::recv(s.fd(), out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return net_error("receive");
    }
    if (n == 0) return Status::io_error("connection closed early");
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

std::string random_token() {
  std::array<std::uint8_t, 16> r{};
  randombytes_buf(r.data(), r.size());
  return to_hex(r);
}

// RFC 1928 greeting, RFC 1929 authentication and CONNECT to `target` on the proxy connection.
Status socks5_connect(const Socket& s, const Endpoint& target, const SubmitOptions& options,
                      Submitted& out) {
  const bool fixed = options.proxy_credentials.has_value();
  // Offer username/password (preferred: Tor isolates streams by it) and, unless the caller gave
  // fixed credentials, no authentication (a proxy without auth picks that one).
  const Bytes greeting = fixed ? Bytes{5, 1, 2} : Bytes{5, 2, 2, 0};
  PFEX_RETURN_IF_ERROR(send_all(s, greeting));
  std::array<std::uint8_t, 2> choice{};
  PFEX_RETURN_IF_ERROR(recv_exact(s, choice));
  if (choice[0] != 5) return Status::io_error("the proxy does not speak SOCKS5");
  if (choice[1] == 2) {
    const std::string user = fixed ? options.proxy_credentials->first : random_token();
    const std::string pass = fixed ? options.proxy_credentials->second : random_token();
    if (user.size() > 255 || pass.size() > 255) {
      return Status::invalid_argument("proxy username or password over 255 bytes");
    }
    Bytes auth{1, static_cast<std::uint8_t>(user.size())};
    auth.insert(auth.end(), user.begin(), user.end());
    auth.push_back(static_cast<std::uint8_t>(pass.size()));
    auth.insert(auth.end(), pass.begin(), pass.end());
    PFEX_RETURN_IF_ERROR(send_all(s, auth));
    std::array<std::uint8_t, 2> verdict{};
    PFEX_RETURN_IF_ERROR(recv_exact(s, verdict));
    if (verdict[1] != 0) return Status::io_error("the proxy refused the username/password");
    out.proxy_username = user;
    out.proxy_used_auth = true;
  } else if (choice[1] != 0) {
    return Status::io_error("the proxy accepts none of the offered authentication methods");
  }

  Bytes request{5, 1, 0};
  in_addr v4{};
  if (::inet_pton(AF_INET, target.host.c_str(), &v4) == 1) {
    request.push_back(1);
    const auto* a = reinterpret_cast<const std::uint8_t*>(&v4);
    request.insert(request.end(), a, a + 4);
  } else {
    if (target.host.size() > 255) return Status::invalid_argument("gateway host name too long");
    request.push_back(3);  // a name: the proxy resolves it (no DNS leak)
    request.push_back(static_cast<std::uint8_t>(target.host.size()));
    request.insert(request.end(), target.host.begin(), target.host.end());
  }
  request.push_back(static_cast<std::uint8_t>(target.port >> 8));
  request.push_back(static_cast<std::uint8_t>(target.port & 0xFF));
  PFEX_RETURN_IF_ERROR(send_all(s, request));
  std::array<std::uint8_t, 4> reply{};
  PFEX_RETURN_IF_ERROR(recv_exact(s, reply));
  if (reply[0] != 5) return Status::io_error("bad SOCKS5 reply");
  if (reply[1] != 0) {
    return Status::io_error("the proxy could not connect to the gateway (SOCKS5 reply " +
                            std::to_string(reply[1]) + ")");
  }
  std::size_t addr_len = 0;
  if (reply[3] == 1) {
    addr_len = 4;
  } else if (reply[3] == 4) {
    addr_len = 16;
  } else if (reply[3] == 3) {
    std::array<std::uint8_t, 1> len{};
    PFEX_RETURN_IF_ERROR(recv_exact(s, len));
    addr_len = len[0];
  } else {
    return Status::io_error("bad SOCKS5 reply address type");
  }
  std::array<std::uint8_t, 258> bound{};
  return recv_exact(s, std::span(bound.data(), addr_len + 2));
}

Result<std::string> read_to_end(const Socket& s) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return net_error("receive");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxResponseBytes) return Status::io_error("gateway response too long");
  }
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument("expected host:port, got \"" + std::string(text) + "\"");
  }
  unsigned port = 0;
  const auto digits = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return Status::invalid_argument("bad port in \"" + std::string(text) + "\"");
  }
  return Endpoint{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

Result<Submitted> submit_transaction(ByteSpan tx, const SubmitOptions& options) {
  ensure_sodium_init();
  if (options.max_delay.count() > 0) {
    const auto ms = randombytes_uniform(static_cast<std::uint32_t>(options.max_delay.count()) + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  Submitted out;
  const Endpoint& first_hop = options.socks5 ? *options.socks5 : options.gateway;
  PFEX_ASSIGN_OR_RETURN(auto sock, connect_to(first_hop, options.timeout));
  if (options.socks5) {
    PFEX_RETURN_IF_ERROR(
        socks5_connect(*sock, options.gateway, options, out).with_context("SOCKS5 proxy"));
  }
  const std::string head =
      "POST /v1/tx HTTP/1.1\r\nHost: " + options.gateway.host + ":" +
      std::to_string(options.gateway.port) +
      "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(tx.size()) +
      (options.scripted_time
           ? "\r\nPfex-Ledger-Time: " + std::to_string(options.scripted_time->value())
           : std::string()) +
      "\r\nConnection: close\r\n\r\n";
  Bytes request(head.begin(), head.end());
  request.insert(request.end(), tx.begin(), tx.end());
  PFEX_RETURN_IF_ERROR(send_all(*sock, request));
  PFEX_ASSIGN_OR_RETURN(std::string response, read_to_end(*sock));

  // "HTTP/1.1 200 OK\r\n...\r\n\r\n{json}"
  const auto body_at = response.find("\r\n\r\n");
  if (response.size() < 12 || !response.starts_with("HTTP/1.") || body_at == std::string::npos) {
    return Status::io_error("malformed gateway response");
  }
  const int code = std::atoi(response.substr(9, 3).c_str());
  const nlohmann::json body = nlohmann::json::parse(response.substr(body_at + 4), nullptr, false);
  if (code != 200) {
    std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                          ? body["error"].get<std::string>()
                          : "HTTP " + std::to_string(code);
    // 400 refuses the transaction's bytes; any other 4xx refuses the request
    // (docs/node/gateway.md).
    if (code == 400) return Status::invalid_argument(std::string(kGatewayRefused) + why);
    // 409: the log already decides these bytes (they are in it, or their sequence number is
    // used); only the log, not this answer, may take them out of pending.
    if (code == 409) return Status::already_exists("the log already decides it: " + why);
    if (code > 400 && code < 500) {
      return Status::failed_precondition("gateway refused the request: " + why);
    }
    return Status::io_error("gateway failed: " + why);
  }
  if (!body.is_object() || !body.contains("sequence") || !body["sequence"].is_number_unsigned()) {
    return Status::io_error("gateway response without a sequence");
  }
  out.sequence = body["sequence"].get<std::uint64_t>();
  return out;
}

Result<std::vector<Submitted>> submit_pending(const Wallet& wallet, const SubmitOptions& options) {
  std::vector<Submitted> out;
  Status refused = Status::ok();
  for (const Bytes& tx : wallet.pending()) {
    Result<Submitted> s = submit_transaction(tx, options);
    if (!s.is_ok() && s.status().code() == ErrorCode::kAlreadyExists) continue;  // settles
    if (!s.is_ok() && s.status().code() == ErrorCode::kInvalidArgument) {
      // Its bytes refused: the later ones still go, so one transaction no gateway takes cannot
      // block the wallet (once a later one is in the log, this one settles as never applied).
      if (refused.is_ok()) refused = s.status();
      continue;
    }
    if (!s.is_ok()) return s.status();
    out.push_back(std::move(s).value());
  }
  if (!refused.is_ok()) return refused;
  return out;
}

Result<std::vector<Settled>> settle_pending(Wallet& wallet, const protocol::LedgerReplica& replica,
                                            std::span<const ledger::LogEntry> new_entries) {
  const std::uint64_t used = replica.last_sequence_of(wallet.public_key());
  std::vector<Settled> out;
  for (const Bytes& tx : wallet.pending()) {
    Settled settled{tx, 0, std::nullopt};
    const Result<protocol::Entry> decoded = protocol::decode_entry(tx);
    const auto* mine = decoded ? std::get_if<protocol::TransparentTx>(&*decoded) : nullptr;
    if (mine) settled.tx_sequence = mine->sequence;
    for (const ledger::LogEntry& e : new_entries) {
      if (std::ranges::equal(e.payload, tx)) {
        settled.log_sequence = e.sequence;
        break;
      }
    }
    if (settled.log_sequence || (mine && mine->sequence <= used)) out.push_back(std::move(settled));
  }
  for (const Settled& s : out)
    PFEX_RETURN_IF_ERROR(wallet.remove_pending(s.tx));
  return out;
}

}  // namespace pfex::node
