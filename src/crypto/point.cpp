#include "crypto/point.hpp"

#include <sodium.h>

#include "core/hash.hpp"
#include "crypto/ct.hpp"
#include "crypto/scalar_recoding.hpp"

namespace pfex::crypto {
namespace {

using detail::Cached;
using detail::Ext;
using detail::Niels;

constexpr Point::Encoding kBaseEncoding = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};

const FixedBaseTable& base_table() {
  static const FixedBaseTable table(Point::base());
  return table;
}

}  // namespace

Point Point::base() {
  static const Point g = [] {
    Ext p;
    const std::uint64_t ok = detail::ristretto_decode(&p, kBaseEncoding.data());
    (void)ok;  // a constant, checked by the RFC vector test
    return Point(p);
  }();
  return g;
}

Result<Point> Point::decode(ByteSpan bytes) {
  if (bytes.size() != kBytes) {
    return Status::invalid_argument("point encoding must be 32 bytes, got " +
                                    std::to_string(bytes.size()));
  }
  Ext p;
  const std::uint64_t valid = detail::ristretto_decode(&p, bytes.data());
  // Whether an encoding is accepted is public: the caller learns it from the result anyway.
  declassify(valid);
  if (valid != 1) {
    return Status::invalid_argument("invalid or non-canonical ristretto255 point encoding");
  }
  return Point(p);
}

Point::Encoding Point::encode() const {
  Encoding out;
  detail::ristretto_encode(out.data(), p_);
  return out;
}

Point Point::from_uniform_bytes(std::span<const std::uint8_t, 64> bytes) {
  const Ext p1 = detail::ristretto_map(bytes.data());
  const Ext p2 = detail::ristretto_map(bytes.data() + 32);
  return Point(detail::ext_add(p1, p2));
}

Point Point::hash(ByteSpan data) {
  const Digest64 d = sha512(data);
  return from_uniform_bytes(d);
}

Point Point::random() {
  ensure_sodium_init();
  std::array<std::uint8_t, 64> buf;
  randombytes_buf(buf.data(), buf.size());
  return from_uniform_bytes(buf);
}

Point operator+(const Point& a, const Point& b) {
  return Point(detail::ext_add(a.p_, b.p_));
}
Point operator-(const Point& a, const Point& b) {
  return Point(detail::ext_sub(a.p_, b.p_));
}

bool operator==(const Point& a, const Point& b) {
  return detail::ristretto_eq(a.p_, b.p_) == 1;
}

Point operator*(const Scalar& s, const Point& p) {
  std::array<Cached, 8> table;
  table[0] = detail::to_cached(p.p_);
  Ext acc = p.p_;
  for (std::size_t j = 1; j < 8; ++j) {
    acc = detail::to_ext(detail::add(acc, table[0]));
    table[j] = detail::to_cached(acc);
  }
  auto e = detail::radix16(s.bytes());
  Ext r = detail::ext_identity();
  for (std::size_t i = 64; i-- > 0;) {
    r = detail::to_proj(detail::dbl(r));
    r = detail::to_proj(detail::dbl(r));
    r = detail::to_proj(detail::dbl(r));
    r = detail::to_ext(detail::dbl(r));
    r = detail::to_ext(detail::add(r, detail::ct_select(table, e[i], detail::cached_identity())));
  }
  sodium_memzero(e.data(), e.size());
  return Point(r);
}

Point Point::mul_base(const Scalar& s) {
  return base_table().mul(s);
}

FixedBaseTable::FixedBaseTable(const Point& p) : point_(p), table_(32) {
  std::vector<Ext> multiples(std::size_t{32} * 8);
  Ext row_base = p.ext();  // 256^i * P
  for (std::size_t i = 0; i < 32; ++i) {
    const Cached b = detail::to_cached(row_base);
    Ext acc = row_base;
    multiples[8 * i] = acc;
    for (std::size_t j = 1; j < 8; ++j) {
      acc = detail::to_ext(detail::add(acc, b));
      multiples[8 * i + j] = acc;
    }
    // acc is 8 * row_base; five doublings make it 256 * row_base, the next row's base.
    for (int k = 0; k < 5; ++k)
      acc = detail::ext_dbl(acc);
    row_base = acc;
  }
  std::vector<Niels> niels(multiples.size());
  detail::to_niels_batch(multiples.data(), niels.data(), multiples.size());
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 8; ++j)
      table_[i][j] = niels[8 * i + j];
  }
}

Point FixedBaseTable::mul(const Scalar& s) const {
  auto e = detail::radix16(s.bytes());
  Ext r = detail::ext_identity();
  // Odd digits first: sum e[2k+1] 256^k P, times 16, then the even digits sum e[2k] 256^k P.
  for (std::size_t k = 0; k < 32; ++k) {
    r = detail::to_ext(
        detail::add(r, detail::ct_select(table_[k], e[2 * k + 1], detail::niels_identity())));
  }
  r = detail::to_proj(detail::dbl(r));
  r = detail::to_proj(detail::dbl(r));
  r = detail::to_proj(detail::dbl(r));
  r = detail::to_ext(detail::dbl(r));
  for (std::size_t k = 0; k < 32; ++k) {
    r = detail::to_ext(
        detail::add(r, detail::ct_select(table_[k], e[2 * k], detail::niels_identity())));
  }
  sodium_memzero(e.data(), e.size());
  return Point(r);
}

}  // namespace pfex::crypto
