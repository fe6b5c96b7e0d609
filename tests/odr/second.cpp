// ODR check, second translation unit: includes the whole library again and links with the first.
#include <sinew/sinew.hpp>

double second_unit_gradient() {
  sinew::Tensor<double> x = sinew::ones<double>({2, 3});
  x.requires_grad_();
  (x * x).sum().backward();
  return x.grad().sum().item();
}
