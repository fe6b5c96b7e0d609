// The libFuzzer entry point of one target of targets.hpp, chosen at build time: SINEW_FUZZ_TARGET
// is its name (tests/fuzz/CMakeLists.txt builds one executable per target).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)sinew::fuzz::SINEW_FUZZ_TARGET(data, size);
  return 0;
}
