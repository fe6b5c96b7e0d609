// operator<< matches PyTorch's tensor repr (expected strings are what PyTorch 2.x prints for the
// same values, with Sinew's dtype and grad_fn names).
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace sinew {
namespace {
namespace SINEW_UNITY_ID {

template <class T>
std::string repr(const Tensor<T>& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

TEST(Print, FloatMatrixUsesFourDecimalsAndAlignedRows) {
  EXPECT_EQ(repr(from_vector<float>({1, 2.5, 3, 4}, {2, 2})),
            "tensor([[1.0000, 2.5000],\n"
            "        [3.0000, 4.0000]])");
}

TEST(Print, NegativeValuesPadToTheWidestEntry) {
  EXPECT_EQ(repr(from_vector<float>({-1.5, 2.25, 10})), "tensor([-1.5000,  2.2500, 10.0000])");
}

TEST(Print, IntegerValuedFloatsPrintWithATrailingDot) {
  EXPECT_EQ(repr(from_vector<float>({1, 2, 3, 4}, {2, 2})),
            "tensor([[1., 2.],\n"
            "        [3., 4.]])");
  EXPECT_EQ(repr(from_vector<float>({-1, 0, 12})), "tensor([-1.,  0., 12.])");
  EXPECT_EQ(repr(zeros({2})), "tensor([0., 0.])");
}

TEST(Print, WideRangesSwitchToScientificNotation) {
  EXPECT_EQ(repr(from_vector<float>({1e-5f, 1})), "tensor([1.0000e-05, 1.0000e+00])");
  // Integer-valued but spanning more than three orders of magnitude.
  EXPECT_EQ(repr(from_vector<float>({1, 10000})), "tensor([1.0000e+00, 1.0000e+04])");
  EXPECT_EQ(repr(from_vector<float>({0, 1e9f})), "tensor([0.0000e+00, 1.0000e+09])");
}

TEST(Print, NonFiniteValuesDoNotWidenColumns) {
  EXPECT_EQ(repr(from_vector<float>({NAN, 1, INFINITY, -INFINITY})),
            "tensor([nan, 1., inf, -inf])");
  EXPECT_EQ(repr(from_vector<float>({NAN, 0.5})), "tensor([   nan, 0.5000])");
}

TEST(Print, Int64AndBoolHaveNoDtypeSuffix) {
  EXPECT_EQ(repr(from_vector<int64_t>({1, 2, 3})), "tensor([1, 2, 3])");
  EXPECT_EQ(repr(from_vector<int64_t>({-10, 5})), "tensor([-10,   5])");
  EXPECT_EQ(repr(from_vector<bool>({true, false})), "tensor([ True, False])");
  EXPECT_EQ(repr(from_vector<bool>({true, true})), "tensor([True, True])");
}

TEST(Print, DoubleAndUint8NameTheirDtype) {
  EXPECT_EQ(repr(from_vector<double>({1.5, 2})), "tensor([1.5000, 2.0000], dtype=float64)");
  EXPECT_EQ(repr(from_vector<uint8_t>({7, 255})), "tensor([  7, 255], dtype=uint8)");
}

TEST(Print, ZeroDimTensorsPrintTheBareValue) {
  EXPECT_EQ(repr(scalar_tensor(3.5)), "tensor(3.5000)");
  EXPECT_EQ(repr(scalar_tensor(3)), "tensor(3.)");
  EXPECT_EQ(repr(scalar_tensor<int64_t>(-2)), "tensor(-2)");
  EXPECT_EQ(repr(scalar_tensor<double>(0.25)), "tensor(0.2500, dtype=float64)");
}

TEST(Print, AutogradSuffixes) {
  Tensor<float> x = from_vector<float>({1, 2}).requires_grad_();
  EXPECT_EQ(repr(x), "tensor([1., 2.], requires_grad=True)");
  EXPECT_EQ(repr(x * 2.f), "tensor([2., 4.], grad_fn=<MulBackward0>)");
  EXPECT_EQ(repr(x.detach()), "tensor([1., 2.])");
  Tensor<double> d = scalar_tensor<double>(1).requires_grad_();
  EXPECT_EQ(repr(d), "tensor(1., dtype=float64, requires_grad=True)");
}

TEST(Print, ThreeDimensionalTensorsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(repr(arange(8).reshape({2, 2, 2})),
            "tensor([[[0., 1.],\n"
            "         [2., 3.]],\n"
            "\n"
            "        [[4., 5.],\n"
            "         [6., 7.]]])");
}

TEST(Print, NonContiguousTensorsPrintInLogicalOrder) {
  EXPECT_EQ(repr(arange<int64_t>(6).reshape({2, 3}).t()),
            "tensor([[0, 3],\n"
            "        [1, 4],\n"
            "        [2, 5]])");
}

TEST(Print, LongRowsWrapAtEightyColumns) {
  EXPECT_EQ(repr(arange(20)),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19.])");
}

TEST(Print, LargeTensorsAreSummarizedWithEllipses) {
  // x[i][j] = (i % 10) + (j % 10) / 10: only rows and columns 0-2 and 97-99 are shown.
  std::vector<float> v;
  for (int i = 0; i < 100; ++i) {
    for (int j = 0; j < 100; ++j) v.push_back(float(i % 10) + float(j % 10) / 10.f);
  }
  EXPECT_EQ(repr(from_vector(v, {100, 100})),
            "tensor([[0.0000, 0.1000, 0.2000,  ..., 0.7000, 0.8000, 0.9000],\n"
            "        [1.0000, 1.1000, 1.2000,  ..., 1.7000, 1.8000, 1.9000],\n"
            "        [2.0000, 2.1000, 2.2000,  ..., 2.7000, 2.8000, 2.9000],\n"
            "        ...,\n"
            "        [7.0000, 7.1000, 7.2000,  ..., 7.7000, 7.8000, 7.9000],\n"
            "        [8.0000, 8.1000, 8.2000,  ..., 8.7000, 8.8000, 8.9000],\n"
            "        [9.0000, 9.1000, 9.2000,  ..., 9.7000, 9.8000, 9.9000]])");
}

TEST(Print, SummarizedScientificRowsWrap) {
  // torch.arange(10000.).reshape(100, 100)
  EXPECT_EQ(repr(arange(10000).reshape({100, 100})),
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.7000e+01, 9.8000e+01,\n"
            "         9.9000e+01],\n"
            "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.9700e+02, 1.9800e+02,\n"
            "         1.9900e+02],\n"
            "        [2.0000e+02, 2.0100e+02, 2.0200e+02,  ..., 2.9700e+02, 2.9800e+02,\n"
            "         2.9900e+02],\n"
            "        ...,\n"
            "        [9.7000e+03, 9.7010e+03, 9.7020e+03,  ..., 9.7970e+03, 9.7980e+03,\n"
            "         9.7990e+03],\n"
            "        [9.8000e+03, 9.8010e+03, 9.8020e+03,  ..., 9.8970e+03, 9.8980e+03,\n"
            "         9.8990e+03],\n"
            "        [9.9000e+03, 9.9010e+03, 9.9020e+03,  ..., 9.9970e+03, 9.9980e+03,\n"
            "         9.9990e+03]])");
}

TEST(Print, OneDimensionalSummaryKeepsThreeAtEachEnd) {
  EXPECT_EQ(repr(arange<int64_t>(2000)), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
}

TEST(Print, EmptyTensorsShowTheirSize) {
  EXPECT_EQ(repr(zeros({0})), "tensor([])");
  EXPECT_EQ(repr(zeros({0, 3})), "tensor([], size=[0, 3])");
  EXPECT_EQ(repr(zeros({2, 0})), "tensor([], size=[2, 0])");
  EXPECT_EQ(repr(zeros<int64_t>({0})), "tensor([], dtype=int64)");
}

TEST(Print, UndefinedTensor) { EXPECT_EQ(repr(Tensor<float>()), "tensor(undefined)"); }

}  // namespace SINEW_UNITY_ID
}  // namespace
}  // namespace sinew
