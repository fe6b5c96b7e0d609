// The embedded kernel sources, the generated op-kind enums, name expressions, and the elementwise
// launch plan (layout, vector width, index width, grid) on hand-worked shapes.
#include <gtest/gtest.h>

#include <string>

#include <sinew/sinew.hpp>

#include "sinew/backend/cuda/launch_plan.hpp"
#include "sinew/backend/cuda/source.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

namespace cuda = backend::cuda;

TEST(CudaSource, EnumsAreGeneratedFromTheKindLists) {
  const std::string e = cuda::kind_enums_source;
  EXPECT_NE(e.find("enum class Compare : unsigned char { Eq, Ne, Lt, Le, Gt, Ge, };\n"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("enum class Logical : unsigned char { And, Or, Xor, };\n"), std::string::npos);
  EXPECT_NE(e.find("enum class Unary : unsigned char { Neg, Exp, Log,"), std::string::npos);
  EXPECT_NE(e.find(" Round, Trunc, };\n"), std::string::npos);
  EXPECT_EQ(e.rfind("namespace sinew {\n", 0), 0u);
  // One enumerator per kind: as many commas in the Unary line as Unary kinds.
  const size_t a = e.find("enum class Unary"), b = e.find('\n', a);
  const std::string unary = e.substr(a, b - a);
  EXPECT_EQ(std::count(unary.begin(), unary.end(), ','),
            static_cast<long>(backend::Unary::Trunc) + 1);
}

TEST(CudaSource, FragmentsAreEmbeddedWithoutTheirDelimiters) {
  const std::string p = cuda::prelude_source, w = cuda::elementwise_source;
  EXPECT_EQ(p.rfind("\n// Sinew's CUDA prelude", 0), 0u);
  EXPECT_EQ(p.find("SINEW_CUDA"), p.find("SINEW_CUDA_EMULATION"));  // no delimiter left inside
  EXPECT_NE(w.find("__global__ void unary_flat(T* out, const T* x, I n, T a, T b)"),
            std::string::npos);
  EXPECT_EQ(p.find("#include"), std::string::npos);
  EXPECT_EQ(w.find("#include"), std::string::npos);
  const std::string program = cuda::program_source(cuda::elementwise_source);
  EXPECT_LT(program.find("enum class Unary"), program.find("struct Strided"));
  EXPECT_LT(program.find("struct Strided"), program.find("void unary_flat"));
}

TEST(CudaSource, NameExpressions) {
  EXPECT_EQ(cuda::name_expression("unary_flat",
                                  {cuda::type_name<float>(), cuda::kind_arg(backend::Unary::Exp),
                                   cuda::index_type_name(true), "4"}),
            "sinew::unary_flat<float, 1, sinew::int32_t, 4>");
  EXPECT_EQ(cuda::name_expression("copy_strided",
                                  {cuda::type_name(DType::UInt8), cuda::type_name(DType::Float64),
                                   cuda::index_type_name(false)}),
            "sinew::copy_strided<sinew::uint8_t, double, sinew::int64_t>");
  EXPECT_EQ(cuda::kind_arg(backend::Binary::Maximum), "6");
  EXPECT_EQ(cuda::kind_arg(backend::Unary::Trunc), "35");
}

template <size_t N>
cuda::ElementwisePlan<N> plan(const Shape& shape, std::array<const detail::TensorImpl*, N> ops,
                              cuda::PlanOptions o = {}) {
  return cuda::plan_elementwise<N>(shape, ops, o);
}

TEST(CudaLaunchPlan, ContiguousOperandsTakeTheFlatKernelWithTheWidestAlignedAccess) {
  Tensor<float> x = zeros<float>({257}), y = zeros<float>({257});
  auto p = plan<2>(y.shape(), {&y.impl(), &x.impl()});
  EXPECT_TRUE(p.flat);
  EXPECT_TRUE(p.index32);
  EXPECT_EQ(p.vec, 4);
  EXPECT_EQ(p.block, 256u);
  EXPECT_EQ(p.grid, 1u);  // 257 elements, 1024 per block
  EXPECT_EQ(p.numel, 257);
  // Doubles: at most 16 bytes an access.
  Tensor<double> d = zeros<double>({3000}), e = zeros<double>({3000});
  auto q = plan<2>(d.shape(), {&d.impl(), &e.impl()}, {.block = 128});
  EXPECT_EQ(q.vec, 2);
  EXPECT_EQ(q.grid, 12u);  // ceil(3000 / 256)
  // An input one float past an aligned start: one element an access; two floats: two.
  Tensor<float> big = zeros<float>({300});
  Tensor<float> s1 = big.slice(0, 1, 258), s2 = big.slice(0, 2, 259);
  EXPECT_EQ((plan<2>(y.shape(), {&y.impl(), &s1.impl()}).vec), 1);
  EXPECT_EQ((plan<2>(y.shape(), {&y.impl(), &s2.impl()}).vec), 2);
  // A bool output with float inputs: 4 elements (4 bytes of bool, 16 of float).
  Tensor<bool> b = zeros<bool>({257});
  EXPECT_EQ((plan<3>(b.shape(), {&b.impl(), &x.impl(), &x.impl()}).vec), 4);
  // The grid is capped (grid-stride loops).
  Tensor<float> h = zeros<float>({1 << 20});
  EXPECT_EQ((plan<1>(h.shape(), {&h.impl()}, {.max_blocks = 10}).grid), 10u);
}

TEST(CudaLaunchPlan, StridedAndBroadcastOperandsAreCoalescedAsOnTheCpu) {
  Tensor<float> a = zeros<float>({5, 7});
  Tensor<float> t = a.t();  // [7, 5], strides [1, 7]
  Tensor<float> out = zeros<float>({7, 5});
  auto p = plan<2>(out.shape(), {&out.impl(), &t.impl()});
  EXPECT_FALSE(p.flat);
  ASSERT_EQ(p.ndim, 2);
  EXPECT_EQ(p.size[0], 7);
  EXPECT_EQ(p.size[1], 5);
  EXPECT_EQ(p.stride[0][0], 5);
  EXPECT_EQ(p.stride[0][1], 1);
  EXPECT_EQ(p.stride[1][0], 1);
  EXPECT_EQ(p.stride[1][1], 7);
  // [3, 1] x [1, 4] -> [3, 4]: the inputs broadcast with stride 0.
  Tensor<float> c = zeros<float>({3, 1}), r = zeros<float>({1, 4}), o = zeros<float>({3, 4});
  auto q = plan<3>(o.shape(), {&o.impl(), &c.impl(), &r.impl()});
  ASSERT_EQ(q.ndim, 2);
  EXPECT_EQ(q.stride[1][0], 1);
  EXPECT_EQ(q.stride[1][1], 0);
  EXPECT_EQ(q.stride[2][0], 0);
  EXPECT_EQ(q.stride[2][1], 1);
  // Contiguous [2, 3, 4] operands coalesce to one dimension: flat.
  Tensor<float> u = zeros<float>({2, 3, 4}), v = zeros<float>({2, 3, 4});
  auto f = plan<2>(u.shape(), {&u.impl(), &v.impl()});
  EXPECT_TRUE(f.flat);
  EXPECT_EQ(f.size[0], 24);
  // The packed descriptor pads unused dimensions with size 1 and stride 0.
  const auto s = cuda::strided_args<int32_t, 3>(q);
  EXPECT_EQ(s.ndim, 2);
  EXPECT_EQ(s.size[5], 1);
  EXPECT_EQ(s.stride[2][5], 0);
  EXPECT_EQ(s.stride[2][1], 1);
}

TEST(CudaLaunchPlan, IndexWidth) {
  Tensor<float> x = zeros<float>({64});
  EXPECT_TRUE((plan<1>(x.shape(), {&x.impl()}).index32));
  EXPECT_FALSE((plan<1>(x.shape(), {&x.impl()}, {.force_index64 = true}).index32));
  // 2^31 + 5 elements (an expanded scalar: no memory behind it) need 64-bit indices.
  Tensor<float> one = zeros<float>({1});
  Tensor<float> huge = one.expand({(int64_t{1} << 31) + 5});
  EXPECT_FALSE((plan<1>(huge.shape(), {&huge.impl()}).index32));
  // 2^31 - 2 elements fit, but not once the last grid-stride step past the end is counted.
  Tensor<float> edge = one.expand({(int64_t{1} << 31) - 2});
  EXPECT_FALSE((plan<1>(edge.shape(), {&edge.impl()}).index32));
  Tensor<float> fits = one.expand({int64_t{1} << 30});
  EXPECT_TRUE((plan<1>(fits.shape(), {&fits.impl()}).index32));
}

TEST(CudaLaunchPlan, EmptyAndTooManyDimensions) {
  Tensor<float> e = zeros<float>({3, 0});
  auto p = plan<1>(e.shape(), {&e.impl()});
  EXPECT_EQ(p.numel, 0);
  EXPECT_EQ(p.grid, 0u);
  // Nine dimensions of size 2 whose strides alternate so that none merge.
  Tensor<float> base = zeros<float>({2, 2, 2, 2, 2, 2, 2, 2, 2, 2});
  Tensor<float> nine = base.permute({0, 2, 1, 4, 3, 6, 5, 8, 7, 9}).select(9, 0);
  Tensor<float> out = zeros<float>(nine.shape());
  EXPECT_THROW((plan<2>(out.shape(), {&out.impl(), &nine.impl()})), Error);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
