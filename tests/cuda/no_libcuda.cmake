# cmake -DBINARIES="a|b|..." -DREADELF=<readelf> -P no_libcuda.cmake
#
# Fails when one of the binaries needs libcuda.so (the driver library), directly (readelf -d) or
# through a library it loads (ldd). Such a program exits with code 127 before main on a machine
# without the NVIDIA driver. A binary that is not built yet is reported and skipped; the first one
# (sinew_cuda_tests) must exist.
string(REPLACE "|" ";" _binaries "${BINARIES}")
find_program(_ldd ldd)
set(_checked 0)
set(_bad "")
list(GET _binaries 0 _first)
foreach(_bin IN LISTS _binaries)
  if(NOT EXISTS "${_bin}")
    if(_bin STREQUAL _first)
      message(FATAL_ERROR "${_bin} does not exist: build it first")
    endif()
    message(STATUS "not built, not checked: ${_bin}")
    continue()
  endif()
  execute_process(COMMAND ${READELF} -d ${_bin} OUTPUT_VARIABLE _dynamic RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${READELF} -d ${_bin} failed (${_rc})")
  endif()
  math(EXPR _checked "${_checked} + 1")
  if(_dynamic MATCHES "NEEDED[^\n]*\\[libcuda\\.so")
    list(APPEND _bad "${_bin} (NEEDED)")
    continue()
  endif()
  if(_ldd)
    execute_process(COMMAND ${_ldd} ${_bin} OUTPUT_VARIABLE _libs ERROR_VARIABLE _libs_err
                    RESULT_VARIABLE _rc)
    if(_libs MATCHES "(^|[\n\t ])libcuda\\.so")
      list(APPEND _bad "${_bin} (through a library it loads)")
      continue()
    endif()
  endif()
  message(STATUS "does not need libcuda: ${_bin}")
endforeach()
if(_bad)
  message(FATAL_ERROR "these programs need libcuda.so.1 and would not start without the NVIDIA "
                      "driver: ${_bad}")
endif()
message(STATUS "${_checked} programs checked")
