// Fuzzes range-proof decoding and verification (crypto/bulletproof.hpp): the first byte picks
// m = 1 or m = 2 (its low bit), the rest is decoded as a proof for m values and verified against
// fixed commitments. Must never crash; a decoded proof re-encodes to its input, and verification
// answers ok or kInvalidProof, nothing else. The seeds in fuzz/corpus/pfex_fuzz_bulletproof_verify
// are valid proofs for these commitments, written by bulletproof_test.cpp (RangeProofFuzzSeeds).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "core/hash.hpp"
#include "crypto/bulletproof.hpp"

namespace {

using pfex::crypto::BulletproofGens;
using pfex::crypto::Point;
using pfex::crypto::Scalar;

const BulletproofGens& gens() {
  static const BulletproofGens g("bp", 2);
  return g;
}

// V_j = (1000 + j)*G + gamma_j*H, gamma_j = hash("pfex/fuzz/bulletproof/gamma" || j): the
// statement of the seeds (the same formula is in bulletproof_test.cpp).
const std::vector<Point>& commitments() {
  static const std::vector<Point> v = [] {
    std::vector<Point> out;
    for (std::uint8_t j = 0; j < 2; ++j) {
      const std::string_view prefix = "pfex/fuzz/bulletproof/gamma";
      std::vector<std::uint8_t> label(prefix.begin(), prefix.end());
      label.push_back(j);
      out.push_back(gens().pedersen().commit(Scalar::from_u64(1000u + j), Scalar::hash(label)));
    }
    return out;
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pfex::ensure_sodium_init();
  if (size == 0) return 0;
  const std::size_t m = (data[0] & 1) != 0 ? 2 : 1;
  const pfex::ByteSpan bytes(data + 1, size - 1);
  auto proof = pfex::crypto::RangeProof::decode(bytes, m);
  if (!proof.is_ok()) {
    if (proof.status().code() != pfex::ErrorCode::kInvalidArgument) std::abort();
    return 0;
  }
  const pfex::Bytes again = proof->encode();
  if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) {
    std::abort();
  }
  pfex::crypto::Transcript t("pfex/v1/fuzz");
  const pfex::Status s = proof->verify(gens(), t, std::span(commitments()).first(m));
  if (!s.is_ok() && s.code() != pfex::ErrorCode::kInvalidProof) std::abort();
  return 0;
}
