// VerificationTerms: the one shape of batch verification. Every proof system (range proofs,
// sigma proofs, one-out-of-many proofs, and what is built on them) appends its verification
// equation  sum_k s_k * P_k == identity, already multiplied by a random weight chosen by the
// verifier, to one VerificationTerms; one variable-time MSM (msm.hpp) then checks them all, and
// when it fails one bisection (find_failing) names the entries whose equations fail. The math of
// the batching is in docs/crypto/group-and-msm.md, "Batch verification".
//
// Entries. The terms are grouped in entries, numbered from 0 in the order of begin_entry(): the
// unit a failure is reported for (a proof in a proof system's own batch, a transaction in a block).
// One entry may hold the terms of several proofs, each under its own weight.
//
// Shared generators. Terms on a fixed generator set (the Bulletproof G_i, a one-out-of-many set,
// the Pedersen G and H) go through add_shared(), which identifies the generators by their address:
// the coefficients of every entry on the same generators are summed before the MSM, so the MSM is
// as long as the distinct points, not the terms.
//
// Fails closed. A proof that cannot be checked (malformed, wrong sizes, an identity where the
// protocol forbids one) refuses its entry (refuse()); the producers do this themselves when they
// return an error, so a caller that ignores their Status still gets a failing check. A refused
// entry fails every check and is named by failing_entries_var().
//
// Only public data: everything here is variable time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

class VerificationTerms {
 public:
  // Starts a new entry and returns its number; the terms added from now on belong to it. Terms
  // added before the first begin_entry() belong to entry 0, started implicitly.
  std::size_t begin_entry();
  std::size_t num_entries() const { return entries_.size(); }

  // s * p, a term of the current entry on a point of its own (a proof's commitments, a statement).
  void add(const Scalar& s, const Point& p);
  // coefficients[i] * generators[i] for every i: terms on fixed generators, summed with every
  // other entry's terms on the same generators (same address; a span that starts at the same
  // point may be shorter or longer). The generators must stay live and unchanged while these
  // terms are in use. Sizes must match (a debug assertion; the shorter length is used).
  void add_shared(std::span<const Point> generators, std::span<const Scalar> coefficients);
  void add_shared(const Point& generator, const Scalar& s) {
    add_shared(std::span<const Point>(&generator, 1), std::span<const Scalar>(&s, 1));
  }
  // add_shared() for a producer that computes its coefficients in place: returns zeroed slots for
  // coefficients[0..generators.size()), to be filled before the next call on this object.
  std::span<Scalar> add_shared_slots(std::span<const Point> generators);
  // c * generators[i] for every i: a coefficient common to a run, summed once per generator
  // across entries rather than once per entry (a range proof's -z on G_i, z on H_i).
  void add_shared_constant(std::span<const Point> generators, const Scalar& c);

  // Refuses the current entry: its proof could not be checked, so every check fails and
  // failing_entries_var() names it. The first reason is kept (with_context of the entry).
  void refuse(const Status& why);
  // The reason the first refused entry was refused; ok if none was.
  const Status& first_refusal() const { return first_refusal_; }
  bool any_refused() const { return !first_refusal_.is_ok(); }

  // Appends every term of other, multiplied by weight, to the current entry (other's refusals
  // refuse it). For a caller that checks a finished batch inside a larger one.
  void append_weighted(const VerificationTerms& other, const Scalar& weight);

  // Appends every entry of other as new entries of this one, in order, with their terms and
  // refusals unchanged: for a caller that builds the entries of one batch on several threads.
  // other's shared generators must stay live while these terms are in use.
  void append_entries(const VerificationTerms& other);

  // Room for n more own terms.
  void reserve(std::size_t n) {
    scalars_.reserve(scalars_.size() + n);
    points_.reserve(points_.size() + n);
  }
  void clear();
  // The number of points in the combined MSM: the distinct shared generators and every own term.
  std::size_t size() const;

  // True iff no entry is refused and the sum of every term is the identity: one MSM. Variable
  // time.
  bool is_identity_var() const;
  // The entries that are refused or whose own equation fails, in increasing order: refused ones
  // directly, the rest by bisection (find_failing) over the others. Empty iff is_identity_var().
  std::vector<std::size_t> failing_entries_var() const;
  // ok iff is_identity_var(); else kInvalidProof "<what>: proofs 3, 17 do not verify" naming
  // failing_entries_var() (and the first refusal's reason). Variable time.
  Status check_var(std::string_view what) const;

 private:
  struct Block {  // a run of shared generators, known by the address of its first point
    const Point* first;
    std::size_t size;
  };
  struct Shared {  // coefficients of one entry on block `block`, from its first point on
    std::uint32_t block;
    bool constant;                  // one coefficient for all `size` points
    std::size_t coefficient_begin;  // into shared_coefficients_
    std::size_t size;
  };
  std::uint32_t block_of(std::span<const Point> generators);
  struct Entry {
    std::size_t own_begin;     // into scalars_ / points_
    std::size_t shared_begin;  // into shared_
    bool refused = false;
  };
  void ensure_entry();
  // True iff the listed entries' terms sum to the identity (refusals not considered).
  bool holds_var(std::span<const std::size_t> entries) const;

  std::vector<Entry> entries_;
  std::vector<Scalar> scalars_;
  std::vector<Point> points_;
  std::vector<Block> blocks_;
  std::vector<Shared> shared_;
  std::vector<Scalar> shared_coefficients_;
  Status first_refusal_;
};

// Batch verification's bisection, shared by every batch: `holds(positions)` must say whether the
// combined equation of those items holds (with each item's weight fixed beforehand). Returns, in
// increasing order, every position whose own equation fails, found by bisection: a failing group
// is split, a half that holds is cleared whole, so k bad items among n cost about 2k log2(n)
// checks. Empty when holds(positions).
std::vector<std::size_t> find_failing(
    std::span<const std::size_t> positions,
    const std::function<bool(std::span<const std::size_t>)>& holds);

// "proofs 3, 17 do not verify" (at most 32 listed): the message of a failed batch.
std::string describe_failing(std::span<const std::size_t> bad);

}  // namespace pfex::crypto
