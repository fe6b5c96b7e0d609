# Checks that README.md's quick-start C++ block equals EXAMPLE (examples/readme_quickstart.cpp),
# so the code the README shows is the code the build compiles and runs (run with cmake -P).
file(READ "${README}" _readme)
file(READ "${EXAMPLE}" _example)
# The quick-start block is the first ```cpp fenced block of the README.
string(FIND "${_readme}" "```cpp\n" _begin)
if(_begin EQUAL -1)
  message(FATAL_ERROR "${README} has no ```cpp block")
endif()
math(EXPR _begin "${_begin} + 7")
string(SUBSTRING "${_readme}" ${_begin} -1 _rest)
string(FIND "${_rest}" "```" _end)
string(SUBSTRING "${_rest}" 0 ${_end} _block)
if(NOT _block STREQUAL _example)
  message(FATAL_ERROR "README.md's first ```cpp block differs from ${EXAMPLE}: copy the file into "
                      "the README (or the README's block into the file)")
endif()
message(STATUS "README quick start matches ${EXAMPLE}")
