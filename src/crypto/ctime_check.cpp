// Constant-time check, in the style of libsecp256k1's ctime_tests: every secret input is marked as
// undefined memory with a valgrind client request, then every constant-time operation runs on it.
// Memcheck reports any conditional branch or memory address that depends on undefined data, so
// `valgrind --error-exitcode=1 pfex_crypto_ctime` fails if a constant-time function leaks through
// its control flow or memory access pattern. Results are made defined (declassify) only after the
// operations, to check they are also correct. scripts/ctime-check builds and runs this.
//
// Outside valgrind the client requests do nothing and the program is a plain smoke test.
// `pfex_crypto_ctime --expect-leak` branches on a secret on purpose: valgrind must fail it;
// `--expect-leak-drawn` does the same on a nonce marked only by the randombytes implementation.
#include <sodium.h>
#include <valgrind/memcheck.h>

#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "core/hash.hpp"
#include "crypto/bulletproof_internal.hpp"
#include "crypto/ct.hpp"
#include "crypto/ctime_randombytes.hpp"
#include "crypto/dkg.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/msm.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/sigma.hpp"
#include "crypto/threshold.hpp"

// Each secret is a copy of a public value (x = x_pub): the copy is marked undefined, the original
// stays defined to check the results against.
// NOLINTBEGIN(performance-unnecessary-copy-initialization)
namespace {

using pfex::crypto::declassify;

using pfex::crypto::FixedBaseTable;
using pfex::crypto::Point;
using pfex::crypto::Scalar;

// Marks a value as secret: memcheck treats its bytes as undefined from here on.
template <class T>
void classify(const T& v) {
  (void)VALGRIND_MAKE_MEM_UNDEFINED(&v, sizeof(T));
}

// A prover's or dealer's random value, marked secret as it is drawn.
Scalar secret_random() {
  const Scalar s = Scalar::random();
  classify(s);
  return s;
}

int failures = 0;

// Results are declassified only to check them, after every secret-dependent step has run.
void check(bool ok, const char* what) {
  declassify(ok);  // test bookkeeping, not part of any operation under test
  if (!ok) {
    std::fprintf(stderr, "ctime_check: wrong result: %s\n", what);
    ++failures;
  }
}

template <class T>
T declassified(T v) {
  declassify(v);  // the result of an operation under test, made public only to check it
  return v;
}

void scalar_operations() {
  const Scalar a = Scalar::random();
  const Scalar b = Scalar::random();
  const Scalar a_pub = a;
  const Scalar b_pub = b;
  classify(a);
  classify(b);

  const Scalar sum = a + b;
  const Scalar diff = a - b;
  const Scalar prod = a * b;
  const Scalar neg = -a;
  const bool zero = a.is_zero();
  const bool eq = a == b;
  const auto inv = a.invert();  // declassifies only "was a zero"
  std::vector<Scalar> batch = {a, b, prod};
  const auto batch_status = Scalar::batch_invert(batch);  // likewise

  std::array<std::uint8_t, 64> wide;
  randombytes_buf(wide.data(), wide.size());
  const auto wide_pub = wide;
  classify(wide);
  const Scalar reduced = Scalar::from_bytes_mod_order_wide(wide);
  const Scalar hashed = Scalar::hash(wide);
  // Decoding a secret encoding: only acceptance is declassified.
  const auto decoded = Scalar::decode(a.bytes());

  check(declassified(sum) == a_pub + b_pub, "scalar add");
  check(declassified(diff) == a_pub - b_pub, "scalar sub");
  check(declassified(prod) == a_pub * b_pub, "scalar mul");
  check(declassified(neg) == -a_pub, "scalar negate");
  check(!declassified(zero), "scalar is_zero");
  check(!declassified(eq), "scalar ==");
  check(inv.is_ok() && declassified(*inv) * a_pub == Scalar::one(), "scalar invert");
  check(batch_status.is_ok() && declassified(batch[1]) * b_pub == Scalar::one(), "batch invert");
  check(declassified(reduced) == Scalar::from_bytes_mod_order_wide(wide_pub), "reduce wide");
  check(declassified(hashed) == Scalar::hash(wide_pub), "hash to scalar");
  check(decoded.is_ok() && declassified(*decoded) == a_pub, "scalar decode");
}

void point_operations() {
  const Scalar s = Scalar::random();
  const Scalar s_pub = s;
  const Point p = Point::random();
  const Point q = Point::random();
  const Point p_pub = p;
  const FixedBaseTable table(q);
  classify(s);

  // Secret scalars.
  const Point sp = s * p;
  const Point sg = Point::mul_base(s);
  const Point sq = table.mul(s);

  // Secret points (a commitment is secret-derived until published).
  classify(p);
  const Point sum = p + q;
  const Point diff = p - q;
  const Point dbl = p.dbl();
  const Point neg = -p;
  const Point::Encoding enc = p.encode();
  const bool eq = p == q;
  const bool id = p.is_identity();
  const auto decoded = Point::decode(p_pub.encode());

  std::array<std::uint8_t, 64> uniform;
  randombytes_buf(uniform.data(), uniform.size());
  const auto uniform_pub = uniform;
  classify(uniform);
  const Point mapped = Point::from_uniform_bytes(uniform);
  const Point hashed = Point::hash(uniform);

  check(declassified(sp) == s_pub * p_pub, "scalar mult");
  check(declassified(sg) == s_pub * Point::base(), "base mult");
  check(declassified(sq) == s_pub * q, "fixed-base table mult");
  check(declassified(sum) == p_pub + q, "point add");
  check(declassified(diff) == p_pub - q, "point sub");
  check(declassified(dbl) == p_pub + p_pub, "point double");
  check(declassified(neg) == -p_pub, "point negate");
  check(declassified(enc) == p_pub.encode(), "point encode");
  check(!declassified(eq), "point ==");
  check(!declassified(id), "point is_identity");
  check(decoded.is_ok(), "point decode");
  check(declassified(mapped) == Point::from_uniform_bytes(uniform_pub), "from_uniform_bytes");
  check(declassified(hashed) == Point::hash(uniform_pub), "hash to point");
}

void secret_point_decode() {
  const Point p = Point::random();
  Point::Encoding enc = p.encode();
  classify(enc);
  const auto decoded = Point::decode(enc);  // declassifies only acceptance
  check(decoded.is_ok() && declassified(*decoded) == p, "decode of a secret encoding");
}

void constant_time_msm() {
  // Sizes around the chunk boundary (128) and the special scalars.
  for (std::size_t n : {1u, 7u, 130u}) {
    std::vector<Scalar> scalars;
    std::vector<Point> points;
    for (std::size_t i = 0; i < n; ++i) {
      scalars.push_back(i % 5 == 1 ? Scalar::zero() : Scalar::random());
      points.push_back(Point::random());
    }
    scalars[0] = -Scalar::one();
    const std::vector<Scalar> scalars_pub = scalars;
    for (const Scalar& s : scalars)
      classify(s);
    const auto got = pfex::crypto::msm(scalars, points);
    check(got.is_ok(), "msm status");
    const Point want = *pfex::crypto::msm_var(scalars_pub, points);
    check(declassified(*got) == want, "msm");
  }
}

// Pedersen commitments and the linear sigma prover on secret values and witnesses. The proof is
// published, so it is declassified before it is checked.
void pedersen_and_sigma_prover() {
  const pfex::crypto::PedersenGens gens;
  const Scalar x = Scalar::random(), r = Scalar::random(), kappa = Scalar::random();
  const Point G_kappa = pfex::crypto::derive_generator("ctime/kappa", 0);
  const Point c_pub = gens.commit(x, r) + kappa * G_kappa;
  const Point k_pub = kappa * G_kappa;
  classify(x);
  classify(r);
  classify(kappa);
  const Point c = gens.commit(x, r);
  check(declassified(c) + k_pub == c_pub, "pedersen commit");

  // Two relations sharing kappa: C = x*G + r*H + kappa*G_kappa, K = kappa*G_kappa.
  pfex::crypto::LinearStatement st(3);
  const std::size_t bg = st.add_base(gens.G()), bh = st.add_base(gens.H());
  const std::size_t bk = st.add_base(G_kappa);
  const std::size_t j0 = st.add_relation(c_pub), j1 = st.add_relation(k_pub);
  check(st.add_term(j0, 0, bg).is_ok() && st.add_term(j0, 1, bh).is_ok() &&
            st.add_term(j0, 2, bk).is_ok() && st.add_term(j1, 2, bk).is_ok(),
        "statement");
  const std::vector<Scalar> w = {x, r, kappa};
  // The nonces k_i are secret too: z_i = k_i + c w_i would reveal w_i otherwise.
  pfex::crypto::Transcript tp("pfex/v1/ctime");
  auto proof = pfex::crypto::detail::prove_linear_with_nonces(st, w, tp, secret_random);
  declassify(proof);  // the proof is published
  check(proof.is_ok(), "sigma prove");
  if (proof.is_ok()) {
    for (const Point& a : proof->A())
      declassify(a);
    for (const Scalar& z : proof->z())
      declassify(z);
    pfex::crypto::Transcript tv("pfex/v1/ctime");
    check(pfex::crypto::verify_linear(st, *proof, tv).is_ok(), "sigma verify");
  }
}

// The one-out-of-many prover over 16 points with a secret index and opening: the bits of the
// index, the selection of C_index for the statement check, the polynomials and the MSMs must not
// branch on them or use them as memory indices. The proof is published: checked after.
void one_of_many_prover() {
  std::vector<Point> points;
  points.reserve(16);
  for (int i = 0; i < 16; ++i)
    points.push_back(Point::random());
  const std::size_t index_pub = randombytes_uniform(16);  // not a compile-time constant
  const Scalar r_pub = Scalar::random();
  const Point offset = points[index_pub] - r_pub * pfex::crypto::blinding_generator();
  const auto set = pfex::crypto::OneOfManySet::create(points);
  const pfex::crypto::OneOfManyGens gens;
  const std::size_t index = index_pub;
  const Scalar r = r_pub;
  classify(index);
  classify(r);
  // The prover's random values (a_j, rho_j, r_A..r_D) are secret too: the responses would reveal
  // the bits of the index otherwise.
  pfex::crypto::Transcript tp("pfex/v1/ctime");
  auto proof =
      pfex::crypto::detail_prove_with_nonces(gens, tp, *set, offset, index, r, secret_random);
  check(proof.is_ok(), "one-of-many prove");
  if (proof.is_ok()) {
    pfex::crypto::Transcript tv("pfex/v1/ctime");
    check(proof->verify(gens, tv, *set, offset).is_ok(), "one-of-many verify");
  }
  // A false statement (wrong opening) is refused; only the verdict is public.
  const Scalar wrong = r_pub + Scalar::one();
  classify(wrong);
  pfex::crypto::Transcript tw("pfex/v1/ctime");
  check(!pfex::crypto::OneOfManyProof::prove(gens, tw, *set, offset, index, wrong).is_ok(),
        "one-of-many refuses a false statement");
}

// The range prover (docs/crypto/bulletproofs.md section 5) with the values, the blindings and
// every nonce (alpha, s_L, s_R, rho, tau_1, tau_2) secret. The prover declassifies only what it
// publishes: the commitments and the proof.
void bulletproof_prover() {
  const pfex::crypto::BulletproofGens gens("bp", 2);
  std::vector<std::uint64_t> values = {0x0123456789abcdefULL, ~std::uint64_t{0}};
  std::vector<Scalar> blindings = {Scalar::random(), Scalar::random()};
  for (const auto& v : values)
    classify(v);
  for (const Scalar& b : blindings)
    classify(b);
  const auto secret_nonce = [] {
    const Scalar s = Scalar::random();
    classify(s);
    return s;
  };
  pfex::crypto::Transcript tp("pfex/v1/ctime");
  auto proved = pfex::crypto::detail::RangeProofAccess::prove_values(gens, tp, values, blindings,
                                                                     secret_nonce);
  check(proved.is_ok(), "range prove");
  if (proved.is_ok()) {
    pfex::crypto::Transcript tv("pfex/v1/ctime");
    check(proved->proof.verify(gens, tv, proved->commitments).is_ok(), "range verify");
  }
}

// Threshold ElGamal (docs/crypto/threshold-elgamal.md section 6): encryption of a secret position
// with the refresh's proof (v, r, rho secret), a decryption share (s_j secret), and the DKG's share
// sealing and opening (the share and the X25519 keys secret). Published results are checked after.
void threshold_elgamal() {
  namespace pc = pfex::crypto;
  // A published proof: its responses are made public (the vector's contents, not just its header).
  const auto publish = [](const pc::LinearProof& p) {
    for (const Point& a : p.A())
      declassify(a);
    for (const Scalar& z : p.z())
      declassify(z);
  };
  const pc::PedersenGens gens;
  const Scalar x = Scalar::random();
  const Point pk = Point::mul_base(x);
  const std::int64_t v_pub = -987654321;
  const Scalar r_pub = Scalar::random();
  const Scalar rho_pub = Scalar::random();
  const std::int64_t v_int = v_pub;
  const Scalar r = r_pub;
  const Scalar rho = rho_pub;
  classify(v_int);
  classify(r);
  classify(rho);
  const Scalar v = pc::position_to_scalar(v_int);
  const Point V = gens.commit(v, r);
  const pc::Ciphertext ct = pc::encrypt(pk, v, rho);
  pc::Transcript tp("pfex/v1/ctime");
  auto proof = pc::prove_encryption(gens, pk, declassified(V), declassified(ct), v, r, rho, tp);
  check(proof.is_ok(), "encryption prove");
  if (proof.is_ok()) publish(proof->linear());
  const pc::Ciphertext ct_pub = declassified(ct);
  if (proof.is_ok()) {
    pc::Transcript tv("pfex/v1/ctime");
    check(pc::verify_encryption(gens, pk, declassified(V), ct_pub, *proof, tv).is_ok(),
          "encryption verify");
  }
  check(ct_pub.E == Point::mul_base(pc::position_to_scalar(v_pub)) + rho_pub * pk, "encrypt");

  // Decryption share with a secret s_j.
  const Scalar s_pub = Scalar::random();
  const Scalar s = s_pub;
  classify(s);
  pc::Transcript ts("pfex/v1/ctime");
  auto share = pc::create_decryption_share(1, s, ct_pub, ts);
  check(share.is_ok(), "decryption share");
  if (share.is_ok()) {
    publish(share->proof);
    const pc::DecryptionShare pub = declassified(*share);
    check(pub.D == s_pub * ct_pub.R, "decryption share D");
    pc::Transcript tv("pfex/v1/ctime");
    check(pc::verify_decryption_share(pub, Point::mul_base(s_pub), ct_pub, tv).is_ok(),
          "decryption share verify");
  }

  // DKG: seal a secret share under a secret ephemeral key, open it with a secret recipient key.
  const pc::X25519SecretKey sk1 = pc::X25519SecretKey::generate();
  const pc::X25519SecretKey sk2 = pc::X25519SecretKey::generate();
  const pfex::Bytes sid = {'c', 't'};
  auto params = pc::DkgParams::create(2, 1, sid, {sk1.public_key(), sk2.public_key()});
  check(params.is_ok(), "dkg params");
  if (!params.is_ok()) return;
  const Scalar a0_pub = Scalar::random();
  const Point A0 = Point::mul_base(a0_pub);
  const pc::X25519SecretKey esk = pc::X25519SecretKey::generate();
  pc::DealerMessage m;
  m.dealer = 1;
  m.commitments = {A0};
  m.ephemeral_key = esk.public_key();
  const Scalar a0 = a0_pub;
  classify(a0);
  classify(esk.bytes());
  for (std::uint32_t j = 1; j <= 2; ++j)
    m.encrypted_shares.push_back(
        declassified(pc::seal_dkg_share(*params, esk, 1, j, m.commitments, a0)));
  // Opening: libsodium's AEAD branches on its own verdict (public: a failure is complained about
  // in public), so the recipient's key is not classified here; the Feldman check of the opened
  // share is, with the share secret.
  pc::DkgSession session(*params);
  check(session.add_dealing(m).is_ok(), "dkg dealing");
  auto opened = session.open_share(1, 2, sk2);
  check(opened.is_ok() && *opened == a0_pub, "dkg open share");
  check(pc::feldman_verify(m.commitments, 2, a0), "feldman check of a secret share");
  const Scalar wrong = a0 + Scalar::one();
  check(!pc::feldman_verify(m.commitments, 2, wrong), "feldman check refuses a wrong share");

  // A dealer whose polynomial's coefficients are secret: the commitments A_k = a_k*G, evaluating
  // the shares f(j) and sealing them must not branch on them. The dealing is published.
  auto dealer = pc::Dealer::detail_create_with(*params, 2, secret_random);
  check(dealer.is_ok(), "dkg dealer");
  if (!dealer.is_ok()) return;
  pc::DealerMessage dealt = dealer->deal();
  for (const Point& A : dealt.commitments)
    declassify(A);
  for (auto& c : dealt.encrypted_shares)
    declassify(c);
  declassify(dealt);
  check(session.add_dealing(dealt).is_ok(), "dkg secret dealer's dealing");
  auto opened_2 = session.open_share(2, 1, sk1);
  check(opened_2.is_ok() && pc::feldman_verify(dealt.commitments, 1, *opened_2),
        "dkg secret dealer's share opens and checks");
  auto justified = dealer->justify(1);
  check(justified.is_ok(), "dkg justification");
  if (justified.is_ok()) {
    const pc::Justification pub = declassified(*justified);  // published in round 3
    check(opened_2.is_ok() && pub.share == *opened_2, "dkg justification is the share");
  }
}

// The provers' own nonces: every random byte drawn under ctime::Marked is secret (the marking
// randombytes implementation), so Scalar::random, Point::random and the public provers, which
// draw their nonces themselves, run here on secret randomness with nothing passed in. The
// witnesses are secret too; the proofs are published (the provers declassify them).
void drawn_nonces() {
  namespace pc = pfex::crypto;
  std::vector<Point> points;
  points.reserve(8);
  for (int i = 0; i < 8; ++i)
    points.push_back(Point::random());
  const Scalar r_pub = Scalar::random();
  const Point offset = points[5] - r_pub * pc::blinding_generator();
  const auto set = pc::OneOfManySet::create(points);
  const pc::OneOfManyGens oom_gens;
  const pc::BulletproofGens bp_gens("bp", 2);
  const pc::PedersenGens gens;
  const Scalar x_pub = Scalar::random();
  const Point X = Point::mul_base(x_pub);
  std::size_t index = 5;
  Scalar r = r_pub;
  Scalar x = x_pub;
  std::uint64_t values[] = {77, 0xfedcba9876543210ULL};
  classify(index);
  classify(r);
  classify(x);
  classify(values);
  Scalar drawn;
  Point drawn_point;
  pc::Transcript t1("pfex/v1/ctime");
  pc::Transcript t2("pfex/v1/ctime");
  pc::Transcript t3("pfex/v1/ctime");
  pc::LinearStatement st(1);
  const std::size_t bg = st.add_base(gens.G());
  check(st.add_term(st.add_relation(X), 0, bg).is_ok(), "statement");
  pfex::Result<pc::RangeProofWithCommitments> range =
      pfex::Status::failed_precondition("not proved");
  pfex::Result<pc::OneOfManyProof> member = pfex::Status::failed_precondition("not proved");
  pfex::Result<pc::LinearProof> linear = pfex::Status::failed_precondition("not proved");
  {
    const pc::ctime::Marked marked;
    drawn = Scalar::random();
    drawn_point = Point::random();
    const Scalar blindings[] = {Scalar::random(), Scalar::random()};
    range = pc::RangeProof::prove(bp_gens, t1, values, blindings);
    member = pc::OneOfManyProof::prove(oom_gens, t2, *set, offset, index, r);
    const Scalar w[] = {x};
    linear = pc::prove_linear(st, w, t3);
  }
  // Verifying draws public weights: outside the marked scope.
  check(!declassified(drawn).is_zero(), "a drawn scalar");
  check(!declassified(drawn_point).is_identity(), "a drawn point");
  check(range.is_ok() && member.is_ok() && linear.is_ok(), "provers with drawn nonces");
  if (!range.is_ok() || !member.is_ok() || !linear.is_ok()) return;
  pc::Transcript v1("pfex/v1/ctime");
  check(range->proof.verify(bp_gens, v1, range->commitments).is_ok(), "range verify");
  pc::Transcript v2("pfex/v1/ctime");
  check(member->verify(oom_gens, v2, *set, offset).is_ok(), "one-of-many verify");
  for (const Point& a : linear->A())
    declassify(a);
  for (const Scalar& z : linear->z())
    declassify(z);
  pc::Transcript v3("pfex/v1/ctime");
  check(pc::verify_linear(st, *linear, v3).is_ok(), "sigma verify");
}

// A deliberate leak, so scripts/ctime-check can confirm that memcheck does catch one.
int expect_leak() {
  Scalar s = Scalar::random();
  classify(s);
  volatile int sink = 0;
  if (s.bytes()[0] & 1) sink = 1;  // branches on a secret bit: must be reported
  return sink * 0;
}

// The same leak on a drawn nonce, marked by the randombytes implementation alone.
int expect_leak_drawn() {
  Scalar s;
  {
    const pfex::crypto::ctime::Marked marked;
    s = Scalar::random();
  }
  volatile int sink = 0;
  if (s.bytes()[0] & 1) sink = 1;  // must be reported
  return sink * 0;
}

}  // namespace
// NOLINTEND(performance-unnecessary-copy-initialization)

// NOLINTNEXTLINE(bugprone-exception-escape): a check program; an escaping exception aborts it
int main(int argc, char** argv) {
  pfex::crypto::ctime::install();  // before sodium_init
  pfex::ensure_sodium_init();
  if (argc == 2 && std::string_view(argv[1]) == "--expect-leak") return expect_leak();
  if (argc == 2 && std::string_view(argv[1]) == "--expect-leak-drawn") return expect_leak_drawn();
  if (!RUNNING_ON_VALGRIND) {
    std::fprintf(stderr, "ctime_check: not under valgrind, running as a smoke test only\n");
  }
  scalar_operations();
  point_operations();
  secret_point_decode();
  constant_time_msm();
  pedersen_and_sigma_prover();
  threshold_elgamal();
  bulletproof_prover();
  one_of_many_prover();
  drawn_nonces();
  if (failures != 0) return 1;
  std::printf("ctime_check: all constant-time operations ran on secret data\n");
  return 0;
}
