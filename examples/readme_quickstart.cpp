#include <iostream>
#include <sinew/sinew.hpp>

int main() {
  using sinew::Tensor;
  Tensor<float> x = sinew::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor<float> w = sinew::full<float>({2}, 0.5);
  w.requires_grad_();

  // y = sum(sigmoid(x * w)): w broadcasts over the rows of x
  Tensor<float> y = sinew::sigmoid(x * w).sum();
  y.backward();

  std::cout << "y = " << y.item() << "\n";      // 3.05189
  std::cout << "dy/dw = " << w.grad() << "\n";  // tensor([0.6824, 0.8132])
  return 0;
}
