# The CUDA toolkit as Sinew's CUDA backend uses it: the runtime, NVRTC, cuBLAS and cuDNN; never the
# driver library (CUDA::cuda_driver). A program linked with libcuda does not start (exit code 127)
# on a machine without the NVIDIA driver; the runtime instead loads the driver itself and reports
# its absence as an error that sinew::cuda::is_available() turns into `false`.
#
# Sets SINEW_CUDA_TOOLKIT_FOUND and SINEW_CUDNN_FOUND and, where the toolkit is found, defines the
# INTERFACE target sinew_cuda_runtime and, where Sinew::sinew exists (Sinew's own build, or a
# find_package(Sinew) that includes this file), Sinew::cuda: Sinew::sinew + the toolkit's libraries
# + SINEW_WITH_CUDA. A missing toolkit is not an error here: the caller decides.
# cuDNN is searched in CUDNN_ROOT (CMake variable or environment), then in the toolkit's folders.
include_guard(GLOBAL)

find_package(CUDAToolkit QUIET)
set(SINEW_CUDA_TOOLKIT_FOUND ${CUDAToolkit_FOUND})
set(SINEW_CUDNN_FOUND FALSE)
if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart OR NOT TARGET CUDA::nvrtc)
  set(SINEW_CUDA_TOOLKIT_FOUND FALSE)
  return()
endif()

find_path(SINEW_CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_TARGET_DIR}
  PATH_SUFFIXES include)
find_library(SINEW_CUDNN_LIBRARY cudnn
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_TARGET_DIR}
  PATH_SUFFIXES lib64 lib lib/x64)
mark_as_advanced(SINEW_CUDNN_INCLUDE_DIR SINEW_CUDNN_LIBRARY)
if(SINEW_CUDNN_INCLUDE_DIR AND SINEW_CUDNN_LIBRARY)
  set(SINEW_CUDNN_FOUND TRUE)
  if(NOT TARGET sinew_cudnn)
    add_library(sinew_cudnn UNKNOWN IMPORTED)
    set_target_properties(sinew_cudnn PROPERTIES
      IMPORTED_LOCATION ${SINEW_CUDNN_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${SINEW_CUDNN_INCLUDE_DIR})
  endif()
endif()

# The toolkit's stub libcuda (for the test that runs with it on the library path).
find_library(SINEW_CUDA_STUB_LIBCUDA cuda
  PATHS ${CUDAToolkit_LIBRARY_DIR}/stubs ${CUDAToolkit_TARGET_DIR}/lib/stubs
        ${CUDAToolkit_TARGET_DIR}/lib64/stubs
  NO_DEFAULT_PATH)
mark_as_advanced(SINEW_CUDA_STUB_LIBCUDA)

if(NOT TARGET sinew_cuda_runtime)
  add_library(sinew_cuda_runtime INTERFACE)
  # FindCUDAToolkit's CUDA::nvrtc lists CUDA::cuda_driver among its dependencies, which puts the
  # driver library on the link line (kept where the linker does not drop unused libraries, as in a
  # sanitizer build): link NVRTC's library file itself.
  get_target_property(_sinew_nvrtc_library CUDA::nvrtc IMPORTED_LOCATION)
  target_link_libraries(sinew_cuda_runtime INTERFACE CUDA::cudart ${_sinew_nvrtc_library})
  if(TARGET CUDA::cublas)
    target_link_libraries(sinew_cuda_runtime INTERFACE CUDA::cublas)
  endif()
  if(SINEW_CUDNN_FOUND)
    target_link_libraries(sinew_cuda_runtime INTERFACE sinew_cudnn)
    # What sinew::cuda::cudnn_is_available() reports (backend/cuda/public.hpp).
    target_compile_definitions(sinew_cuda_runtime INTERFACE SINEW_WITH_CUDNN)
  endif()
endif()

if(SINEW_CUDNN_FOUND)
  set(_sinew_cudnn_text "cuDNN ${SINEW_CUDNN_LIBRARY}")
else()
  set(_sinew_cudnn_text "no cuDNN (set CUDNN_ROOT)")
endif()
message(STATUS "Sinew: CUDA toolkit ${CUDAToolkit_VERSION} in ${CUDAToolkit_LIBRARY_DIR}, ${_sinew_cudnn_text}")

if(NOT TARGET Sinew::cuda AND TARGET Sinew::sinew)
  add_library(Sinew::cuda INTERFACE IMPORTED GLOBAL)
  target_link_libraries(Sinew::cuda INTERFACE Sinew::sinew sinew_cuda_runtime)
  target_compile_definitions(Sinew::cuda INTERFACE SINEW_WITH_CUDA)
endif()
