// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the record checksum of the file log
// (docs/ledger/file-log-format.md). Check values are those of RFC 3720 appendix B.4.
//
// A CRC rather than a cryptographic hash: the checksum guards against torn writes and media
// errors, not against an adversary (one who can write the file can rewrite any checksum), and a
// 32-bit CRC detects every burst error up to 32 bits, which a truncated hash does not guarantee.
#pragma once

#include <cstdint>

#include "core/codec.hpp"

namespace pfex::ledger {

// CRC-32C of `data`, continuing from the CRC `crc` of the bytes before it (0 to start), so
// crc32c(b, crc32c(a)) == crc32c(a || b). Table-driven, variable time (the input is public).
std::uint32_t crc32c(ByteSpan data, std::uint32_t crc = 0);

}  // namespace pfex::ledger
