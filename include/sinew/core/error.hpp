// sinew::Error and the SINEW_CHECK macro used at every public boundary.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sinew {

// The one exception type Sinew throws for bad input: the message starts with the function's name.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// GCC 12 has no <format>: messages are built by streaming each piece.
template <class... Args>
std::string str(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(const char* where, Args&&... args) {
  throw Error(str(where, ": ", std::forward<Args>(args)...));
}

}  // namespace detail
}  // namespace sinew

// SINEW_CHECK(cond, "function", pieces...) throws sinew::Error("function: pieces...") when cond is
// false.
#define SINEW_CHECK(cond, where, ...)                       \
  do {                                                      \
    if (!(cond)) ::sinew::detail::fail(where, __VA_ARGS__); \
  } while (0)
