// Whole files: read one, or replace one atomically so that a crash leaves either the old
// contents or the new, never a mix. Used for wallets, validator snapshots and node replicas.
#pragma once

#include <string>

#include "core/codec.hpp"
#include "core/status.hpp"

namespace pfex {

// Writes `bytes` to `path` atomically: `path`.tmp, fsync, rename over `path`, fsync the
// directory.
Status write_file_atomically(const std::string& path, ByteSpan bytes);
// The whole file; not_found when there is none.
Result<Bytes> read_whole_file(const std::string& path);

}  // namespace pfex
