// Compile-time reference: the smallest LibTorch program, #include <torch/torch.h> and one Linear
// forward (compare with empty_main.cpp).
#include <iostream>

#include <torch/torch.h>

int main() {
  torch::nn::Linear fc(4, 2);
  torch::Tensor y = fc->forward(torch::randn({3, 4}));
  std::cout << y.sizes() << "\n";
  return 0;
}
