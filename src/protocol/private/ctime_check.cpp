// Constant-time check of the wallet's proving paths (src/crypto/ctime_check.cpp is the same check
// for the proof systems): a wallet builds a deposit, a post, a settle, a refresh and, after it
// defaulted, an exit with its secrets marked as undefined memory (the token's opening and chain
// key, the cash account's balance, the amounts, and every random byte drawn while it builds: the
// nonces, blindings and new serials, through crypto/ctime_randombytes.hpp), so memcheck reports
// any branch or memory index that depends on them.
// Only what the wallet publishes (the transaction's fields and proofs) and its verdicts (solvent
// or not) are made defined, by the library itself (crypto::declassify). scripts/ctime-check
// builds this and runs it under `valgrind --error-exitcode=1`.
//
// Outside valgrind the client requests do nothing and the program is a plain smoke test.
// `pfex_private_ctime --expect-leak` branches on a secret on purpose: valgrind must fail it.
#include <sodium.h>
#include <valgrind/memcheck.h>

#include <cstdio>
#include <string_view>

#include "crypto/ct.hpp"
#include "crypto/ctime_randombytes.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/wallet.hpp"

namespace {

using namespace pfex;
using namespace pfex::priv;

template <class T>
void classify(const T& v) {
  (void)VALGRIND_MAKE_MEM_UNDEFINED(&v, sizeof(T));
}

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "private ctime_check: %s\n", what);
    ++failures;
  }
}

struct Issuer {
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
};

MarketTerms terms(const Issuer& issuer) {
  MarketTerms t;
  t.market_id.fill(7);
  t.epoch = 1;
  t.log_window = 3;
  t.tick_value = 10;
  t.fee = 2;
  t.low = 90;
  t.high = 110;
  t.margin = 130;
  t.max_order_qty = 1000;
  t.validators_key = Point::mul_base(Scalar::from_u64(0x5eed));
  t.issuer = issuer.pk;
  return t;
}

// The wallet's secrets, marked undefined where they live (the wallet keeps them across calls).
void classify_wallet(const PrivateWallet& w) {
  classify(w.token());
  classify(w.chain_key());
}

// Publishes a built transaction the way a node would: its bytes go on the wire. They are made
// defined (published), decoded, and applied by the ledger (variable time, on public data only).
// Builds under marking: every random byte the wallet draws while building is secret.
template <class Build>
auto build_marked(Build&& build) {
  const crypto::ctime::Marked marked;
  return build();
}

template <class Tx>
bool publish(PrivateLedger& ledger, PrivateWallet& w, const Result<Tx>& tx, const char* what) {
  bool built = tx.is_ok();
  crypto::declassify(built);  // the verdict
  if (!built) {
    std::fprintf(stderr, "private ctime_check: %s not built: %s\n", what,
                 tx.status().to_string().c_str());
    ++failures;
    return false;
  }
  Bytes bytes = encode(PrivateTx(*tx));
  (void)VALGRIND_MAKE_MEM_DEFINED(bytes.data(), bytes.size());
  auto decoded = decode(bytes, ledger.terms().log_window);
  check(decoded.is_ok(), what);
  if (!decoded.is_ok()) return false;
  auto applied = ledger.apply(*decoded);
  if (!applied.is_ok()) {
    std::fprintf(stderr, "private ctime_check: %s not applied: %s\n", what,
                 applied.status().to_string().c_str());
    ++failures;
    return false;
  }
  check(w.confirm(*applied).is_ok(), what);
  return true;
}

// The deliberate leak: a branch on the token's cash.
int expect_leak(const PrivateWallet& w) {
  classify_wallet(w);
  volatile int sink = 0;
  if (w.attributes().c > 5) sink = 1;
  return sink * 0;
}

}  // namespace

int main(int argc, char** argv) {
  crypto::ctime::install();  // before sodium_init
  ensure_sodium_init();
  Issuer issuer;
  std::array<std::uint8_t, 32> seed{};
  seed.fill(3);
  crypto_sign_seed_keypair(issuer.pk.data(), issuer.sk.data(), seed.data());
  const PrivateGens gens;
  PrivateLedger ledger(gens, terms(issuer));
  PrivateWallet w(gens);
  auto reg = w.build_register(ledger, 1, 0);
  check(reg.is_ok() && w.confirm(*ledger.apply(PrivateTx(*reg))).is_ok(), "register");
  if (argc == 2 && std::string_view(argv[1]) == "--expect-leak") return expect_leak(w);
  if (!RUNNING_ON_VALGRIND)
    std::fprintf(stderr, "private ctime_check: not under valgrind, a smoke test only\n");

  MintTx mint;
  mint.account = w.identity();
  mint.amount = 100'000;
  mint.sequence = 1;
  const Bytes message = mint_signed_bytes(ledger.terms().market_id, mint);
  crypto_sign_detached(mint.signature.data(), nullptr, message.data(), message.size(),
                       issuer.sk.data());
  check(ledger.apply(PrivateTx(mint)).is_ok(), "mint");
  // The account's balance is secret from here on (the mint itself is public; what the wallet
  // later holds is not).
  std::uint64_t minted = 100'000;
  classify(minted);
  w.on_mint(minted);

  classify_wallet(w);
  std::uint64_t amount = 50'000;
  classify(amount);
  if (!publish(ledger, w, build_marked([&] { return w.build_deposit(ledger, amount); }), "deposit"))
    return 1;
  classify_wallet(w);
  if (!publish(ledger, w, build_marked([&] {
                 return w.build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3);
               }),
               "post"))
    return 1;
  check(ledger.record_fill(0, 100, 2).is_ok(), "fill");
  classify_wallet(w);
  if (!publish(ledger, w, build_marked([&] { return w.build_settle(ledger); }), "settle")) return 1;
  MarketTerms next = ledger.terms();
  next.epoch = 2;
  check(ledger.begin_margin_round(next, 1).is_ok(), "margin round");
  classify_wallet(w);
  if (!publish(ledger, w, build_marked([&] { return w.build_settle(ledger); }),
               "settle before the refresh"))
    return 1;
  classify_wallet(w);
  std::uint64_t deposit = 700;
  classify(deposit);
  if (!publish(ledger, w, build_marked([&] { return w.build_refresh(ledger, deposit); }),
               "refresh"))
    return 1;

  // The results are right: made defined only to check them.
  Attributes a = w.attributes();
  crypto::declassify(a);
  check(a.c == 50'000 - 2'000 - 4 - 2 + 700 && a.vp == 2 && a.B == 0, "the wallet's token");

  // The next round passes without a refresh: the wallet defaults, and exits at the recorded
  // liquidation price with its token of epoch 2.
  check(ledger.close_refresh_window().is_ok(), "the first round's refresh window closes");
  next.epoch = 3;
  check(ledger.begin_margin_round(next, 0).is_ok(), "second margin round");
  check(ledger.close_refresh_window().is_ok(), "the refresh window closes");
  check(ledger.record_liquidation_price(2, {100, 1}).is_ok(), "liquidation price");
  classify_wallet(w);
  if (!publish(ledger, w, build_marked([&] { return w.build_exit(ledger); }), "exit")) return 1;
  if (failures != 0) return 1;
  std::printf("private ctime_check: deposit, post, settle, refresh and exit ran on secret data\n");
  return 0;
}
