// For the constant-time checks only (ctime_check.cpp here and in src/protocol/private): a
// libsodium randombytes implementation that draws from the system generator and, while
// marking is on, marks every byte it returns as undefined memory for valgrind's memcheck. A
// prover's nonces are then secret wherever they come from (Scalar::random, Point::random, a
// wallet's randombytes_buf), without being passed in. install() must run before sodium_init().
// libsodium's randombytes_uniform() rejects by branching on its draws: not usable while marking.
#pragma once

#include <sodium.h>
#include <valgrind/memcheck.h>

#include <cstdint>

namespace pfex::crypto::ctime {

// Whether draws are marked secret: on around the code under test, off where public randomness is
// drawn (the verifiers' batch weights, the test's own public values).
inline bool& marking() {
  static bool on = false;
  return on;
}

inline void marked_buf(void* const buf, const std::size_t size) {
  randombytes_sysrandom_implementation.buf(buf, size);
  if (marking()) (void)VALGRIND_MAKE_MEM_UNDEFINED(buf, size);
}

inline std::uint32_t marked_random() {
  std::uint32_t r = 0;
  marked_buf(&r, sizeof r);
  return r;
}

inline const char* marked_name() {
  return "pfex-ctime-marked-sysrandom";
}

inline void marked_stir() {
  randombytes_sysrandom_implementation.stir();
}

inline int marked_close() {
  return randombytes_sysrandom_implementation.close();
}

inline void install() {
  static randombytes_implementation impl = {marked_name, marked_random, marked_stir,
                                            nullptr,     marked_buf,    marked_close};
  (void)randombytes_set_implementation(&impl);
}

// Marking on for one scope.
class Marked {
 public:
  Marked() { marking() = true; }
  ~Marked() { marking() = false; }
  Marked(const Marked&) = delete;
  Marked& operator=(const Marked&) = delete;
};

}  // namespace pfex::crypto::ctime
