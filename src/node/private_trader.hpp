// The trader's node in a private market (docs/node/private_node.md): it follows the log with its
// replica of the private ledger, takes in what the log pays its identity (mints, transfers),
// confirms its own transactions when the ledger shows their effect, settles its orders' fills
// after a uniform random delay (so a settle's time does not point at the fill, and through it at
// the post), refreshes by itself when a margin round opens (depositing from the cash account what
// the wallet names as "E_L short by X"), and submits through a Submit function: in production
// submit_through(), node::submit_transaction through SOCKS5 with a fresh proxy username each time.
//
// Crash safety: one transaction at a time. The entry is saved as pending with the wallet's
// pending outcome (PrivateWalletStore::save_pending) before it is submitted; after a restart,
// follow() confirms it if the ledger shows it (its serial is spent into the pending token, or the
// signer's sequence reached it) and resubmit_pending() otherwise submits the very same bytes. The
// trader never builds a second transaction while one is pending, so no token is spent twice and
// nothing the ledger applied is lost. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "core/units.hpp"
#include "node/private_wallet_store.hpp"
#include "node/submit.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/validator_stages.hpp"

namespace pfex::node {

struct PrivateTraderOptions {
  // Fills (and closed remainders) are settled after a uniform random delay in [0, this] of
  // ledger time from when the node saw them.
  LedgerTime max_settle_delay{0};
  // Draws a delay in [0, max] (ms); uniform from libsodium's generator when empty. Tests fix it.
  std::function<std::int64_t(std::int64_t max)> draw_delay;
  // Refresh in a margin round without being asked.
  bool auto_refresh = true;
};

// Where sending stands, for the fault hook of the crash tests.
enum class TraderStep : std::uint8_t {
  kBuilt,      // the transaction is built (nothing saved)
  kSaved,      // the entry is saved as pending (not submitted)
  kSubmitted,  // the entry was handed to Submit
  kConfirmed,  // follow() confirmed it in the wallet (not yet saved)
};

class PrivateTrader {
 public:
  // Hands one entry (envelope bytes) to the log. kInvalidArgument means the gateway refused
  // these bytes (HTTP 400: it checked them and will never take them; submit_through maps nothing
  // else to it); any other error (a 5xx, a timeout, a network failure) leaves the entry pending,
  // resubmitted later.
  using Submit = std::function<Status(ByteSpan entry)>;
  // Called after each step; false stops the trader there (kIoError "stopped at ..."), as if the
  // process were killed: the test drops the trader and the store and opens the file again.
  using FaultHook = std::function<bool(TraderStep)>;

  // `store` must outlive the trader.
  PrivateTrader(PrivateWalletStore& store, Submit submit, PrivateTraderOptions options = {});

  void set_fault_hook(FaultHook hook) { fault_ = std::move(hook); }

  // Takes in what the replica applied: `entries` with their `outcomes` (same length, in log
  // order; those at or before store.followed() are skipped), `ledger` the state after them.
  // Credits mints and transfers to this identity, confirms the pending transaction when the
  // ledger shows its effect, notes new fills for settling, and saves the position.
  // kFailedPrecondition when the ledger is another market's than the wallet's.
  Status follow(const priv::PrivateLedger& ledger, std::span<const protocol::LedgerEntry> entries,
                std::span<const protocol::EntryOutcome> outcomes);
  // The same on the node's replica of the log (kFailedPrecondition unless its market is private).
  Status follow(const protocol::LedgerReplica& replica,
                std::span<const protocol::LedgerEntry> entries,
                std::span<const protocol::EntryOutcome> outcomes);
  // After a restart, once follow() caught up with the log (and confirmed the pending entry if the
  // ledger shows it): submits the pending entry again, `ledger` the state follow() left. Does
  // nothing without one. A refusal by the gateway is handled as when it was first sent.
  Status resubmit_pending(const priv::PrivateLedger& ledger);

  // Whether a transaction is pending (no other is built until the ledger shows it).
  bool busy() const { return store_.pending_entry().has_value(); }
  // Why the log rejected the last pending entry, once follow() found its bytes in the log with a
  // rejection (and no copy of them applied): follow() then dropped it, in the same save that took
  // the entry in, and the wallet builds the next transaction from its unchanged token, orders and
  // cash account. The message names the log entry and the ledger's reason. Cleared when the next
  // transaction is sent.
  //
  // Also why the gateway refused it (Submit's kInvalidArgument, HTTP 400): a gateway refuses only
  // bytes its replica of the log will never accept, so the entry is dropped at once, the wallet
  // rolled back as above, the message naming the gateway's reason and the node's own. An answer
  // is not proof of what the log holds (a proxy can forge one), so it is dropped only when the
  // node's replica (the `ledger` it was built or resubmitted against) refuses the transaction too
  // (PrivateLedger::check); otherwise it stays pending and the error says so. Nothing secret is
  // in the message (the reasons name public fields only).
  const std::optional<Status>& rejection() const { return rejection_; }
  // How many settled orders (closed, released, every fill claimed) follow() dropped from the
  // wallet since the trader started (priv::PrivateWallet::forget_settled).
  std::size_t forgotten_orders() const { return forgotten_; }

  // Log positions of transfers to this identity whose memo did not open (the sender's fault: the
  // amount is unknown to the wallet, so it is not counted).
  const std::vector<std::uint64_t>& unopened_transfers() const { return unopened_; }

  // Each builds one transaction against `ledger`, saves it as pending and submits it.
  // kFailedPrecondition while another is pending; the wallet's refusals as they are.
  Status register_identity(const priv::PrivateLedger& ledger, std::int64_t bond);
  Status deposit(const priv::PrivateLedger& ledger, std::uint64_t amount);
  Status withdraw(const priv::PrivateLedger& ledger, std::uint64_t amount);
  Status post(const priv::PrivateLedger& ledger, priv::Side side, priv::OrderKind kind,
              std::int64_t price, std::int64_t qty);
  Status cancel(const priv::PrivateLedger& ledger, std::uint64_t order);
  // Reduces an open order by `reduce_by` (it keeps its place in the book).
  Status reduce(const priv::PrivateLedger& ledger, std::uint64_t order, std::int64_t reduce_by);
  // Cancels an open order and posts a new one in one spend (the new order has a new id).
  Status replace(const priv::PrivateLedger& ledger, std::uint64_t order, priv::Side side,
                 priv::OrderKind kind, std::int64_t price, std::int64_t qty);
  Status settle(const priv::PrivateLedger& ledger);

  // In a refresh window: settles first when something is left to settle (returns true, the
  // refresh comes next); otherwise refreshes with `deposit` from the cash account, or without one
  // when empty, depositing the shortfall the wallet names ("E_L short by X") if there is one (an
  // error when the cash account cannot pay it). Returns whether it sent a transaction.
  Result<bool> refresh(const priv::PrivateLedger& ledger,
                       std::optional<std::uint64_t> deposit = std::nullopt);

  // One turn of the node's loop at the ledger time of the last entry followed: in a refresh
  // window it settles what is left and then refreshes (with the deposit the wallet names when
  // short; an error if the cash account cannot pay it); otherwise it settles once the delay of
  // some fill or release has passed. Returns whether it sent a transaction.
  Result<bool> step(const priv::PrivateLedger& ledger);

 private:
  template <class Tx>
  Status send(const priv::PrivateLedger& ledger, const Result<Tx>& built);
  Status submit_pending(const priv::PrivateLedger& ledger);
  // The gateway refused the pending entry (`refusal`): dropped when `ledger` refuses it too.
  Status refused_by_gateway(const priv::PrivateLedger& ledger, const Status& refusal);
  bool reached(TraderStep step) const { return !fault_ || fault_(step); }
  void note_settles(const priv::PrivateLedger& ledger);
  bool settle_due() const;
  std::int64_t draw_delay() const;

  PrivateWalletStore& store_;
  Submit submit_;
  PrivateTraderOptions options_;
  FaultHook fault_;
  LedgerTime now_{0};
  std::optional<Status> rejection_;
  std::size_t forgotten_ = 0;
  std::vector<std::uint64_t> unopened_;
  // Per owned order: the fill count (and release) seen, and when it may be settled.
  struct Due {
    std::uint64_t fills = 0;
    bool release = false;
    LedgerTime at{0};
  };
  std::map<std::uint64_t, Due> due_;
};

// A Submit that sends each entry with node::submit_transaction under `options`: through
// options.socks5 with a fresh random proxy username per entry unless proxy_credentials are set
// (so a Tor proxy puts each anonymous transaction on its own circuit). A 409 (the log already
// decides these bytes) is success: the replica will show what the log did with them.
PrivateTrader::Submit submit_through(SubmitOptions options);

}  // namespace pfex::node
