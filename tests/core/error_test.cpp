// sinew::Error messages: SINEW_CHECK's pieces print as std::ostream would print them.
#include <sstream>
#include <string>
#include <string_view>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

template <class... A>
std::string streamed(const A&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}

TEST(Error, CheckNamesTheFunctionAndPrintsEveryPiece) {
  const std::string s = "str";
  const std::string_view sv = "view";
  const char* cs = "cstr";
  const Shape shape{2, 3};
  auto check = [&](bool ok) {
    SINEW_CHECK(ok, "fn", "lit ", s, " ", sv, " ", cs, " ", 7, " ", int64_t{-8}, " ", size_t{9},
                " ", 0.1, " ", 2.5f, " ", 1e-12, " ", true, " ", 'c', " ", shape, " ",
                Device::cpu(), " ", DType::Float64);
  };
  EXPECT_NO_THROW(check(true));
  try {
    check(false);
    FAIL() << "did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              streamed("fn: lit ", s, " ", sv, " ", cs, " ", 7, " ", int64_t{-8}, " ", size_t{9},
                       " ", 0.1, " ", 2.5f, " ", 1e-12, " ", true, " ", 'c', " ", shape, " ",
                       Device::cpu(), " ", DType::Float64));
  }
}

TEST(Error, StrJoinsPiecesLikeAStream) {
  EXPECT_EQ(detail::str("a=", 1, ", b=", 0.25, ", ", Shape{4}),
            streamed("a=", 1, ", b=", 0.25, ", ", Shape{4}));
  EXPECT_EQ(detail::str(), "");
}

TEST(Error, FailThrowsError) {
  SINEW_EXPECT_ERROR(detail::fail("where", "x = ", 3), "where: x = 3");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
