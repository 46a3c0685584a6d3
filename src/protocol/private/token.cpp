#include "protocol/private/token.hpp"

#include <sodium.h>

#include <string>

#include "crypto/ct.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/msm.hpp"

namespace pfex::priv {

Attributes::~Attributes() {
  sodium_memzero(this, sizeof(*this));
}

std::array<Scalar, 7> Attributes::scalars() const {
  return {crypto::position_to_scalar(c), Scalar::from_u64(vp), Scalar::from_u64(vm),
          Scalar::from_u64(B),           Scalar::from_u64(S),  Scalar::from_u64(QB),
          Scalar::from_u64(QS)};
}

Point TokenOpening::commit(const PrivateGens& gens) const {
  const auto values = a.scalars();
  std::array<Scalar, 10> scalars{r, kappa, sn};
  std::array<Point, 10> points{gens.H(), gens.kappa(), gens.sn()};
  for (std::size_t i = 0; i < 7; ++i) {
    scalars[3 + i] = values[i];
    points[3 + i] = gens.attributes()[i];
  }
  return crypto::msm(scalars, points).value();  // the spans always match
}

Scalar random_nonzero_scalar() {
  for (;;) {
    Scalar s = Scalar::random();
    bool zero = s.is_zero();
    crypto::declassify(zero);  // a redraw reveals only that a discarded draw was zero (2^-252)
    if (!zero) return s;
  }
}

void Window::encode(Writer& w) const {
  w.u64(epoch);
  w.u64(start);
  w.u64(length);
}

Window Window::decode(Reader& r, std::size_t window_size) {
  Window w;
  w.epoch = r.u64("window epoch");
  w.start = r.u64("window start");
  w.length = r.u64_in("window length", 1, window_size);
  if (!r.failed() && w.length < window_size && w.start != 0)
    r.fail(Status::invalid_argument("window: a short window (t < N) must start at 0"));
  return w;
}

Status check_window(const Window& w, std::size_t list_length, std::size_t window_size) {
  if (w.length < 1 || w.length > window_size)
    return Status::invalid_argument("window length " + std::to_string(w.length) + " outside [1, " +
                                    std::to_string(window_size) + "]");
  if (w.length < window_size && w.start != 0)
    return Status::invalid_argument("a short window must start at 0");
  if (w.start > list_length || w.length > list_length - w.start)
    return Status::failed_precondition("window [" + std::to_string(w.start) + ", " +
                                       std::to_string(w.start + w.length) + ") reaches past the " +
                                       std::to_string(list_length) + " tokens of epoch " +
                                       std::to_string(w.epoch));
  return Status::ok();
}

Result<std::vector<Point>> window_points(const Window& w, std::span<const Point> list,
                                         std::size_t window_size) {
  PFEX_RETURN_IF_ERROR(check_window(w, list.size(), window_size));
  std::vector<Point> points(list.begin() + static_cast<std::ptrdiff_t>(w.start),
                            list.begin() + static_cast<std::ptrdiff_t>(w.start + w.length));
  for (std::size_t i = w.length; i < window_size; ++i)
    points.push_back(dummy_point(w.epoch, static_cast<std::uint32_t>(i)));
  return points;
}

Window newest_window(std::uint64_t epoch, std::size_t index, std::size_t list_length,
                     std::size_t window_size) {
  if (list_length < window_size) return {epoch, 0, list_length};
  if (index + window_size >= list_length) return {epoch, list_length - window_size, window_size};
  // An old token: the aligned block of N that holds it (naming it reveals only that block).
  return {epoch, index - index % window_size, window_size};
}

}  // namespace pfex::priv
