# CMake helpers for projects that use Sinew (installed beside SinewConfig.cmake and loaded by it,
# and defined as well when Sinew is added with add_subdirectory).
include_guard(GLOBAL)

# sinew_enable_pch(<target> [REUSE_FROM <other-target>] [HEADERS <header>...])
#
# Precompiles <sinew/sinew.hpp> (plus any HEADERS, e.g. <gtest/gtest.h>) for <target>. Every
# translation unit that uses Sinew parses the whole header-only library, so this saves that parse in
# each of them. With REUSE_FROM, <target> uses the precompiled header already built for
# <other-target> instead of building its own (the two must be compiled with the same flags).
# <target> must link Sinew::sinew (or Sinew::cuda) so that the header is found.
function(sinew_enable_pch target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "REUSE_FROM" "HEADERS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sinew_enable_pch: unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(arg_REUSE_FROM)
    if(arg_HEADERS)
      message(FATAL_ERROR "sinew_enable_pch: give either REUSE_FROM or HEADERS, not both")
    endif()
    target_precompile_headers(${target} REUSE_FROM ${arg_REUSE_FROM})
  else()
    target_precompile_headers(${target} PRIVATE <sinew/sinew.hpp> ${arg_HEADERS})
  endif()
endfunction()
