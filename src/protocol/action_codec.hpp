// The canonical bytes of a market Action (market/action.hpp), as a transparent transaction carries
// them (docs/protocol/transactions.md; codec rules in docs/codec.md). The market owns what an
// action is and how it applies; the protocol owns its encoding.
//
// Encoding: u8 kind (the Action variant's index), then the kind's fields in the order of the
// market's structs; an order request is u8 side, u8 type, bool has_limit, [i64 limit], i64 qty
// (a market order's limit is its reservation price).
// Decoding is strict: truncation, trailing bytes, an unknown kind, side or type, and values outside
// their ranges are errors, so an action has exactly one encoding. A new kind or field changes the
// transparent entry's bytes and must bump the envelope version (transaction.hpp).
#pragma once

#include "core/codec.hpp"
#include "core/status.hpp"
#include "market/action.hpp"

namespace pfex::protocol {

Bytes encode_action(const market::Action& action);
Result<market::Action> decode_action(ByteSpan bytes);

}  // namespace pfex::protocol
