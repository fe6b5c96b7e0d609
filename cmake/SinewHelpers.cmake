# sinew_enable_pch(target): precompile <sinew/sinew.hpp> for a target (big compile-time saving,
# since every translation unit that uses Sinew parses the whole header-only library).
function(sinew_enable_pch target)
  target_precompile_headers(${target} PRIVATE <sinew/sinew.hpp>)
endfunction()

# Flags for Sinew's own programs (tests, benchmarks, examples); not part of the exported target.
function(sinew_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(SINEW_NATIVE_ARCH)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()
