// Block verification of private transactions; see block_verify.hpp and docs/protocol/private.md
// section 11.
#include "protocol/private/block_verify.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "core/hash.hpp"
#include "crypto/ed25519.hpp"

namespace pfex::priv {
namespace {

constexpr std::string_view kBlockWeightsDomain = "pfex/v1/private/block-weights";

bool has_proofs(const PrivateTx& tx) {
  if (const auto* s = std::get_if<SpendTx>(&tx)) return s->proofs.has_value();
  if (const auto* t = std::get_if<TransferTx>(&tx)) return t->range.has_value();
  if (const auto* e = std::get_if<ExitTx>(&tx)) return e->proofs.has_value();
  return true;
}

// The window a spend or an exit proves membership in; null for the others.
const Window* window_of(const PrivateTx& tx) {
  if (const auto* s = std::get_if<SpendTx>(&tx)) return &s->spend.window;
  if (const auto* e = std::get_if<ExitTx>(&tx)) return &e->exit.window;
  return nullptr;
}

// The window a spend or an exit names, checked against the ledger's token list of its epoch.
Status window_in_ledger(const PrivateLedger& ledger, const Window& w) {
  return check_window(w, ledger.tokens(w.epoch).size(), ledger.terms().window_size());
}

TxStatement unresolved(Status why) {
  TxStatement s;
  s.unresolved = std::move(why);
  return s;
}

TxStatement resolve_spend(const PrivateLedger& ledger, const SpendTx& tx) {
  TxStatement out;
  const bool refresh = tx.type == TxType::kRefresh;
  if (refresh) {
    if (!ledger.in_refresh_window())
      return unresolved(Status::failed_precondition("no refresh window is open"));
    if (!tx.cash || !tx.refresh) return unresolved(Status::invalid_argument("malformed refresh"));
    out.terms = ledger.terms();
  } else {
    const MarketTerms* terms = ledger.terms_for_epoch(tx.spend.window.epoch);
    if (terms == nullptr)
      return unresolved(Status::failed_precondition(
          "window of epoch " + std::to_string(tx.spend.window.epoch) + " is not spendable"));
    out.terms = *terms;
    const bool moves_cash = tx.type == TxType::kDeposit || tx.type == TxType::kWithdraw;
    if (moves_cash != tx.cash.has_value())
      return unresolved(Status::invalid_argument("cash fields on the wrong transaction type"));
    auto effects = ledger.resolve(tx);
    if (!effects.is_ok()) return unresolved(effects.status());
    out.effects = std::move(effects).value();
  }
  if (tx.cash && refresh) {
    auto rp = ledger.refresh_public(tx);
    if (!rp.is_ok()) return unresolved(rp.status());
    out.refresh = std::move(rp).value();
  } else if (tx.cash) {
    auto cash = ledger.cash_move(tx);
    if (!cash.is_ok()) return unresolved(cash.status());
    out.cash = std::move(cash).value();
  }
  if (Status s = window_in_ledger(ledger, tx.spend.window); !s.is_ok()) return unresolved(s);
  return out;
}

// An exit's statement: the terms of the round its identity defaulted in, the context its
// relations take (the liquidation price must be recorded), its entries' deltas and tags.
TxStatement resolve_exit(const PrivateLedger& ledger, const ExitTx& tx) {
  TxStatement out;
  const MarketTerms* terms = ledger.default_terms(tx.signer);
  if (terms == nullptr)
    return unresolved(Status::failed_precondition("only a defaulted identity exits"));
  out.terms = *terms;
  auto ctx = ledger.exit_context(tx.signer);
  if (!ctx.is_ok()) return unresolved(ctx.status());
  out.exit = std::move(ctx).value();
  auto effects = ledger.resolve(tx);
  if (!effects.is_ok()) return unresolved(effects.status());
  out.effects = std::move(effects).value();
  if (Status s = window_in_ledger(ledger, tx.exit.window); !s.is_ok()) return unresolved(s);
  return out;
}

// The signature a transaction carries, if any, verified. Variable time.
Status check_signature(const PrivateTx& tx, const TxStatement& st) {
  bool ok = true;
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    ok = crypto::ed25519_verify_var(reg->signature, register_signed_bytes(*reg), reg->signer);
  } else if (const auto* mint = std::get_if<MintTx>(&tx)) {
    ok = crypto::ed25519_verify_var(mint->signature, mint_signed_bytes(st.terms.market_id, *mint),
                                    st.terms.issuer);
  } else if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    ok = crypto::ed25519_verify_var(transfer->signature, transfer_signed_bytes(*transfer),
                                    transfer->sender);
  } else if (const auto* exit = std::get_if<ExitTx>(&tx)) {
    ok = crypto::ed25519_verify_var(exit->signature, exit_signed_bytes(*exit), exit->signer);
  } else if (const auto* spend = std::get_if<SpendTx>(&tx); spend != nullptr && spend->cash) {
    ok = crypto::ed25519_verify_var(spend->cash->signature, cash_signed_bytes(*spend),
                                    spend->cash->signer);
  }
  if (ok) return Status::ok();
  return Status::invalid_proof(std::string(tx_type_name(tx_type(tx))) + ": bad signature");
}

// Appends tx's proof terms to the current entry of out. split_set receives a refresh's or an
// exit's split set, which must outlive out's use. On an error the entry is refused (fails closed).
Status append_tx_terms(const PrivateGens& gens, const PrivateTx& tx, const TxStatement& st,
                       const WindowPlacement* window, const ProofWeights& weights,
                       std::optional<crypto::OneOfManySet>& split_set,
                       crypto::VerificationTerms& out) {
  auto refuse = [&out](Status why) {
    out.refuse(why);
    return why;
  };
  if (!st.unresolved.is_ok()) return refuse(st.unresolved);
  if (!has_proofs(tx)) return refuse(Status::invalid_argument("the transaction carries no proofs"));
  if (Status s = check_signature(tx, st); !s.is_ok()) return refuse(s);
  crypto::Transcript t = tx_transcript(st.terms, tx);
  const std::string type(tx_type_name(tx_type(tx)));
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    return crypto::append_linear_verification_terms(register_statement(gens, *reg), reg->proof, t,
                                                    weights.linear, out)
        .with_context(type);
  }
  if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
    return crypto::append_linear_verification_terms(tag_statement(gens, st.cancel_tag),
                                                    cancel->proof, t, weights.linear, out)
        .with_context(type);
  }
  if (std::holds_alternative<MintTx>(tx)) return Status::ok();  // a signature only
  if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    return transfer->range
        ->append_verification_terms(gens.bulletproofs(), t, st.transfer_range, weights.range, out)
        .with_context(type);
  }
  if (window == nullptr) return refuse(Status::invalid_argument("the window is not placed"));
  if (const auto* exit = std::get_if<ExitTx>(&tx)) {
    if (!st.exit) return refuse(Status::invalid_argument("no exit statement"));
    absorb_exit_context(t, *st.exit);
    auto split = exit_split_set(exit->exit);
    if (!split.is_ok()) return refuse(split.status());
    split_set.emplace(std::move(split).value());
    return append_exit_terms(gens, *st.exit, exit->exit, st.effects.deltas, st.effects.tags,
                             *window, *split_set, *exit->proofs, t, weights, out)
        .with_context(type);
  }
  const auto& spend = std::get<SpendTx>(tx);
  if (spend.type == TxType::kRefresh) {
    if (!st.refresh) return refuse(Status::invalid_argument("no refresh statement"));
    auto split = refresh_split_set(spend.spend);
    if (!split.is_ok()) return refuse(split.status());
    split_set.emplace(std::move(split).value());
    return append_refresh_terms(gens, st.terms, spend.spend, *st.refresh, *window, *split_set,
                                *spend.proofs, t, weights, out)
        .with_context(type);
  }
  return append_spend_terms(gens, st.terms, spend.spend, st.effects.deltas, st.effects.tags,
                            *window, *spend.proofs, t, st.cash ? &*st.cash : nullptr, weights, out)
      .with_context(type);
}

// The block's seed: BLAKE2b of every transaction's own digest, in order.
Digest32 block_seed(std::span<const Digest32> tx_digests) {
  Hasher h(kBlockWeightsDomain);
  Bytes buf;
  Writer w(&buf);
  w.u64(tx_digests.size());
  h.update(buf);
  for (const Digest32& d : tx_digests)
    h.update(d);
  return h.finish();
}

Digest32 tx_digest(ByteSpan bytes) {
  Hasher h("pfex/v1/private/block-weights/tx");
  h.update(bytes);
  return h.finish();
}

ProofWeights weights_for(const Digest32& seed, std::size_t position) {
  crypto::Transcript t(kBlockWeightsDomain);
  t.append_message("block", seed);
  t.append_u64("position", position);
  return ProofWeights::draw(t);
}

// Runs body(begin, end, part) over [0, n) cut into `chunks` contiguous parts, on as many
// threads (the caller's is part 0).
template <class Body>
void in_chunks(std::size_t n, std::size_t chunks, const Body& body) {
  if (chunks <= 1) {
    body(std::size_t{0}, n, std::size_t{0});
    return;
  }
  const std::size_t size = (n + chunks - 1) / chunks;
  std::vector<std::jthread> pool;
  for (std::size_t c = 1; c < chunks; ++c)
    pool.emplace_back(
        [&body, c, size, n] { body(std::min(n, c * size), std::min(n, (c + 1) * size), c); });
  body(0, std::min(n, size), 0);
}  // the jthreads join here

}  // namespace

TxStatement resolve_statement(const PrivateLedger& ledger, const PrivateTx& tx) {
  if (const auto* spend = std::get_if<SpendTx>(&tx)) return resolve_spend(ledger, *spend);
  if (const auto* exit = std::get_if<ExitTx>(&tx)) return resolve_exit(ledger, *exit);
  TxStatement out;
  out.terms = ledger.terms();
  if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
    const PrivateOrder* o = ledger.order(cancel->order);
    if (o == nullptr)
      return unresolved(Status::not_found("order " + std::to_string(cancel->order) + " unknown"));
    out.cancel_tag = o->tag;
  } else if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    const Identity* from = ledger.identity(transfer->sender);
    if (from == nullptr)
      return unresolved(Status::not_found("transfer: the sender is not a registered identity"));
    out.transfer_range = {transfer->V_a, from->balance - transfer->V_a};
  }
  return out;
}

bool same_statement(const TxStatement& a, const TxStatement& b) {
  return a.unresolved.is_ok() && b.unresolved.is_ok() && a.terms == b.terms &&
         a.effects == b.effects && a.exit == b.exit && a.cash == b.cash && a.refresh == b.refresh &&
         a.cancel_tag == b.cancel_tag && a.transfer_range == b.transfer_range;
}

BlockVerdict BlockVerifier::verify_var(const PrivateLedger& ledger,
                                       std::span<const PrivateTx> block,
                                       std::span<const TxStatement> statements, unsigned threads,
                                       std::span<const ByteSpan> encoded) {
  const PrivateGens& gens = ledger.gens();
  const std::size_t n = block.size();
  const std::size_t chunks = std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(n, 1));
  const std::size_t N = ledger.terms().window_size();

  std::vector<Digest32> digests(n);
  in_chunks(n, chunks, [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t i = begin; i < end; ++i) {
      if (encoded.size() == n) {
        digests[i] = tx_digest(encoded[i]);
      } else {
        digests[i] = tx_digest(has_proofs(block[i]) ? encode(block[i]) : encode_body(block[i]));
      }
    }
  });
  const Digest32 seed = block_seed(digests);

  // The union of the windows: per epoch, the named ranges of its list merged where they overlap
  // (one run of points each) and the dummy points from the smallest short window's length on.
  struct Named {
    std::size_t tx;
    Window window;
  };
  std::map<std::uint64_t, std::vector<Named>> by_epoch;
  std::vector<Status> reasons(n);
  for (std::size_t i = 0; i < n && i < statements.size(); ++i) {
    const Window* named_window = window_of(block[i]);
    if (named_window == nullptr || !statements[i].unresolved.is_ok()) continue;
    const Window& w = *named_window;
    if (Status s = check_window(w, ledger.tokens(w.epoch).size(), N); !s.is_ok()) {
      reasons[i] = s;  // a statement resolved against another ledger
      continue;
    }
    by_epoch[w.epoch].push_back({i, w});
  }
  std::vector<std::vector<Point>> runs;
  std::vector<std::optional<WindowPlacement>> placements(n);
  std::vector<std::size_t> run_of(n);
  for (auto& [epoch_key, named] : by_epoch) {
    const std::uint64_t epoch = epoch_key;  // a copy the lambdas below can capture (clang 14)
    std::sort(named.begin(), named.end(),
              [](const Named& x, const Named& y) { return x.window.start < y.window.start; });
    const std::span<const Point> list = ledger.tokens(epoch);
    EpochPoints& cache = epochs_[epoch];
    std::size_t end = 0;  // of the encodings needed
    std::size_t d0 = N;   // the first dummy point needed
    for (const Named& x : named) {
      end = std::max<std::size_t>(end, x.window.start + x.window.length);
      d0 = std::min<std::size_t>(d0, x.window.length);
    }
    // Encode the tokens not yet seen (each once for the verifier's life), on every thread.
    const std::size_t have = cache.tokens.size();
    if (end > have) {
      cache.tokens.resize(end);
      in_chunks(end - have, chunks, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t k = have + b; k < have + e; ++k)
          cache.tokens[k] = list[k].encode();
      });
    }
    if (d0 < N && cache.dummies.empty()) {
      cache.dummies.resize(N);
      cache.dummy_encodings.resize(N);
      in_chunks(N, chunks, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t k = b; k < e; ++k) {
          cache.dummies[k] = dummy_point(epoch, static_cast<std::uint32_t>(k));
          cache.dummy_encodings[k] = cache.dummies[k].encode();
        }
      });
    }
    // Runs: consecutive windows (by start) that overlap share one.
    std::size_t k = 0;
    while (k < named.size()) {
      const std::size_t lo = named[k].window.start;
      std::size_t hi = lo + named[k].window.length;
      std::size_t last = k + 1;
      while (last < named.size() && named[last].window.start < hi) {
        hi = std::max<std::size_t>(hi, named[last].window.start + named[last].window.length);
        ++last;
      }
      runs.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(lo),
                        list.begin() + static_cast<std::ptrdiff_t>(hi));
      for (std::size_t j = k; j < last; ++j) {
        const Window& w = named[j].window;
        WindowPlacement p;
        p.log_size = ledger.terms().log_window;
        p.offset = w.start - lo;
        p.count = w.length;
        if (w.length < N) {
          p.dummy_run = std::span<const Point>(cache.dummies).subspan(d0);
          p.dummy_offset = w.length - d0;
        }
        const std::array<std::uint64_t, 3> key = {w.epoch, w.start, w.length};
        auto digest = digests_.find(key);
        if (digest == digests_.end()) {
          if (digests_.size() >= 4096) digests_.clear();  // bounded; windows move with the list
          digest = digests_
                       .emplace(key, crypto::one_of_many_set_digest(
                                         N,
                                         [&](std::size_t i) -> const Point::Encoding& {
                                           return i < w.length ? cache.tokens[w.start + i]
                                                               : cache.dummy_encodings[i];
                                         }))
                       .first;
        }
        p.digest = digest->second;
        placements[named[j].tx] = p;
        run_of[named[j].tx] = runs.size() - 1;
      }
      k = last;
    }
  }
  // The runs are complete (no more reallocation): point the placements at them.
  for (std::size_t i = 0; i < n; ++i) {
    if (placements[i]) placements[i]->run = runs[run_of[i]];
  }
  // Old epochs' encodings are dropped (their tokens are spendable only by exit), except those this
  // block names: its placements point at their dummy points (a batch replayed across margin
  // rounds verifies against a ledger some epochs past its first windows').
  const std::uint64_t current = ledger.terms().epoch;
  std::erase_if(epochs_, [current, &by_epoch](const auto& e) {
    return e.first + 1 < current && by_epoch.count(e.first) == 0;
  });

  // Entry i of the terms is block[i]: each thread builds the entries of its part, appended in
  // order, so the terms are the same for any number of threads.
  std::vector<crypto::VerificationTerms> parts(chunks);
  std::vector<std::optional<crypto::OneOfManySet>> split_sets(n);
  in_chunks(n, chunks, [&](std::size_t begin, std::size_t end, std::size_t c) {
    for (std::size_t i = begin; i < end; ++i) {
      parts[c].begin_entry();
      if (i >= statements.size()) {
        reasons[i] = Status::invalid_argument("no statement for this transaction");
      } else if (reasons[i].is_ok()) {
        reasons[i] = append_tx_terms(gens, block[i], statements[i],
                                     placements[i] ? &*placements[i] : nullptr,
                                     weights_for(seed, i), split_sets[i], parts[c]);
      }
      if (!reasons[i].is_ok()) parts[c].refuse(reasons[i]);  // (already, by the producers)
    }
  });
  crypto::VerificationTerms& all = parts[0];
  for (std::size_t c = 1; c < chunks; ++c)
    all.append_entries(parts[c]);

  BlockVerdict verdict;
  verdict.msm_points = all.size();
  if (n == 0 || all.is_identity_var()) return verdict;
  verdict.bad = all.failing_entries_var();
  for (std::size_t i : verdict.bad) {
    verdict.reasons.push_back(reasons[i].is_ok()
                                  ? Status::invalid_proof("the transaction's proofs do not verify")
                                  : reasons[i]);
  }
  return verdict;
}

void BlockVerifier::forget_beyond(const PrivateLedger& ledger) {
  for (auto& [epoch, cache] : epochs_) {
    const std::size_t size = ledger.tokens(epoch).size();
    if (cache.tokens.size() > size) cache.tokens.resize(size);
  }
  std::erase_if(digests_, [&ledger](const auto& d) {
    return d.first[1] + d.first[2] > ledger.tokens(d.first[0]).size();
  });
}

Result<DetachedTx> detach(const PrivateLedger& ledger, const PrivateTx& tx) {
  DetachedTx d{tx, resolve_statement(ledger, tx), {}};
  if (!d.statement.unresolved.is_ok()) return d.statement.unresolved;
  if (const Window* named = window_of(tx)) {
    const Window& w = *named;
    PFEX_ASSIGN_OR_RETURN(d.window,
                          window_points(w, ledger.tokens(w.epoch), ledger.terms().window_size()));
  }
  return d;
}

Status verify_detached(const PrivateGens& gens, const DetachedTx& d) {
  if (!d.statement.unresolved.is_ok()) return d.statement.unresolved;
  std::optional<crypto::OneOfManySet> set;
  std::optional<WindowPlacement> placement;
  if (window_of(d.tx) != nullptr) {
    PFEX_ASSIGN_OR_RETURN(auto made, crypto::OneOfManySet::create(d.window));
    set.emplace(std::move(made));
    placement = WindowPlacement::of(*set);
  }
  const Bytes bytes = has_proofs(d.tx) ? encode(d.tx) : encode_body(d.tx);
  const Digest32 digest = tx_digest(bytes);
  const ProofWeights weights = weights_for(block_seed(std::span(&digest, 1)), 0);
  crypto::VerificationTerms terms;
  terms.begin_entry();
  std::optional<crypto::OneOfManySet> split_set;
  PFEX_RETURN_IF_ERROR(append_tx_terms(gens, d.tx, d.statement, placement ? &*placement : nullptr,
                                       weights, split_set, terms));
  if (terms.is_identity_var()) return Status::ok();
  return Status::invalid_proof(std::string(tx_type_name(tx_type(d.tx))) +
                               ": the transaction's proofs do not verify");
}

BlockVerdict verify_block_var(const PrivateLedger& ledger, std::span<const PrivateTx> block,
                              std::span<const TxStatement> statements, unsigned threads) {
  BlockVerifier verifier;
  return verifier.verify_var(ledger, block, statements, threads);
}

BlockVerdict verify_block_var(const PrivateLedger& ledger, std::span<const PrivateTx> block,
                              unsigned threads) {
  std::vector<TxStatement> statements;
  statements.reserve(block.size());
  for (const PrivateTx& tx : block)
    statements.push_back(resolve_statement(ledger, tx));
  return verify_block_var(ledger, block, statements, threads);
}

}  // namespace pfex::priv
