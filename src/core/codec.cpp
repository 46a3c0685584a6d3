#include "core/codec.hpp"

#include <algorithm>
#include <limits>

namespace pfex {

void Writer::var_bytes(ByteSpan bytes) {
  u32(static_cast<std::uint32_t>(bytes.size()));
  fixed(bytes);
}

void Writer::string(std::string_view s) {
  var_bytes(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

void Reader::fail(Status status) {
  if (status_.is_ok()) status_ = std::move(status);
}

bool Reader::take(std::size_t n, std::string_view field) {
  if (failed()) return false;
  if (in_.size() - pos_ < n) {
    fail(Status::corruption("truncated input: " + std::string(field) + " needs " +
                            std::to_string(n) + " bytes, " + std::to_string(in_.size() - pos_) +
                            " left"));
    return false;
  }
  return true;
}

std::uint64_t Reader::get_le(int n, std::string_view field) {
  if (!take(static_cast<std::size_t>(n), field)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    v |= static_cast<std::uint64_t>(in_[pos_ + static_cast<std::size_t>(i)]) << (8 * i);
  }
  pos_ += static_cast<std::size_t>(n);
  return v;
}

std::uint8_t Reader::u8(std::string_view field) {
  return static_cast<std::uint8_t>(get_le(1, field));
}
std::uint16_t Reader::u16(std::string_view field) {
  return static_cast<std::uint16_t>(get_le(2, field));
}
std::uint32_t Reader::u32(std::string_view field) {
  return static_cast<std::uint32_t>(get_le(4, field));
}
std::uint64_t Reader::u64(std::string_view field) {
  return get_le(8, field);
}
std::int64_t Reader::i64(std::string_view field) {
  return static_cast<std::int64_t>(get_le(8, field));
}

bool Reader::boolean(std::string_view field) {
  return u8_in(field, 0, 1) == 1;
}

namespace {

// v if it lies in [lo, hi]; otherwise records an error naming the field and returns 0.
template <class T>
T in_range(Reader& r, std::string_view field, T v, T lo, T hi) {
  if (r.failed()) return 0;
  if (v < lo || v > hi) {
    r.fail(Status::invalid_argument(std::string(field) + " = " + std::to_string(+v) +
                                    " is outside [" + std::to_string(+lo) + ", " +
                                    std::to_string(+hi) + "]"));
    return 0;
  }
  return v;
}

}  // namespace

std::int64_t Reader::i64_in(std::string_view field, std::int64_t lo, std::int64_t hi) {
  return in_range(*this, field, i64(field), lo, hi);
}

std::uint64_t Reader::u64_in(std::string_view field, std::uint64_t lo, std::uint64_t hi) {
  return in_range(*this, field, u64(field), lo, hi);
}

std::uint8_t Reader::u8_in(std::string_view field, std::uint8_t lo, std::uint8_t hi) {
  return in_range(*this, field, u8(field), lo, hi);
}

void Reader::fixed(std::string_view field, std::span<std::uint8_t> out) {
  if (!take(out.size(), field)) {
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    return;
  }
  std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), out.size(), out.begin());
  pos_ += out.size();
}

Bytes Reader::var_bytes(std::string_view field, std::uint32_t max_len) {
  std::uint32_t n = u32(field);
  if (failed()) return {};
  if (n > max_len) {
    fail(Status::invalid_argument(std::string(field) + " length " + std::to_string(n) +
                                  " exceeds the maximum " + std::to_string(max_len)));
    return {};
  }
  Bytes out(n);
  fixed(field, out);
  return failed() ? Bytes{} : out;
}

std::string Reader::string(std::string_view field, std::uint32_t max_len) {
  Bytes b = var_bytes(field, max_len);
  return {b.begin(), b.end()};
}

Status Reader::finish() const {
  if (failed()) return status_;
  if (pos_ != in_.size()) {
    return Status::corruption(std::to_string(in_.size() - pos_) + " trailing bytes after the end");
  }
  return Status::ok();
}

}  // namespace pfex
