#include "core/codec.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace pfex {
namespace {

Bytes encode_sample(std::int64_t a, std::uint32_t b, const std::string& s) {
  Bytes out;
  Writer w(&out);
  w.i64(a);
  w.u32(b);
  w.string(s);
  w.boolean(true);
  return out;
}

TEST(Codec, LittleEndianFixedWidth) {
  Bytes out;
  Writer w(&out);
  w.u32(0x01020304);
  w.i64(-2);
  EXPECT_EQ(out, (Bytes{4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(Codec, RoundTrip) {
  Bytes b = encode_sample(-42, 7, "pfex");
  Reader r(b);
  EXPECT_EQ(r.i64("a"), -42);
  EXPECT_EQ(r.u32("b"), 7u);
  EXPECT_EQ(r.string("s", 16), "pfex");
  EXPECT_TRUE(r.boolean("flag"));
  EXPECT_TRUE(r.finish().is_ok());
}

TEST(Codec, EveryTruncationIsAnError) {
  Bytes b = encode_sample(1, 2, "abc");
  for (std::size_t n = 0; n < b.size(); ++n) {
    Reader r(ByteSpan(b.data(), n));
    (void)r.i64("a");
    (void)r.u32("b");
    (void)r.string("s", 16);
    (void)r.boolean("flag");
    Status s = r.finish();
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << "prefix of " << n << " bytes";
  }
}

TEST(Codec, TrailingBytesAreAnError) {
  Bytes b = encode_sample(1, 2, "abc");
  b.push_back(0);
  Reader r(b);
  (void)r.i64("a");
  (void)r.u32("b");
  (void)r.string("s", 16);
  (void)r.boolean("flag");
  Status s = r.finish();
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.message(), "1 trailing bytes after the end");
}

TEST(Codec, OutOfRangeValuesAreErrors) {
  Bytes b;
  Writer w(&b);
  w.i64(0);   // quantity 0 where [1, 100] is required
  w.u8(2);    // a bool that is neither 0 nor 1
  w.u32(99);  // a length over the maximum
  Reader r(b);
  (void)r.i64_in("qty", 1, 100);
  EXPECT_EQ(r.status().message(), "qty = 0 is outside [1, 100]");
  Reader r2(ByteSpan(b).subspan(8));
  (void)r2.boolean("flag");
  EXPECT_FALSE(r2.finish().is_ok());
  Reader r3(ByteSpan(b).subspan(9));
  (void)r3.var_bytes("memo", 10);
  EXPECT_EQ(r3.status().message(), "memo length 99 exceeds the maximum 10");
}

TEST(Codec, FirstErrorWins) {
  Bytes b{1};
  Reader r(b);
  (void)r.u64("first");
  (void)r.u64("second");
  EXPECT_NE(r.status().message().find("first"), std::string_view::npos);
}

RC_GTEST_PROP(Codec, RoundTripsAnyValues, (std::int64_t a, std::uint32_t b, std::string s)) {
  Bytes enc = encode_sample(a, b, s);
  Reader r(enc);
  RC_ASSERT(r.i64("a") == a);
  RC_ASSERT(r.u32("b") == b);
  RC_ASSERT(r.string("s", 1u << 20) == s);
  RC_ASSERT(r.boolean("flag"));
  RC_ASSERT(r.finish().is_ok());
}

struct Pair {
  std::uint32_t a = 0;
  std::uint16_t b = 0;
  void encode(Writer& w) const {
    w.u32(a);
    w.u16(b);
  }
  static Result<Pair> decode(Reader& r) {
    Pair p;
    p.a = r.u32("a");
    p.b = r.u16("b");
    if (r.failed()) return r.status();
    return p;
  }
};

TEST(Codec, WholeBufferHelpersRoundTripAndRejectTruncationAndTrailingBytes) {
  const Bytes bytes = encode_to_bytes(Pair{0x01020304, 0x0506});
  EXPECT_EQ(bytes, (Bytes{4, 3, 2, 1, 6, 5}));
  auto back = decode_exactly<Pair>(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->a, 0x01020304u);
  EXPECT_EQ(back->b, 0x0506u);
  EXPECT_FALSE(decode_exactly<Pair>(ByteSpan(bytes).first(5)).is_ok());
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_EQ(decode_exactly<Pair>(longer).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace pfex
