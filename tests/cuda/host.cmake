# sinew_cuda_tests: the CUDA backend's runtime layer without a GPU (availability, error mapping,
# NVRTC, the kernel cache), built where the CUDA toolkit is found (cmake/SinewCuda.cmake). Included
# from tests/cuda/CMakeLists.txt.
include(${PROJECT_SOURCE_DIR}/cmake/SinewCuda.cmake)
if(NOT SINEW_CUDA_TOOLKIT_FOUND)
  message(STATUS "Sinew: no CUDA toolkit found; sinew_cuda_tests is not built")
  return()
endif()

file(GLOB _sinew_cuda_runtime_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/runtime/*_test.cpp)
if(NOT _sinew_cuda_runtime_sources)
  return()
endif()

add_executable(sinew_cuda_tests ${_sinew_cuda_runtime_sources})
sinew_test_target_options(sinew_cuda_tests)
target_link_libraries(sinew_cuda_tests PRIVATE sinew_cuda_runtime ${CMAKE_DL_LIBS})
target_include_directories(sinew_cuda_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
sinew_test_build_options(sinew_cuda_tests)
# The tests that use a disk cache make their own folders; this keeps anything else away from the
# user's ~/.cache.
set(_sinew_cuda_test_env "SINEW_KERNEL_CACHE=${CMAKE_CURRENT_BINARY_DIR}/kernel_cache")
gtest_discover_tests(sinew_cuda_tests TEST_PREFIX "cuda." DISCOVERY_TIMEOUT 60
                     PROPERTIES LABELS cuda ENVIRONMENT "${_sinew_cuda_test_env}")

# ---- no test binary may need libcuda.so.1 ----------------------------------------------------------
# readelf -d (direct) and ldd (transitive) on every test executable defined so far.
set(_sinew_binaries "$<TARGET_FILE:sinew_cuda_tests>")
foreach(_area IN LISTS SINEW_TEST_AREAS ITEMS cuda_sim cuda_emulated cuda_device)
  if(TARGET sinew_${_area}_tests)
    string(APPEND _sinew_binaries "|$<TARGET_FILE:sinew_${_area}_tests>")
  endif()
endforeach()
if(TARGET sinew_cuda_gpu_probe)
  string(APPEND _sinew_binaries "|$<TARGET_FILE:sinew_cuda_gpu_probe>")
endif()
find_program(SINEW_READELF NAMES readelf ${CMAKE_READELF})
add_test(NAME cuda.no_libcuda_needed
  COMMAND ${CMAKE_COMMAND} "-DBINARIES=${_sinew_binaries}" -DREADELF=${SINEW_READELF}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/no_libcuda.cmake)
set_tests_properties(cuda.no_libcuda_needed PROPERTIES LABELS cuda)

# The same check on a program that does link the driver library must fail (the check can fail).
if(TARGET CUDA::cuda_driver)
  add_executable(sinew_cuda_links_driver_probe ${CMAKE_CURRENT_SOURCE_DIR}/runtime/links_driver_probe.cpp)
  target_link_libraries(sinew_cuda_links_driver_probe PRIVATE CUDA::cuda_driver)
  add_dependencies(sinew_cuda_tests sinew_cuda_links_driver_probe)
  add_test(NAME cuda.no_libcuda_needed_detects_libcuda
    COMMAND ${CMAKE_COMMAND} "-DBINARIES=$<TARGET_FILE:sinew_cuda_links_driver_probe>"
            -DREADELF=${SINEW_READELF} -P ${CMAKE_CURRENT_SOURCE_DIR}/no_libcuda.cmake)
  set_tests_properties(cuda.no_libcuda_needed_detects_libcuda PROPERTIES LABELS cuda
    PASS_REGULAR_EXPRESSION "sinew_cuda_links_driver_probe[ \n]*\\(NEEDED\\)")
endif()

# ---- availability with the toolkit's stub libcuda on the library path -------------------------------
# The runtime loads libcuda.so.1 by that name; the toolkit ships the stub as libcuda.so, so a link of
# that name in the build tree is what goes on LD_LIBRARY_PATH. There cudaGetDeviceCount gives
# cudaErrorStubLibrary (34) instead of cudaErrorInsufficientDriver (35).
if(SINEW_CUDA_STUB_LIBCUDA)
  set(_sinew_stub_dir ${CMAKE_CURRENT_BINARY_DIR}/cuda_stub)
  file(MAKE_DIRECTORY ${_sinew_stub_dir})
  file(CREATE_LINK ${SINEW_CUDA_STUB_LIBCUDA} ${_sinew_stub_dir}/libcuda.so.1 SYMBOLIC)
  add_test(NAME cuda.availability_with_stub_libcuda
    COMMAND sinew_cuda_tests --gtest_filter=Availability.*)
  set_tests_properties(cuda.availability_with_stub_libcuda PROPERTIES LABELS cuda
    ENVIRONMENT "LD_LIBRARY_PATH=${_sinew_stub_dir};SINEW_TEST_EXPECT_CUDA_ERROR=34")
endif()

# ---- the NVRTC compile-all test (runtime/compile_all_test.cpp) --------------------------------------
# It compiles every kernel instantiation for two architectures on all cores (~110 CPU-seconds), so it
# runs alone and gets a longer timeout. The test is discovered after the build: its properties are set
# from a file that ctest reads after the discovered tests' own.
set(_sinew_compile_all_props ${CMAKE_CURRENT_BINARY_DIR}/compile_all_properties.cmake)
# NVRTC's output does not depend on the host compiler or on sanitizers, so only the optimized GCC
# build (the release preset) runs it; the asan and clang builds list it as disabled.
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU"
   AND NOT CMAKE_CXX_FLAGS MATCHES "sanitize")
  set(_sinew_compile_all_disabled FALSE)
else()
  set(_sinew_compile_all_disabled TRUE)
endif()
file(WRITE ${_sinew_compile_all_props}
  "set_tests_properties(cuda.CudaCompileAll.EveryInstantiationForSm80AndSm90WithinResourceBounds\n"
  "                     PROPERTIES RUN_SERIAL TRUE TIMEOUT 900 DISABLED ${_sinew_compile_all_disabled})\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_sinew_compile_all_props})
