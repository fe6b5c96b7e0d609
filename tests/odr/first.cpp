// ODR check, first translation unit: uses Sinew and calls into the second one.
#include <cstdio>

#include <sinew/sinew.hpp>

double second_unit_gradient();

int main() {
  sinew::Tensor<float> x = sinew::ones<float>({2, 3});
  x.requires_grad_();
  (x * x).sum().backward();
  double first = x.grad().sum().item();    // d/dx sum(x^2) = 2 at x = 1, six elements
  double second = second_unit_gradient();  // the same computation in double, in the other unit
  std::printf("odr: first unit %.1f, second unit %.1f\n", first, second);
  return first == 12.0 && second == 12.0 ? 0 : 1;
}
