// Fuzzes the linear sigma proof (crypto/sigma.hpp) in two modes chosen by the first byte:
//  0: the rest is a proof for a fixed statement; decoding and verification must not crash, and a
//     proof that decodes re-encodes to the same bytes.
//  1: the next bytes are hashed to three witnesses of a two-relation statement (a commitment and a
//     key sharing kappa, as in docs/design.md section 5); the honest proof must verify, and the
//     proof with one byte flipped (position and bit from the input) must be rejected.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/hash.hpp"
#include "crypto/generators.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/sigma.hpp"

namespace {

using pfex::crypto::LinearProof;
using pfex::crypto::LinearStatement;
using pfex::crypto::Point;
using pfex::crypto::Scalar;
using pfex::crypto::Transcript;

LinearStatement statement_for(const std::vector<Scalar>& w) {
  const Point G = Point::base(), H = pfex::crypto::blinding_generator();
  const Point K = pfex::crypto::derive_generator("fuzz/kappa", 0);
  LinearStatement s(3);
  const std::size_t bg = s.add_base(G), bh = s.add_base(H), bk = s.add_base(K);
  const std::size_t j0 = s.add_relation(w[0] * G + w[1] * H + w[2] * K);
  const std::size_t j1 = s.add_relation(w[2] * K);
  if (!s.add_term(j0, 0, bg).is_ok() || !s.add_term(j0, 1, bh).is_ok() ||
      !s.add_term(j0, 2, bk).is_ok() || !s.add_term(j1, 2, bk).is_ok())
    std::abort();
  return s;
}

pfex::Status verify(const LinearStatement& s, pfex::ByteSpan bytes) {
  pfex::Reader r(bytes);
  auto p = LinearProof::decode(r, s);
  if (!p.is_ok()) return p.status();
  PFEX_RETURN_IF_ERROR(r.finish());
  Transcript t("pfex/v1/fuzz");
  return pfex::crypto::verify_linear(s, *p, t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pfex::ensure_sodium_init();
  if (size == 0) return 0;
  const pfex::ByteSpan rest(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    static const LinearStatement fixed =
        statement_for({Scalar::from_u64(1), Scalar::from_u64(2), Scalar::from_u64(3)});
    pfex::Reader r(rest);
    auto p = LinearProof::decode(r, fixed);
    if (p.is_ok() && r.finish().is_ok()) {
      pfex::Bytes again;
      pfex::Writer w(&again);
      p->encode(w);
      if (again != pfex::Bytes(rest.begin(), rest.end())) std::abort();
      Transcript t("pfex/v1/fuzz");
      (void)pfex::crypto::verify_linear(fixed, *p, t);
    }
    return 0;
  }
  if (rest.size() < 2) return 0;
  std::vector<Scalar> w;
  for (std::uint8_t k = 0; k < 3; ++k) {
    pfex::Bytes seed(rest.begin(), rest.end());
    seed.push_back(k);
    w.push_back(Scalar::hash(seed));
  }
  const LinearStatement s = statement_for(w);
  Transcript tp("pfex/v1/fuzz");
  auto proof = pfex::crypto::prove_linear(s, w, tp);
  if (!proof.is_ok()) std::abort();
  pfex::Bytes bytes;
  pfex::Writer writer(&bytes);
  proof->encode(writer);
  if (!verify(s, bytes).is_ok()) std::abort();
  bytes[rest[0] % bytes.size()] ^= static_cast<std::uint8_t>(1u << (rest[1] % 8));
  if (verify(s, bytes).is_ok()) std::abort();
  return 0;
}
