// Status and Result<T>: the one error type of pfex.
//
// Every fallible function returns a Status (no value) or a Result<T> (a value or a Status). Both
// are
// [[nodiscard]]: an error is never dropped on the floor. Messages are written for the person who
// sent the input ("price 1253 is outside the band [1248, 1352]"), never contain secrets, and cost
// nothing on the success path (an ok Status holds no string).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pfex {

// What went wrong, coarsely: callers branch on the code, people read the message.
enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // malformed or out-of-range input (zero quantity, off-tick price, ...)
  kNotFound,            // unknown account, order, label, file
  kFailedPrecondition,  // valid input at the wrong time (market halted, order already closed)
  kInsolvent,           // the action would break a solvency constraint
  kOverflow,            // an integer result does not fit its type
  kCorruption,          // stored or received bytes are damaged (checksum, truncation, trailing)
  kIoError,             // the operating system refused a read or write
  kAlreadyExists,       // duplicate registration, replayed transaction
  kInvalidProof,        // a well-formed proof that does not verify (a false or altered statement)
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string msg) {
    return {ErrorCode::kInvalidArgument, std::move(msg)};
  }
  static Status not_found(std::string msg) { return {ErrorCode::kNotFound, std::move(msg)}; }
  static Status failed_precondition(std::string msg) {
    return {ErrorCode::kFailedPrecondition, std::move(msg)};
  }
  static Status insolvent(std::string msg) { return {ErrorCode::kInsolvent, std::move(msg)}; }
  static Status overflow(std::string msg) { return {ErrorCode::kOverflow, std::move(msg)}; }
  static Status corruption(std::string msg) { return {ErrorCode::kCorruption, std::move(msg)}; }
  static Status io_error(std::string msg) { return {ErrorCode::kIoError, std::move(msg)}; }
  static Status already_exists(std::string msg) {
    return {ErrorCode::kAlreadyExists, std::move(msg)};
  }
  static Status invalid_proof(std::string msg) {
    return {ErrorCode::kInvalidProof, std::move(msg)};
  }

  bool is_ok() const { return rep_ == nullptr; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return rep_ ? rep_->code : ErrorCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // "insolvent: E_L would be -120 < 0" — code name and message, for logs and the CLI.
  std::string to_string() const;

  // Adds context in front of the message ("order 17: ...").
  Status with_context(std::string_view context) const;

  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

 private:
  struct Rep {
    ErrorCode code;
    std::string message;
  };
  Status(ErrorCode code, std::string msg)
      : rep_(std::make_unique<Rep>(Rep{code, std::move(msg)})) {}
  std::unique_ptr<Rep> rep_;
};

// A value of type T or the Status saying why there is none. Constructing a Result from an ok
// Status is a programming error (asserted in debug builds, turned into an error otherwise).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).is_ok()) v_ = Status::failed_precondition("Result built from ok");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pfex

// Returns early with the error of a Status-valued expression.
#define PFEX_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::pfex::Status pfex_status_ = (expr);           \
    if (!pfex_status_.is_ok()) return pfex_status_; \
  } while (false)

#define PFEX_CONCAT_INNER(a, b) a##b
#define PFEX_CONCAT(a, b) PFEX_CONCAT_INNER(a, b)
// `PFEX_ASSIGN_OR_RETURN(auto x, f());` binds the value of a Result or returns its error.
// It expands to several statements: inside an if or loop, use braces.
// lhs is not parenthesised because it may be a declaration.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define PFEX_ASSIGN_OR_RETURN(lhs, expr)                 \
  auto PFEX_CONCAT(pfex_result_, __LINE__) = (expr);     \
  if (!PFEX_CONCAT(pfex_result_, __LINE__).is_ok())      \
    return PFEX_CONCAT(pfex_result_, __LINE__).status(); \
  lhs = std::move(PFEX_CONCAT(pfex_result_, __LINE__)).value()
// NOLINTEND(bugprone-macro-parentheses)
