// sinew/fwd.hpp: its declarations agree with the definitions (included first, then the library).
#include <sinew/fwd.hpp>

#include <type_traits>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

// Declared before anything is defined: a signature that only names the types.
float first_weight(nn::Linear& layer);

TEST(Fwd, AliasesNameTheFloatInstantiations) {
  static_assert(std::is_same_v<nn::Linear, nn::LinearT<float>>);
  static_assert(std::is_same_v<nn::Module, nn::ModuleT<float>>);
  static_assert(std::is_same_v<nn::Sequential, nn::SequentialT<float>>);
  static_assert(std::is_same_v<optim::SGD, optim::SGDT<float>>);
  static_assert(std::is_base_of_v<optim::Optimizer, optim::AdamT<double>>);
  nn::Linear layer(2, 1);
  {
    NoGradGuard guard;
    layer.weight.fill_(0.5);
  }
  EXPECT_EQ(first_weight(layer), 0.5f);
}

float first_weight(nn::Linear& layer) { return layer.weight.to_vector()[0]; }

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
