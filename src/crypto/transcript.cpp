#include "crypto/transcript.hpp"

#include <sodium.h>

#include <cstring>

#include "core/hash.hpp"

namespace pfex::crypto {

static_assert(sizeof(crypto_generichash_state) <= 384, "Transcript::state_ too small");
static_assert(alignof(crypto_generichash_state) <= 64, "Transcript::state_ under-aligned");

namespace {

constexpr std::size_t kStateHashBytes = 64;  // BLAKE2b-512

crypto_generichash_state* as_state(std::array<std::uint8_t, 384>& s) {
  return reinterpret_cast<crypto_generichash_state*>(s.data());
}

template <std::size_t N>
std::array<std::uint8_t, N> le(std::uint64_t v) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(v >> (8 * i));
  return out;
}

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

Transcript::Transcript(std::string_view domain) {
  ensure_sodium_init();
  crypto_generichash_init(as_state(state_), nullptr, 0, kStateHashBytes);
  record(Op::kDomain, kTranscriptDomain, as_bytes(domain));
}

void Transcript::absorb(ByteSpan bytes) {
  crypto_generichash_update(as_state(state_), bytes.data(), bytes.size());
}

void Transcript::record(Op op, std::string_view label, ByteSpan data) {
  const std::uint8_t tag = static_cast<std::uint8_t>(op);
  absorb({&tag, 1});
  absorb(le<4>(label.size()));
  absorb(as_bytes(label));
  absorb(le<8>(data.size()));
  absorb(data);
}

void Transcript::append_domain_separator(std::string_view protocol) {
  record(Op::kProtocol, "protocol", as_bytes(protocol));
}

void Transcript::append_message(std::string_view label, ByteSpan message) {
  record(Op::kMessage, label, message);
}

void Transcript::append_u64(std::string_view label, std::uint64_t value) {
  record(Op::kMessage, label, le<8>(value));
}

void Transcript::append_scalar(std::string_view label, const Scalar& s) {
  record(Op::kMessage, label, s.bytes());
}

void Transcript::append_point(std::string_view label, const Point& p) {
  record(Op::kMessage, label, p.encode());
}

Status Transcript::validate_and_append_point(std::string_view label, const Point& p) {
  if (p.is_identity()) {
    return Status::invalid_argument("transcript: identity point where the protocol forbids it (" +
                                    std::string(label) + ")");
  }
  append_point(label, p);
  return Status::ok();
}

Scalar Transcript::challenge_scalar(std::string_view label) {
  record(Op::kChallenge, label, {});
  auto fork = state_;
  std::array<std::uint8_t, kStateHashBytes> out{};
  crypto_generichash_final(as_state(fork), out.data(), out.size());
  sodium_memzero(fork.data(), fork.size());
  record(Op::kChallengeOutput, label, out);
  return Scalar::from_bytes_mod_order_wide(out);
}

}  // namespace pfex::crypto
