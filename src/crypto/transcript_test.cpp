#include "crypto/transcript.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/hash.hpp"
#include "crypto/generators.hpp"

namespace pfex::crypto {
namespace {

ByteSpan bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A history touching every kind of record; fixed_history() is history() with the defaults.
Transcript history(std::string_view domain = "pfex/v1/test",
                   std::string_view protocol = "example/v1", std::uint64_t n = 64,
                   std::uint32_t generator = 0) {
  Transcript t(domain);
  t.append_domain_separator(protocol);
  t.append_u64("n", n);
  t.append_message("market", bytes_of("lean-hog"));
  t.append_scalar("s", Scalar::from_u64(7));
  t.append_point("P", derive_generator("G", generator));
  return t;
}
Transcript fixed_history() {
  return history();
}

// Pinned, and computed independently with Python's hashlib.blake2b from the record encoding in
// transcript.hpp. Any change to the record encoding, the hash, the reduction or the labels changes
// these and every proof ever made. Change them only with a new transcript version.
TEST(Transcript, ChallengesArePinned) {
  Transcript t = fixed_history();
  EXPECT_EQ(to_hex(t.challenge_scalar("x").bytes()),
            "b9bd7ec7056560f60c668667c18ddf84397e518de012b5ee661ac6c6e9c62604");
  EXPECT_EQ(to_hex(t.challenge_scalar("y").bytes()),
            "511195e82d1162a93e7cd9de17b8d56b34accc4a3a59fdfc2072fdde047bc309");
  Transcript empty("pfex/v1/test");
  EXPECT_EQ(to_hex(empty.challenge_scalar("c").bytes()),
            "4b95832d090dcf7a83f5a90694b5762701de06a47c22b13a1a9366ac75989708");
}

TEST(Transcript, SameHistorySameChallenge) {
  Transcript a = fixed_history();
  Transcript b = fixed_history();
  EXPECT_EQ(a.challenge_scalar("x"), b.challenge_scalar("x"));
  EXPECT_EQ(a.challenge_scalar("y"), b.challenge_scalar("y"));
}

TEST(Transcript, LaterChallengesDependOnEarlierOnes) {
  Transcript a = fixed_history();
  Transcript b = fixed_history();
  (void)a.challenge_scalar("x");
  // b skips the first challenge: its second one differs.
  EXPECT_NE(a.challenge_scalar("y"), b.challenge_scalar("y"));
  Transcript c = fixed_history();
  EXPECT_NE(c.challenge_scalar("x"), c.challenge_scalar("x"));  // repeated request, new value
}

TEST(Transcript, EveryInputChangesTheChallenge) {
  const Scalar base = fixed_history().challenge_scalar("x");
  EXPECT_NE(history("pfex/v1/test2").challenge_scalar("x"), base);                      // domain
  EXPECT_NE(history("pfex/v1/test", "example/v2").challenge_scalar("x"), base);         // version
  EXPECT_NE(history("pfex/v1/test", "example/v1", 65).challenge_scalar("x"), base);     // a value
  EXPECT_NE(history("pfex/v1/test", "example/v1", 64, 1).challenge_scalar("x"), base);  // a point
  EXPECT_NE(fixed_history().challenge_scalar("z"), base);  // the challenge's label
}

TEST(Transcript, RecordBoundariesAreUnambiguous) {
  // ("ab", "c") and ("a", "bc") as (label, message) must not collide, nor one message split in two.
  Transcript a("pfex/v1/test");
  a.append_message("ab", bytes_of("c"));
  Transcript b("pfex/v1/test");
  b.append_message("a", bytes_of("bc"));
  EXPECT_NE(a.challenge_scalar("x"), b.challenge_scalar("x"));
  Transcript c("pfex/v1/test");
  c.append_message("m", bytes_of("xy"));
  Transcript d("pfex/v1/test");
  d.append_message("m", bytes_of("x"));
  d.append_message("m", bytes_of("y"));
  EXPECT_NE(c.challenge_scalar("x"), d.challenge_scalar("x"));
}

TEST(Transcript, CopyForksTheHistory) {
  Transcript a = fixed_history();
  Transcript b = a;
  b.append_u64("extra", 1);
  Transcript c = fixed_history();
  EXPECT_EQ(a.challenge_scalar("x"), c.challenge_scalar("x"));
  EXPECT_NE(b.challenge_scalar("x"), fixed_history().challenge_scalar("x"));
}

TEST(Transcript, ValidatedPointsRejectTheIdentityAndAbsorbNothing) {
  Transcript a = fixed_history();
  const Status s = a.validate_and_append_point("A", Point::identity());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.challenge_scalar("x"), fixed_history().challenge_scalar("x"));

  Transcript b = fixed_history();
  EXPECT_TRUE(b.validate_and_append_point("A", derive_generator("G", 3)).is_ok());
  Transcript c = fixed_history();
  c.append_point("A", derive_generator("G", 3));
  EXPECT_EQ(b.challenge_scalar("x"), c.challenge_scalar("x"));
}

}  // namespace
}  // namespace pfex::crypto
