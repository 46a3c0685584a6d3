// Transcript: the one Fiat-Shamir hash of pfex. Every challenge of every proof comes from a
// Transcript, and every public input of a statement is absorbed before its first challenge.
// The construction, its encoding and the labels in use are in docs/crypto/transcript.md.
//
// A Transcript is a running BLAKE2b-512 over a sequence of records. Each record is
//     op (1 byte) || LE32(len(label)) || label || LE64(len(data)) || data
// so that the sequence of (op, label, data) triples is recoverable from the hashed bytes: two
// different histories never hash the same input. The first record names the version and the
// protocol (kTranscriptDomain, then the caller's domain). A challenge absorbs a request record,
// hashes a copy of the state to 64 bytes, reduces them mod l, and absorbs the output back, so later
// challenges depend on earlier ones.
//
// Points are absorbed by their canonical encodings. validate_and_append_point() also rejects the
// identity, for the proof elements where an identity would make the protocol unsound or trivial;
// proofs call it on every such point as they absorb it, before any challenge depends on it.
//
// A Transcript holds only public data. Copying it forks the history (batch verification gives
// each proof its own copy of a shared prefix).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kTranscriptDomain = "pfex/v1/transcript";

class Transcript {
 public:
  // domain: what this transcript is for, e.g. "pfex/v1/tx" for a transaction's proofs or
  // "pfex/v1/test" in tests.
  explicit Transcript(std::string_view domain);

  // Names the proof system and its version before its elements ("bulletproof/range/v1").
  void append_domain_separator(std::string_view protocol);
  void append_message(std::string_view label, ByteSpan message);
  void append_u64(std::string_view label, std::uint64_t value);
  void append_scalar(std::string_view label, const Scalar& s);
  // Any point, the identity included (public inputs whose identity is harmless).
  void append_point(std::string_view label, const Point& p);
  // kInvalidArgument for the identity, and then the point is not absorbed.
  [[nodiscard]] Status validate_and_append_point(std::string_view label, const Point& p);

  // A challenge scalar, uniform in [0, l). Zero has probability 2^-252; protocols that invert a
  // challenge reject a proof whose challenge is zero instead of special-casing it.
  Scalar challenge_scalar(std::string_view label);

 private:
  enum class Op : std::uint8_t {
    kDomain = 'D',
    kProtocol = 'P',
    kMessage = 'M',
    kChallenge = 'C',
    kChallengeOutput = 'O',
  };
  void record(Op op, std::string_view label, ByteSpan data);
  void absorb(ByteSpan bytes);

  alignas(64) std::array<std::uint8_t, 384> state_{};  // crypto_generichash_state
};

}  // namespace pfex::crypto
