// A program linked with the driver library (libcuda): the negative control of the test that no
// test program needs libcuda.so.1. It is only inspected, never run.
#include <cuda.h>

int main() {
  int v = 0;
  return cuDriverGetVersion(&v) == CUDA_SUCCESS ? 0 : 1;
}
