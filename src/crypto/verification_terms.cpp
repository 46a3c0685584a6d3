#include "crypto/verification_terms.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include "crypto/msm.hpp"

namespace pfex::crypto {

std::size_t VerificationTerms::begin_entry() {
  entries_.push_back(Entry{scalars_.size(), shared_.size(), false});
  return entries_.size() - 1;
}

void VerificationTerms::ensure_entry() {
  if (entries_.empty()) begin_entry();
}

void VerificationTerms::add(const Scalar& s, const Point& p) {
  ensure_entry();
  scalars_.push_back(s);
  points_.push_back(p);
}

std::uint32_t VerificationTerms::block_of(std::span<const Point> generators) {
  ensure_entry();
  // Few distinct runs per batch (a proof system's generators, a set): a linear search.
  std::size_t b = 0;
  while (b < blocks_.size() && blocks_[b].first != generators.data())
    ++b;
  if (b == blocks_.size()) blocks_.push_back(Block{generators.data(), 0});
  assert(b <= std::numeric_limits<std::uint32_t>::max());
  blocks_[b].size = std::max(blocks_[b].size, generators.size());
  return static_cast<std::uint32_t>(b);
}

void VerificationTerms::add_shared(std::span<const Point> generators,
                                   std::span<const Scalar> coefficients) {
  assert(generators.size() == coefficients.size());
  const std::size_t n = std::min(generators.size(), coefficients.size());
  if (n == 0) return;
  std::span<Scalar> slots = add_shared_slots(generators.first(n));
  std::copy(coefficients.begin(), coefficients.begin() + static_cast<std::ptrdiff_t>(n),
            slots.begin());
}

std::span<Scalar> VerificationTerms::add_shared_slots(std::span<const Point> generators) {
  if (generators.empty()) return {};
  const std::uint32_t b = block_of(generators);
  const std::size_t begin = shared_coefficients_.size();
  shared_.push_back(Shared{b, false, begin, generators.size()});
  shared_coefficients_.resize(begin + generators.size());
  return std::span<Scalar>(shared_coefficients_).subspan(begin);
}

void VerificationTerms::add_shared_constant(std::span<const Point> generators, const Scalar& c) {
  if (generators.empty()) return;
  const std::uint32_t b = block_of(generators);
  shared_.push_back(Shared{b, true, shared_coefficients_.size(), generators.size()});
  shared_coefficients_.push_back(c);
}

void VerificationTerms::refuse(const Status& why) {
  ensure_entry();
  entries_.back().refused = true;
  if (first_refusal_.is_ok()) {
    first_refusal_ = why.is_ok() ? Status::invalid_proof("refused") : why;
    first_refusal_ = first_refusal_.with_context("entry " + std::to_string(entries_.size() - 1));
  }
}

void VerificationTerms::append_weighted(const VerificationTerms& other, const Scalar& weight) {
  ensure_entry();
  if (other.any_refused()) refuse(other.first_refusal_);
  scalars_.reserve(scalars_.size() + other.scalars_.size());
  points_.reserve(points_.size() + other.points_.size());
  for (std::size_t k = 0; k < other.scalars_.size(); ++k) {
    scalars_.push_back(weight * other.scalars_[k]);
    points_.push_back(other.points_[k]);
  }
  for (const Shared& s : other.shared_) {
    const std::span<const Point> generators(other.blocks_[s.block].first, s.size);
    const Scalar* in = other.shared_coefficients_.data() + s.coefficient_begin;
    if (s.constant) {
      add_shared_constant(generators, weight * in[0]);
      continue;
    }
    std::span<Scalar> out = add_shared_slots(generators);
    for (std::size_t i = 0; i < s.size; ++i)
      out[i] = weight * in[i];
  }
}

void VerificationTerms::append_entries(const VerificationTerms& other) {
  for (std::size_t e = 0; e < other.entries_.size(); ++e) {
    const Entry& in = other.entries_[e];
    const bool last = e + 1 == other.entries_.size();
    const std::size_t own_end = last ? other.scalars_.size() : other.entries_[e + 1].own_begin;
    const std::size_t shared_end = last ? other.shared_.size() : other.entries_[e + 1].shared_begin;
    begin_entry();
    if (in.refused) {
      entries_.back().refused = true;
      if (first_refusal_.is_ok()) first_refusal_ = other.first_refusal_;
    }
    scalars_.insert(scalars_.end(),
                    other.scalars_.begin() + static_cast<std::ptrdiff_t>(in.own_begin),
                    other.scalars_.begin() + static_cast<std::ptrdiff_t>(own_end));
    points_.insert(points_.end(), other.points_.begin() + static_cast<std::ptrdiff_t>(in.own_begin),
                   other.points_.begin() + static_cast<std::ptrdiff_t>(own_end));
    for (std::size_t k = in.shared_begin; k < shared_end; ++k) {
      const Shared& sh = other.shared_[k];
      const std::span<const Point> generators(other.blocks_[sh.block].first, sh.size);
      const Scalar* coefficients = other.shared_coefficients_.data() + sh.coefficient_begin;
      if (sh.constant) {
        add_shared_constant(generators, coefficients[0]);
        continue;
      }
      std::span<Scalar> out = add_shared_slots(generators);
      std::copy(coefficients, coefficients + sh.size, out.begin());
    }
  }
}

void VerificationTerms::clear() {
  entries_.clear();
  scalars_.clear();
  points_.clear();
  blocks_.clear();
  shared_.clear();
  shared_coefficients_.clear();
  first_refusal_ = Status::ok();
}

std::size_t VerificationTerms::size() const {
  std::size_t n = scalars_.size();
  for (const Block& b : blocks_)
    n += b.size;
  return n;
}

bool VerificationTerms::holds_var(std::span<const std::size_t> entries) const {
  // The shared generators first (their coefficients summed over the entries), then own terms.
  std::vector<std::size_t> block_offset(blocks_.size());
  std::size_t shared_points = 0;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    block_offset[b] = shared_points;
    shared_points += blocks_[b].size;
  }
  std::size_t own = 0;
  for (std::size_t e : entries) {
    const std::size_t end = e + 1 < entries_.size() ? entries_[e + 1].own_begin : scalars_.size();
    own += end - entries_[e].own_begin;
  }
  std::vector<Scalar> scalars(shared_points);
  // Constants: constants[offset + n - 1] holds the sum of those covering points 0..n-1 of a block.
  std::vector<Scalar> constants;
  std::vector<Point> points;
  scalars.reserve(shared_points + own);
  points.reserve(shared_points + own);
  for (const Block& b : blocks_)
    points.insert(points.end(), b.first, b.first + b.size);
  for (std::size_t e : entries) {
    const bool last = e + 1 == entries_.size();
    const std::size_t shared_end = last ? shared_.size() : entries_[e + 1].shared_begin;
    for (std::size_t k = entries_[e].shared_begin; k < shared_end; ++k) {
      const Shared& s = shared_[k];
      const Scalar* in = shared_coefficients_.data() + s.coefficient_begin;
      if (s.constant) {
        if (constants.empty()) constants.resize(shared_points);
        constants[block_offset[s.block] + s.size - 1] += in[0];
        continue;
      }
      Scalar* out = scalars.data() + block_offset[s.block];
      for (std::size_t i = 0; i < s.size; ++i)
        out[i] += in[i];
    }
    const std::size_t own_end = last ? scalars_.size() : entries_[e + 1].own_begin;
    scalars.insert(scalars.end(),
                   scalars_.begin() + static_cast<std::ptrdiff_t>(entries_[e].own_begin),
                   scalars_.begin() + static_cast<std::ptrdiff_t>(own_end));
    points.insert(points.end(),
                  points_.begin() + static_cast<std::ptrdiff_t>(entries_[e].own_begin),
                  points_.begin() + static_cast<std::ptrdiff_t>(own_end));
  }
  // Each block's constants, from its last point down: point i gets every constant covering it.
  if (!constants.empty()) {
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      Scalar running;
      bool any = false;
      for (std::size_t i = blocks_[b].size; i-- > 0;) {
        const Scalar& c = constants[block_offset[b] + i];
        if (!c.is_zero()) {
          running += c;
          any = true;
        }
        if (any) scalars[block_offset[b] + i] += running;
      }
    }
  }
  auto zero = msm_is_identity_var(scalars, points);
  return zero.is_ok() && *zero;  // the spans always match in length
}

bool VerificationTerms::is_identity_var() const {
  if (any_refused()) return false;
  std::vector<std::size_t> all(entries_.size());
  for (std::size_t e = 0; e < all.size(); ++e)
    all[e] = e;
  return holds_var(all);
}

std::vector<std::size_t> VerificationTerms::failing_entries_var() const {
  std::vector<std::size_t> refused;
  std::vector<std::size_t> checkable;
  for (std::size_t e = 0; e < entries_.size(); ++e)
    (entries_[e].refused ? refused : checkable).push_back(e);
  std::vector<std::size_t> bad = find_failing(
      checkable, [this](std::span<const std::size_t> group) { return holds_var(group); });
  bad.insert(bad.end(), refused.begin(), refused.end());
  std::sort(bad.begin(), bad.end());
  return bad;
}

Status VerificationTerms::check_var(std::string_view what) const {
  if (is_identity_var()) return Status::ok();
  const std::vector<std::size_t> bad = failing_entries_var();
  std::string message = std::string(what) + ": " + describe_failing(bad);
  if (any_refused()) message += " (" + std::string(first_refusal_.message()) + ")";
  return Status::invalid_proof(std::move(message));
}

std::vector<std::size_t> find_failing(
    std::span<const std::size_t> positions,
    const std::function<bool(std::span<const std::size_t>)>& holds) {
  std::vector<std::size_t> bad;
  // `group` is known to fail.
  auto split = [&](auto&& self, std::span<const std::size_t> group) -> void {
    if (group.size() == 1) {
      bad.push_back(group[0]);
      return;
    }
    const auto left = group.first(group.size() / 2);
    const auto right = group.subspan(group.size() / 2);
    if (holds(left)) return self(self, right);  // then the failure is all on the right
    self(self, left);
    if (!holds(right)) self(self, right);
  };
  if (!positions.empty() && !holds(positions)) split(split, positions);
  std::sort(bad.begin(), bad.end());
  return bad;
}

std::string describe_failing(std::span<const std::size_t> bad) {
  std::string list;
  for (std::size_t i = 0; i < bad.size() && i < 32; ++i)
    list += (i == 0 ? "" : ", ") + std::to_string(bad[i]);
  if (bad.size() > 32) list += ", ... (" + std::to_string(bad.size()) + " in all)";
  return (bad.size() > 1 ? "proofs " : "proof ") + list + (bad.size() > 1 ? " do" : " does") +
         " not verify";
}

}  // namespace pfex::crypto
