// declassify(): the one way src/crypto deliberately makes a value derived from secrets public.
//
// Constant-time code never branches on, or indexes memory with, secret data. A few results are
// public by contract even when computed from secrets: whether an encoding was accepted, whether a
// scalar had an inverse. Those results pass through declassify(), with a comment at each call
// saying why the leak is acceptable. Under valgrind's memcheck the constant-time check
// (ctime_check.cpp, run by scripts/ctime-check) marks secrets as undefined memory, so any branch
// or memory index that depends on a secret is reported; declassify() marks its argument defined
// again. Outside valgrind the client request costs a handful of instructions and does nothing.
#pragma once

#include <cstddef>

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define PFEX_CRYPTO_HAVE_VALGRIND 1
#endif

namespace pfex::crypto {

template <class T>
inline void declassify(const T& value) {
#ifdef PFEX_CRYPTO_HAVE_VALGRIND
  (void)VALGRIND_MAKE_MEM_DEFINED(&value, sizeof(T));
#else
  (void)value;
#endif
}

}  // namespace pfex::crypto
