#include "core/status.hpp"

namespace pfex {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kFailedPrecondition:
      return "failed precondition";
    case ErrorCode::kInsolvent:
      return "insolvent";
    case ErrorCode::kOverflow:
      return "overflow";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kIoError:
      return "I/O error";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kInvalidProof:
      return "invalid proof";
  }
  return "unknown error";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(error_code_name(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return {};
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  return {rep_->code, std::move(msg)};
}

}  // namespace pfex
