// Fuzzes the threshold ElGamal messages that arrive from the log (crypto/threshold.hpp,
// crypto/dkg.hpp; docs/crypto/threshold-elgamal.md) against a fixed committee of 5 validators
// with threshold 3, whose secrets are derived from fixed labels:
//   first byte 0: a DecryptionShare for a fixed ciphertext: decoding is strict (accepted bytes
//     re-encode to the input), verification never crashes, and a share that verifies has
//     D = s_j*R (nobody can forge a DLEQ proof, least of all a fuzzer);
//   first byte 1: a DealerMessage: strict decoding; each recipient's opened share satisfies
//     Feldman's check, and a session fed the dealing finalizes to PK = A_0;
//   first byte 2: a Complaint or a Justification (by length): strict decoding, and a justification
//     accepted by a session answers a complaint with a share that satisfies Feldman's check.
// Built with -DPFEX_FUZZ_WRITE_SEEDS and run as `prog <dir>`, it writes the seed corpus
// (fuzz/corpus/pfex_fuzz_threshold_share_verify).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/hash.hpp"
#include "crypto/dkg.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/threshold.hpp"

namespace {

using namespace pfex::crypto;  // NOLINT(google-build-using-namespace): a fuzz target

constexpr std::uint32_t kN = 5;
constexpr std::uint32_t kT = 3;

std::string label(std::string_view what, std::uint32_t j) {
  return "pfex/fuzz/threshold/" + std::string(what) + "/" + std::to_string(j);
}

Scalar fixed_scalar(std::string_view what, std::uint32_t j) {
  const std::string l = label(what, j);
  return Scalar::hash(pfex::ByteSpan(reinterpret_cast<const std::uint8_t*>(l.data()), l.size()));
}

struct Fixture {
  std::vector<X25519SecretKey> keys;
  DkgParams params;
  std::vector<Scalar> shares;  // s_j, for decryption shares
  std::vector<Point> verification_keys;
  Ciphertext ct;

  static Fixture make() {
    pfex::ensure_sodium_init();
    std::vector<X25519SecretKey> keys;
    std::vector<X25519PublicKey> pks;
    for (std::uint32_t j = 1; j <= kN; ++j) {
      keys.push_back(X25519SecretKey::from_bytes(fixed_scalar("x25519", j).bytes()));
      pks.push_back(keys.back().public_key());
    }
    const pfex::Bytes sid = {'f', 'u', 'z', 'z'};
    auto params = DkgParams::create(kN, kT, sid, pks);
    if (!params.is_ok()) std::abort();
    Fixture f{std::move(keys), *params, {}, {}, {}};
    for (std::uint32_t j = 1; j <= kN; ++j) {
      f.shares.push_back(fixed_scalar("share", j));
      f.verification_keys.push_back(Point::mul_base(f.shares.back()));
    }
    f.ct = encrypt(Point::mul_base(fixed_scalar("pk", 0)), position_to_scalar(-77),
                   fixed_scalar("rho", 0));
    return f;
  }
};

const Fixture& fixture() {
  static const Fixture f = Fixture::make();
  return f;
}

pfex::crypto::Transcript prefix() {
  Transcript t("pfex/v1/fuzz");
  t.append_u64("epoch", 3);
  return t;
}

void fuzz_decryption_share(pfex::ByteSpan in) {
  const Fixture& f = fixture();
  auto share = DecryptionShare::decode(in);
  if (!share.is_ok()) return;
  if (share->encode() != pfex::Bytes(in.begin(), in.end())) std::abort();
  if (share->index > kN) return;
  Transcript t = prefix();
  const bool ok =
      verify_decryption_share(*share, f.verification_keys[share->index - 1], f.ct, t).is_ok();
  if (ok && !(share->D == f.shares[share->index - 1] * f.ct.R)) std::abort();
}

void fuzz_dealing(pfex::ByteSpan in) {
  const Fixture& f = fixture();
  auto m = DealerMessage::decode(in, f.params);
  if (!m.is_ok()) return;
  if (m->encode() != pfex::Bytes(in.begin(), in.end())) std::abort();
  DkgSession s(f.params);
  if (!s.add_dealing(*m).is_ok()) std::abort();
  for (std::uint32_t j = 1; j <= kN; ++j) {
    auto share = s.open_share(m->dealer, j, f.keys[j - 1]);
    if (share.is_ok() && !(Point::mul_base(*share) == feldman_evaluate_var(m->commitments, j))) {
      std::abort();
    }
  }
  s.close_complaints();
  auto out = s.finalize();
  if (out.is_ok() && !(out->public_key == m->commitments[0])) std::abort();
}

void fuzz_complaint_or_justification(pfex::ByteSpan in) {
  const Fixture& f = fixture();
  if (in.size() == Complaint::kBytes) {
    auto c = Complaint::decode(in, f.params);
    if (c.is_ok() && c->encode() != pfex::Bytes(in.begin(), in.end())) std::abort();
    return;
  }
  auto j = Justification::decode(in, f.params);
  if (!j.is_ok()) return;
  if (j->encode() != pfex::Bytes(in.begin(), in.end())) std::abort();
  // A session with one dealing (a fixed polynomial) and the complaint this justification answers.
  static const DealerMessage dealing = [&] {
    auto d = Dealer::create(f.params, 1);
    if (!d.is_ok()) std::abort();
    return d->deal();
  }();
  if (j->dealer != 1) return;
  DkgSession s(f.params);
  if (!s.add_dealing(dealing).is_ok()) std::abort();
  s.close_dealings();
  if (!s.add_complaint({1, j->complainer}).is_ok()) std::abort();
  s.close_complaints();
  const bool accepted = s.add_justification(*j).is_ok();
  const bool feldman =
      Point::mul_base(j->share) == feldman_evaluate_var(dealing.commitments, j->complainer);
  if (accepted != feldman) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const pfex::ByteSpan in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      fuzz_decryption_share(in);
      break;
    case 1:
      fuzz_dealing(in);
      break;
    default:
      fuzz_complaint_or_justification(in);
      break;
  }
  return 0;
}

#ifdef PFEX_FUZZ_WRITE_SEEDS
#include <fstream>

namespace {
void write_seed(const std::string& dir, const std::string& name, std::uint8_t mode,
                const pfex::Bytes& body) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const Fixture& f = fixture();
  Transcript t = prefix();
  const DecryptionShare share = *create_decryption_share(2, f.shares[1], f.ct, t);
  write_seed(dir, "share-valid", 0, share.encode());
  DecryptionShare bad = share;
  bad.D += Point::base();
  write_seed(dir, "share-wrong-d", 0, bad.encode());
  const Dealer dealer = *Dealer::create(f.params, 4);
  const DealerMessage m = dealer.deal();
  write_seed(dir, "dealing-valid", 1, m.encode());
  DealerMessage tampered = m;
  tampered.encrypted_shares[2][7] ^= 1;
  write_seed(dir, "dealing-tampered-share", 1, tampered.encode());
  write_seed(dir, "complaint", 2, Complaint{4, 3}.encode());
  Justification j = *dealer.justify(3);
  j.dealer = 1;  // the fuzzer's session has one dealing, by dealer 1
  write_seed(dir, "justification", 2, j.encode());
  return 0;
}
#endif
