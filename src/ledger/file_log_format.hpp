// Wire constants of the file log, shared by its writer and its reader. The format is specified as
// a grammar in docs/ledger/file-log-format.md; the static_asserts tie these numbers to it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/log.hpp"

namespace pfex::ledger::file_log_format {

// file_header := "pfexlog" version:u8   (version 2: the durable .synced marker below)
inline constexpr std::uint8_t kVersion = 2;
inline constexpr std::array<std::uint8_t, 8> kFileMagic = {'p', 'f', 'e', 'x',
                                                           'l', 'o', 'g', kVersion};
inline constexpr std::size_t kFileHeaderSize = kFileMagic.size();
inline constexpr std::size_t kVersionOffset = kFileHeaderSize - 1;

// record_header := header_crc:u32 payload_crc:u32 length:u32 sequence:u64 entry_time:i64
// (little-endian); header_crc covers the 24 bytes after it, payload_crc covers the payload.
inline constexpr std::size_t kHeaderCrcOffset = 0;
inline constexpr std::size_t kPayloadCrcOffset = 4;
inline constexpr std::size_t kLengthOffset = 8;
inline constexpr std::size_t kSequenceOffset = 12;
inline constexpr std::size_t kEntryTimeOffset = 20;
inline constexpr std::size_t kRecordHeaderSize = 28;

static_assert(kPayloadCrcOffset == kHeaderCrcOffset + sizeof(std::uint32_t));
static_assert(kLengthOffset == kPayloadCrcOffset + sizeof(std::uint32_t));
static_assert(kSequenceOffset == kLengthOffset + sizeof(std::uint32_t));
static_assert(kEntryTimeOffset == kSequenceOffset + sizeof(std::uint64_t));
static_assert(kRecordHeaderSize == kEntryTimeOffset + sizeof(std::int64_t));

// The part of the header that header_crc covers.
inline constexpr std::size_t kHeaderCrcCovers = kRecordHeaderSize - kPayloadCrcOffset;
static_assert(kHeaderCrcCovers == 24);

// length <= kMaxPayload; a header announcing more is damaged, whatever its checksum says.
inline constexpr std::size_t kMaxPayload = kMaxEntryBytes;
static_assert(kMaxPayload <= UINT32_MAX, "length is a u32");

// synced_file := "pfexsyn" version:u8 slot slot, at "<log path>.synced" (48 bytes)
// slot        := durable_end:u64 durable_sequence:u64 slot_crc:u32, slot_crc = crc32c(first 16)
// After every fdatasync of the log the writer overwrites the older slot and fdatasyncs the marker
// before it acknowledges the batch: the valid slot with the larger durable_end says how far the
// log was acknowledged. Recovery never drops a record below it; readers never read past it.
inline constexpr std::string_view kSyncedSuffix = ".synced";
inline constexpr std::array<std::uint8_t, 8> kSyncedMagic = {'p', 'f', 'e', 'x',
                                                             's', 'y', 'n', kVersion};
inline constexpr std::size_t kSyncedEndOffset = 0;  // within a slot
inline constexpr std::size_t kSyncedSequenceOffset = 8;
inline constexpr std::size_t kSyncedCrcOffset = 16;
inline constexpr std::size_t kSyncedSlotSize = 20;
inline constexpr std::size_t kSyncedSlotCount = 2;
inline constexpr std::size_t kSyncedSize = kSyncedMagic.size() + kSyncedSlotCount * kSyncedSlotSize;
static_assert(kSyncedSequenceOffset == kSyncedEndOffset + sizeof(std::uint64_t));
static_assert(kSyncedCrcOffset == kSyncedSequenceOffset + sizeof(std::uint64_t));
static_assert(kSyncedSlotSize == kSyncedCrcOffset + sizeof(std::uint32_t));
static_assert(kSyncedSize == 48);

// File offset of slot `i` of the synced file.
constexpr std::size_t synced_slot_offset(std::size_t i) {
  return kSyncedMagic.size() + i * kSyncedSlotSize;
}

}  // namespace pfex::ledger::file_log_format
