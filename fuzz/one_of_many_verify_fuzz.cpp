// Fuzzes one-out-of-many proof decoding and verification (crypto/one_of_many.hpp,
// docs/crypto/one-of-many.md) for a fixed statement over N = 8 points (n = 3):
//  - decoding arbitrary bytes never crashes; an accepted proof re-encodes to the input;
//  - verify() and a batch holding the proof twice agree (verify ok iff the batch names no proof;
//    a false batch verdict has probability 1/l);
//  - nothing crashes, whatever the proof's points and scalars.
// The statement is deterministic (hash-derived points, a fixed r, index 5), so the in-tree seed
// fuzz/corpus/pfex_fuzz_one_of_many_verify/valid is a proof that verifies. To regenerate it:
//   PFEX_ONE_OF_MANY_WRITE_SEED=fuzz/corpus/pfex_fuzz_one_of_many_verify/valid <this binary>
// which writes a fresh valid proof, checks it verifies, and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/hash.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/pedersen.hpp"

namespace {

using pfex::crypto::OneOfManyBatch;
using pfex::crypto::OneOfManyGens;
using pfex::crypto::OneOfManyProof;
using pfex::crypto::OneOfManySet;
using pfex::crypto::Point;
using pfex::crypto::Scalar;
using pfex::crypto::Transcript;

constexpr std::size_t kLogSize = 3;
constexpr std::size_t kIndex = 5;
constexpr std::string_view kDomain = "pfex/v1/fuzz";

struct Statement {
  OneOfManyGens gens;
  OneOfManySet set;
  Point offset;
  Scalar r;
};

const Statement& statement() {
  static const Statement s = [] {
    std::vector<Point> points;
    for (std::uint32_t i = 0; i < (1u << kLogSize); ++i)
      points.push_back(pfex::crypto::derive_generator("fuzz/one-of-many/set", i));
    const std::string_view seed = "fuzz/one-of-many/r";
    const Scalar r =
        Scalar::hash({reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()});
    const Point offset = points[kIndex] - r * pfex::crypto::blinding_generator();
    return Statement{OneOfManyGens(), *OneOfManySet::create(std::move(points)), offset, r};
  }();
  return s;
}

Transcript transcript() {
  Transcript t(kDomain);
  t.append_u64("tx", 1);
  return t;
}

void write_seed(const char* path) {
  const Statement& s = statement();
  Transcript tp = transcript();
  auto proof = OneOfManyProof::prove(s.gens, tp, s.set, s.offset, kIndex, s.r);
  Transcript tv = transcript();
  if (!proof.is_ok() || !proof->verify(s.gens, tv, s.set, s.offset).is_ok()) std::abort();
  const pfex::Bytes bytes = proof->encode();
  std::FILE* f = std::fopen(path, "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pfex::ensure_sodium_init();
  if (const char* path = std::getenv("PFEX_ONE_OF_MANY_WRITE_SEED")) write_seed(path);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Statement& s = statement();
  const pfex::ByteSpan in(data, size);
  auto proof = OneOfManyProof::decode(in, kLogSize);
  if (size != OneOfManyProof::encoded_size(kLogSize)) {
    if (proof.is_ok()) std::abort();
    return 0;
  }
  if (!proof.is_ok()) return 0;
  if (proof->encode() != pfex::Bytes(in.begin(), in.end())) std::abort();

  Transcript t = transcript();
  const bool single = proof->verify(s.gens, t, s.set, s.offset).is_ok();

  OneOfManyBatch batch(s.gens, s.set);
  for (int k = 0; k < 2; ++k) {
    Transcript tb = transcript();
    (void)batch.add(tb, s.offset, *proof);  // a refused proof is reported by invalid_positions
  }
  const auto bad = batch.invalid_positions();
  if (single != bad.empty()) std::abort();
  if (!single && bad.size() != 2) std::abort();
  return 0;
}
