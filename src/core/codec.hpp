// The canonical binary codec: the one byte format of every transaction, proof and state in pfex.
// Its grammar is in docs/codec.md.
//
// Integers are fixed width, little-endian, two's complement for signed ones. Byte strings are
// either fixed length or a u32 length prefix followed by the bytes, with a maximum length the
// reader states. Decoding is strict: a value outside the range the reader asks for, a length over
// its maximum, a truncated input and trailing bytes are all errors, so every value has exactly one
// encoding and re-encoding a decoded value gives back the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace pfex {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;

// Appends encodings to a byte vector. Writing cannot fail.
class Writer {
 public:
  Writer() = default;
  // Appends to *out, which must outlive the Writer.
  explicit Writer(Bytes* out) : out_(out) {}
  Writer(const Writer&) = delete;  // out_ may point at own_
  Writer& operator=(const Writer&) = delete;

  void u8(std::uint8_t v) { out_->push_back(v); }
  void u16(std::uint16_t v) { put_le(v, 2); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void i64(std::int64_t v) { put_le(static_cast<std::uint64_t>(v), 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  // Exactly the given bytes, no length: for fixed-size fields (keys, points, hashes).
  void fixed(ByteSpan bytes) { out_->insert(out_->end(), bytes.begin(), bytes.end()); }
  // u32 length, then the bytes.
  void var_bytes(ByteSpan bytes);
  void string(std::string_view s);

  const Bytes& bytes() const { return *out_; }

 private:
  void put_le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      out_->push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  Bytes own_;
  Bytes* out_ = &own_;
};

// Reads encodings from a byte span with a sticky error: after the first failure every read
// returns zero values and the error is kept, so a decoder reads all its fields and checks once,
// at finish(), which also rejects trailing bytes. Field names make the error say what was wrong.
class Reader {
 public:
  // `input` must outlive the Reader.
  explicit Reader(ByteSpan input) : in_(input) {}

  std::uint8_t u8(std::string_view field);
  std::uint16_t u16(std::string_view field);
  std::uint32_t u32(std::string_view field);
  std::uint64_t u64(std::string_view field);
  std::int64_t i64(std::string_view field);
  bool boolean(std::string_view field);
  // Signed value that must lie in [lo, hi].
  std::int64_t i64_in(std::string_view field, std::int64_t lo, std::int64_t hi);
  // Unsigned value that must lie in [lo, hi] (enums: u8_in(field, 0, kMax)).
  std::uint64_t u64_in(std::string_view field, std::uint64_t lo, std::uint64_t hi);
  std::uint8_t u8_in(std::string_view field, std::uint8_t lo, std::uint8_t hi);
  // Copies exactly out.size() bytes.
  void fixed(std::string_view field, std::span<std::uint8_t> out);
  Bytes var_bytes(std::string_view field, std::uint32_t max_len);
  std::string string(std::string_view field, std::uint32_t max_len);

  std::size_t remaining() const { return failed() ? 0 : in_.size() - pos_; }
  bool failed() const { return !status_.is_ok(); }
  // Records a semantic error found by the caller (first error wins).
  void fail(Status status);
  // The first error, or an error if bytes remain unread; ok only for a complete, exact decode.
  [[nodiscard]] Status finish() const;
  // The first error so far (does not check for trailing bytes).
  const Status& status() const { return status_; }

 private:
  bool take(std::size_t n, std::string_view field);
  std::uint64_t get_le(int n, std::string_view field);
  ByteSpan in_;
  std::size_t pos_ = 0;
  Status status_;
};

// The whole encoding of a value whose type has `void encode(Writer&) const`.
template <class T>
Bytes encode_to_bytes(const T& value) {
  Bytes out;
  Writer w(&out);
  value.encode(w);
  return out;
}

// Strict decoding of exactly `bytes` for a type with `static Result<T> decode(Reader&)`:
// trailing bytes are an error.
template <class T>
Result<T> decode_exactly(ByteSpan bytes) {
  Reader r(bytes);
  Result<T> value = T::decode(r);
  if (!value.is_ok()) return value;
  if (Status done = r.finish(); !done.is_ok()) return done;
  return value;
}

}  // namespace pfex
