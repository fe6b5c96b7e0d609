// sinew::Error and the SINEW_CHECK macro used at every public boundary.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sinew {

// The one exception type Sinew throws for bad input: the message starts with the function's name.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// One piece of an error message: a pointer to the value and the function that prints it. Building
// the pieces costs two stores each, and the printing happens only once a check has failed, in
// non-template code; so the ~400 check sites share a handful of formatters instead of each
// instantiating its own stringstream code (GCC 12 has no <format>). Pieces print as they would
// through std::ostream. A piece points at its argument, so it lives only within the full
// expression that builds the message.
class MsgPart {
 public:
  using Format = void (*)(std::string&, const void*);

  MsgPart(const char* s) : p_(s), fmt_(&cstr) {}  // NOLINT: implicit on purpose (all of these)
  MsgPart(const std::string& s) : p_(&s), fmt_(&string) {}
  MsgPart(const std::string_view& s) : p_(&s), fmt_(&view) {}
  MsgPart(const int& v) : p_(&v), fmt_(&integer<int>) {}
  MsgPart(const unsigned& v) : p_(&v), fmt_(&integer<unsigned>) {}
  MsgPart(const long& v) : p_(&v), fmt_(&integer<long>) {}
  MsgPart(const unsigned long& v) : p_(&v), fmt_(&integer<unsigned long>) {}
  MsgPart(const long long& v) : p_(&v), fmt_(&integer<long long>) {}
  MsgPart(const unsigned long long& v) : p_(&v), fmt_(&integer<unsigned long long>) {}
  MsgPart(const double& v) : p_(&v), fmt_(&floating<double>) {}
  MsgPart(const float& v) : p_(&v), fmt_(&floating<float>) {}
  MsgPart(const bool& v) : p_(&v), fmt_(&boolean) {}
  MsgPart(const char& v) : p_(&v), fmt_(&character) {}
  // Anything else with an operator<< (Shape, Device, DType, ...): one formatter per type.
  template <class V>
  MsgPart(const V& v) : p_(&v), fmt_(&streamed<V>) {}

  void append_to(std::string& out) const { fmt_(out, p_); }

 private:
  static void cstr(std::string& out, const void* p) {
    out += p ? static_cast<const char*>(p) : "(null)";
  }
  static void string(std::string& out, const void* p) {
    out += *static_cast<const std::string*>(p);
  }
  static void view(std::string& out, const void* p) {
    out += *static_cast<const std::string_view*>(p);
  }
  template <class I>
  static void integer(std::string& out, const void* p) {
    out += std::to_string(*static_cast<const I*>(p));
  }
  template <class F>
  static void floating(std::string& out, const void* p) {
    char buf[32];  // %g is std::ostream's default format for floating-point values
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(*static_cast<const F*>(p)));
    out += buf;
  }
  static void boolean(std::string& out, const void* p) {
    out += *static_cast<const bool*>(p) ? '1' : '0';  // as std::ostream prints a bool
  }
  static void character(std::string& out, const void* p) { out += *static_cast<const char*>(p); }
  template <class V>
  static void streamed(std::string& out, const void* p) {
    std::ostringstream os;
    os << *static_cast<const V*>(p);
    out += os.str();
  }

  const void* p_;
  Format fmt_;
};

inline std::string join_parts(std::initializer_list<MsgPart> parts) {
  std::string s;
  for (const MsgPart& part : parts) part.append_to(s);
  return s;
}

// Throws Error("where: parts..."). Cold and out of line: a failing check is the rare path.
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_parts(
    std::string_view where, std::initializer_list<MsgPart> parts) {
  std::string s(where);
  s += ": ";
  for (const MsgPart& part : parts) part.append_to(s);
  throw Error(s);
}

// The pieces streamed into one string.
template <class... Args>
std::string str(const Args&... args) {
  return join_parts({MsgPart(args)...});
}

template <class... Args>
[[noreturn]] void fail(std::string_view where, const Args&... args) {
  fail_parts(where, {MsgPart(args)...});
}

}  // namespace detail
}  // namespace sinew

// SINEW_CHECK(cond, "function", pieces...) throws sinew::Error("function: pieces...") when cond is
// false.
#define SINEW_CHECK(cond, where, ...)                    \
  do {                                                   \
    if (!(cond)) [[unlikely]]                            \
      ::sinew::detail::fail_parts(where, {__VA_ARGS__}); \
  } while (0)
