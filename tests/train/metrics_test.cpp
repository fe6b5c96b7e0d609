// Tests of sinew/train/metrics.hpp. Every expected value is worked out by hand in the comments.
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;
using train::Average;

Tensor<int64_t> longs(const std::vector<int64_t>& v) { return from_vector(v); }

// The matrix used by most score tests (rows = true class, columns = predicted):
//            cat  dog  bird   support
//   cat        4    1     1       6
//   dog        2    6     2      10
//   bird       0    1     3       4
// N = 20; column sums 6, 8, 6; TP = 4, 6, 3 (accuracy 13/20).
// FP = column - TP = 2, 2, 3;  FN = row - TP = 2, 4, 1;  TN = N - TP - FP - FN = 12, 8, 13.
const std::vector<int64_t> kCounts = {4, 1, 1, 2, 6, 2, 0, 1, 3};

Tensor<int64_t> three_class() { return from_vector(kCounts, Shape{3, 3}); }

// The same matrix accumulated sample by sample through update().
train::ConfusionMatrix three_class_cm() {
  train::ConfusionMatrix cm(3, {"cat", "dog", "bird"});
  std::vector<int64_t> pred, truth;
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t n = 0; n < kCounts[static_cast<size_t>(i * 3 + j)]; ++n) {
        truth.push_back(i);
        pred.push_back(j);
      }
    }
  }
  cm.update(longs(pred), longs(truth));
  return cm;
}

// sum over (positive, negative) pairs of [s_pos > s_neg] + [s_pos == s_neg] / 2, over n_pos n_neg.
double pair_count_auc(const std::vector<double>& s, const std::vector<int64_t>& y) {
  double u = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[i] != 1 || y[j] != 0) continue;
      u += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      pairs += 1;
    }
  }
  return u / pairs;
}

// ---- accuracy -----------------------------------------------------------------------------------

TEST(Accuracy, ArgmaxOfLogitsTakesTheFirstIndexOnTies) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  // Row argmax: [1, 1, 0] -> 0 (tie, first), [0, 2, 2] -> 1 (tie), [3, 0, 1] -> 0, [0, 0, 5] -> 2,
  // [NaN, 9, 0] -> 0 (NaN counts as the largest, as torch.argmax). Targets 0, 2, 0, 2, 1:
  // hits at rows 0, 2, 3 -> 3/5.
  Tensor<float> logits =
      from_vector<float>({1, 1, 0, 0, 2, 2, 3, 0, 1, 0, 0, 5, nan, 9, 0}, {5, 3});
  EXPECT_DOUBLE_EQ(train::accuracy(logits, longs({0, 2, 0, 2, 1})), 0.6);
  EXPECT_DOUBLE_EQ(train::accuracy(logits.to<double>(), longs({0, 2, 0, 2, 1})), 0.6);
  EXPECT_DOUBLE_EQ(train::accuracy(logits, longs({0, 1, 0, 2, 0})), 1.0);
}

TEST(Accuracy, ComparesClassIndices) {
  // 2 of 4 equal.
  EXPECT_DOUBLE_EQ(train::accuracy(longs({2, 0, 1, 1}), longs({2, 1, 1, 0})), 0.5);
  EXPECT_DOUBLE_EQ(train::accuracy(longs({3}), longs({4})), 0.0);
}

TEST(Accuracy, ReadsNonContiguousLogits) {
  // The transpose of [[0, 5], [1, 0], [2, 0]] is [[0, 1, 2], [5, 0, 0]]: argmax 2 and 0.
  Tensor<double> t = from_vector<double>({0, 5, 1, 0, 2, 0}, {3, 2}).transpose(0, 1);
  EXPECT_DOUBLE_EQ(train::accuracy(t, longs({2, 1})), 0.5);
}

TEST(TopKAccuracy, CountsTargetsAmongTheKLargest) {
  // Classes ahead of the target (greater, or equal with a lower index):
  //   [0.1, 0.5, 0.3, 0.2], y = 2: 0.5 -> 1 ahead
  //   [0.4, 0.1, 0.2, 0.3], y = 0: none -> 0
  //   [0.2, 0.2, 0.2, 0.4], y = 2: 0.4 and the equal classes 0, 1 -> 3
  //   [0.3, 0.1, 0.6, 0.0], y = 3: 3
  // A hit when ahead < k: k = 1 -> 1/4, k = 2 -> 2/4, k = 3 -> 2/4, k = 4 -> 4/4.
  Tensor<float> logits = from_vector<float>(
      {0.1f, 0.5f, 0.3f, 0.2f, 0.4f, 0.1f, 0.2f, 0.3f, 0.2f, 0.2f, 0.2f, 0.4f, 0.3f, 0.1f, 0.6f, 0},
      {4, 4});
  Tensor<int64_t> y = longs({2, 0, 2, 3});
  EXPECT_DOUBLE_EQ(train::top_k_accuracy(logits, y, 1), 0.25);
  EXPECT_DOUBLE_EQ(train::top_k_accuracy(logits, y, 2), 0.5);
  EXPECT_DOUBLE_EQ(train::top_k_accuracy(logits, y, 3), 0.5);
  EXPECT_DOUBLE_EQ(train::top_k_accuracy(logits.to<double>(), y, 4), 1.0);
  // k = 1 is accuracy, ties included.
  EXPECT_DOUBLE_EQ(train::top_k_accuracy(logits, y, 1), train::accuracy(logits, y));
}

// ---- confusion matrix ---------------------------------------------------------------------------

TEST(ConfusionMatrix, RowsAreTrueClassesColumnsPredicted) {
  train::ConfusionMatrix cm = three_class_cm();
  EXPECT_EQ(cm.matrix().to_vector(), kCounts);
  EXPECT_EQ(cm.matrix().shape(), (Shape{3, 3}));
  EXPECT_EQ(cm.count(1, 0), 2);  // two dogs predicted as cats
  EXPECT_EQ(cm.count(0, 1), 1);
  EXPECT_EQ(cm.total(), 20);
  EXPECT_EQ(cm.num_classes(), 3);
  EXPECT_EQ(cm.class_names(), (std::vector<std::string>{"cat", "dog", "bird"}));
}

TEST(ConfusionMatrix, UpdateFromLogitsAccumulatesAndResets) {
  train::ConfusionMatrix cm(3);
  // Argmax 0, 1, 0, 2, 0 against targets 0, 2, 0, 2, 1: (true, pred) = (0,0) (2,1) (0,0) (2,2)
  // (1,0); then indices 1, 1 against 1, 0: (1,1) (0,1).
  cm.update(from_vector<float>({1, 1, 0, 0, 2, 2, 3, 0, 1, 0, 0, 5, 4, 3, 0}, {5, 3}),
            longs({0, 2, 0, 2, 1}));
  cm.update(longs({1, 1}), longs({1, 0}));
  EXPECT_EQ(cm.matrix().to_vector(), (std::vector<int64_t>{2, 1, 0, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(cm.total(), 7);
  EXPECT_EQ(cm.class_names(), (std::vector<std::string>{"0", "1", "2"}));
  cm.reset();
  EXPECT_EQ(cm.matrix().to_vector(), std::vector<int64_t>(9, 0));
  EXPECT_EQ(cm.total(), 0);
}

TEST(ConfusionMatrix, PrintsAnAlignedTableWithClassNames) {
  // First column as wide as "true\pred" (9), the others as their name or widest count, two spaces
  // between columns.
  const std::string expected =
      "true\\pred  cat  dog  bird\n"
      "cat          4    1     1\n"
      "dog          2    6     2\n"
      "bird         0    1     3\n";
  train::ConfusionMatrix cm = three_class_cm();
  EXPECT_EQ(cm.to_string(), expected);
  std::ostringstream os;
  os << cm;
  EXPECT_EQ(os.str(), expected);
}

TEST(ConfusionMatrix, PrintsIndicesAndWidensColumnsForLargeCounts) {
  // [[120, 3], [7, 45]]: column 0 is 3 wide (120), column 1 is 2 wide (45).
  train::ConfusionMatrix cm(2);
  std::vector<int64_t> pred, truth;
  auto add = [&](int64_t t, int64_t p, int n) {
    for (int i = 0; i < n; ++i) truth.push_back(t), pred.push_back(p);
  };
  add(0, 0, 120);
  add(0, 1, 3);
  add(1, 0, 7);
  add(1, 1, 45);
  cm.update(longs(pred), longs(truth));
  EXPECT_EQ(cm.to_string(),
            "true\\pred    0   1\n"
            "0          120   3\n"
            "1            7  45\n");
}

// ---- precision, recall, specificity, F-beta
// -------------------------------------------------------

TEST(Scores, PerClassFromTheThreeClassMatrix) {
  // precision TP/(TP+FP): 4/6, 6/8, 3/6;  recall TP/(TP+FN): 4/6, 6/10, 3/4;
  // specificity TN/(TN+FP): 12/14, 8/10, 13/16;  F1 2TP/(2TP+FN+FP): 8/12, 12/18, 6/10;
  // F2 5TP/(5TP+4FN+FP): 20/30, 30/48, 15/22.
  Tensor<int64_t> m = three_class();
  EXPECT_TRUE(
      sinew::testing::values_are(train::precision(m, Average::None), {2. / 3, 0.75, 0.5}, 1e-12));
  EXPECT_TRUE(
      sinew::testing::values_are(train::recall(m, Average::None), {2. / 3, 0.6, 0.75}, 1e-12));
  EXPECT_TRUE(
      sinew::testing::values_are(train::sensitivity(m, Average::None), {2. / 3, 0.6, 0.75}, 1e-12));
  EXPECT_TRUE(sinew::testing::values_are(train::specificity(m, Average::None),
                                         {6. / 7, 0.8, 13. / 16}, 1e-12));
  EXPECT_TRUE(
      sinew::testing::values_are(train::f1_score(m, Average::None), {2. / 3, 2. / 3, 0.6}, 1e-12));
  EXPECT_TRUE(sinew::testing::values_are(train::fbeta_score(m, 2, Average::None),
                                         {2. / 3, 5. / 8, 15. / 22}, 1e-12));
  // beta = 0 is precision; beta = 1 is F1.
  EXPECT_TRUE(sinew::testing::all_close(train::fbeta_score(m, 0, Average::None),
                                        train::precision(m, Average::None), 1e-12, 0));
  EXPECT_TRUE(sinew::testing::all_close(train::fbeta_score(m, 1, Average::None),
                                        train::f1_score(m, Average::None), 1e-12, 0));
  EXPECT_EQ(train::precision(m, Average::None).shape(), (Shape{3}));
}

TEST(Scores, MacroIsThePlainMeanOfTheClasses) {
  // precision (2/3 + 3/4 + 1/2) / 3 = 23/36;  recall (2/3 + 3/5 + 3/4) / 3 = 121/180;
  // specificity (6/7 + 4/5 + 13/16) / 3 = 461/560;  F1 (2/3 + 2/3 + 3/5) / 3 = 29/45;
  // F2 (2/3 + 5/8 + 15/22) / 3 = 521/792.
  train::ConfusionMatrix cm = three_class_cm();
  EXPECT_NEAR(train::precision(cm, Average::Macro).item(), 23. / 36, 1e-12);
  EXPECT_NEAR(train::recall(cm, Average::Macro).item(), 121. / 180, 1e-12);
  EXPECT_NEAR(train::specificity(cm, Average::Macro).item(), 461. / 560, 1e-12);
  EXPECT_NEAR(train::f1_score(cm, Average::Macro).item(), 29. / 45, 1e-12);
  EXPECT_NEAR(train::fbeta_score(cm, 2, Average::Macro).item(), 521. / 792, 1e-12);
  EXPECT_EQ(train::precision(cm, Average::Macro).dim(), 0);
}

TEST(Scores, WeightedAveragesBySupport) {
  // Supports 6, 10, 4 (N = 20): precision (6 2/3 + 10 3/4 + 4 1/2) / 20 = 27/40;
  // recall (4 + 6 + 3) / 20 = 13/20 (= accuracy); specificity (36/7 + 8 + 13/4) / 20 = 459/560;
  // F1 (4 + 20/3 + 12/5) / 20 = 49/75;  F2 (4 + 25/4 + 30/11) / 20 = 571/880.
  train::ConfusionMatrix cm = three_class_cm();
  EXPECT_NEAR(train::precision(cm, Average::Weighted).item(), 27. / 40, 1e-12);
  EXPECT_NEAR(train::recall(cm, Average::Weighted).item(), 13. / 20, 1e-12);
  EXPECT_NEAR(train::specificity(cm, Average::Weighted).item(), 459. / 560, 1e-12);
  EXPECT_NEAR(train::f1_score(cm, Average::Weighted).item(), 49. / 75, 1e-12);
  EXPECT_NEAR(train::fbeta_score(cm, 2, Average::Weighted).item(), 571. / 880, 1e-12);
}

TEST(Scores, MicroPoolsTheCountsAndEqualsAccuracy) {
  // sum TP = 13, sum FP = sum FN = 7: precision = recall = F-beta = 13/20 = accuracy.
  // Specificity: sum TN = 33, sum FP = 7 -> 33/40 (= (C N - 2 N + sum TP) / ((C - 1) N)).
  train::ConfusionMatrix cm = three_class_cm();
  EXPECT_NEAR(train::precision(cm, Average::Micro).item(), 0.65, 1e-12);
  EXPECT_NEAR(train::recall(cm, Average::Micro).item(), 0.65, 1e-12);
  EXPECT_NEAR(train::f1_score(cm, Average::Micro).item(), 0.65, 1e-12);
  EXPECT_NEAR(train::fbeta_score(cm, 0.5, Average::Micro).item(), 0.65, 1e-12);
  EXPECT_NEAR(train::specificity(cm, Average::Micro).item(), 33. / 40, 1e-12);
}

TEST(Scores, ZeroOverZeroIsZero) {
  // [[2, 1, 0], [1, 1, 0], [0, 0, 0]]: class 2 is never true nor predicted, so its precision,
  // recall and F1 are 0/0 = 0 (and it still counts in the macro mean); its specificity is 5/5.
  // Macro precision (2/3 + 1/2 + 0) / 3 = 7/18; weighted (supports 3, 2, 0) (2 + 1) / 5 = 3/5.
  Tensor<int64_t> m = from_vector<int64_t>({2, 1, 0, 1, 1, 0, 0, 0, 0}, {3, 3});
  EXPECT_TRUE(
      sinew::testing::values_are(train::precision(m, Average::None), {2. / 3, 0.5, 0}, 1e-12));
  EXPECT_TRUE(sinew::testing::values_are(train::recall(m, Average::None), {2. / 3, 0.5, 0}, 1e-12));
  EXPECT_TRUE(
      sinew::testing::values_are(train::f1_score(m, Average::None), {2. / 3, 0.5, 0}, 1e-12));
  EXPECT_TRUE(
      sinew::testing::values_are(train::specificity(m, Average::None), {0.5, 2. / 3, 1}, 1e-12));
  EXPECT_NEAR(train::precision(m, Average::Macro).item(), 7. / 18, 1e-12);
  EXPECT_NEAR(train::precision(m, Average::Weighted).item(), 0.6, 1e-12);
  // An empty matrix: every score and average is 0.
  Tensor<int64_t> none = zeros<int64_t>({2, 2});
  EXPECT_TRUE(sinew::testing::values_are(train::recall(none, Average::None), {0, 0}));
  EXPECT_EQ(train::f1_score(none, Average::Weighted).item(), 0.0);
  EXPECT_EQ(train::precision(none, Average::Micro).item(), 0.0);
}

TEST(ClassificationReport, HasScikitLearnsLayout) {
  // Per class: P, R, F1 as in Scores.PerClassFromTheThreeClassMatrix; accuracy 13/20; macro 23/36,
  // 121/180, 29/45; weighted 27/40, 13/20, 49/75. Label column 12 wide ("weighted avg"), each
  // number right-aligned in 9 after two spaces (one for the support column header).
  EXPECT_EQ(train::classification_report(three_class_cm(), 3),
            "              precision    recall  f1-score   support\n"
            "\n"
            "         cat      0.667     0.667     0.667         6\n"
            "         dog      0.750     0.600     0.667        10\n"
            "        bird      0.500     0.750     0.600         4\n"
            "\n"
            "    accuracy                          0.650        20\n"
            "   macro avg      0.639     0.672     0.644        20\n"
            "weighted avg      0.675     0.650     0.653        20\n");
  // Default names (indices) and digits (2), a class without samples: see Scores.ZeroOverZeroIsZero
  // (macro 7/18 for P, R and F1 alike; weighted 3/5).
  EXPECT_EQ(train::classification_report(from_vector<int64_t>({2, 1, 0, 1, 1, 0, 0, 0, 0}, {3, 3})),
            "              precision    recall  f1-score   support\n"
            "\n"
            "           0       0.67      0.67      0.67         3\n"
            "           1       0.50      0.50      0.50         2\n"
            "           2       0.00      0.00      0.00         0\n"
            "\n"
            "    accuracy                           0.60         5\n"
            "   macro avg       0.39      0.39      0.39         5\n"
            "weighted avg       0.60      0.60      0.60         5\n");
}

// ---- ROC
// ------------------------------------------------------------------------------------------

// Sorted by score: (0.875, +) (0.75, +) (0.75, -) (0.625, +) (0.5, -) (0.5, +) (0.5, -) (0.25, -),
// 4 positives and 4 negatives, given here shuffled.
const std::vector<double> kRocScores = {0.5, 0.875, 0.25, 0.75, 0.5, 0.625, 0.75, 0.5};
const std::vector<int64_t> kRocTargets = {0, 1, 0, 1, 1, 1, 0, 0};

template <class T>
void expect_roc_with_ties() {
  std::vector<T> s(kRocScores.begin(), kRocScores.end());
  // Score >= threshold: +inf: 0 pos, 0 neg;  0.875: 1, 0;  0.75: 2, 1;  0.625: 3, 1;  0.5: 4, 3;
  // 0.25: 4, 4.  fpr = neg / 4, tpr = pos / 4.
  auto [fpr, tpr, thresholds] = train::roc_curve(from_vector(s), longs(kRocTargets));
  EXPECT_TRUE(sinew::testing::values_are(fpr, {0, 0, 0.25, 0.25, 0.75, 1}, 0));
  EXPECT_TRUE(sinew::testing::values_are(tpr, {0, 0.25, 0.5, 0.75, 1, 1}, 0));
  auto t = thresholds.to_vector();
  ASSERT_EQ(t.size(), 6u);
  EXPECT_TRUE(std::isinf(t[0]) && t[0] > 0);
  EXPECT_EQ(std::vector<double>(t.begin() + 1, t.end()),
            (std::vector<double>{0.875, 0.75, 0.625, 0.5, 0.25}));
  // Trapezoids (in counts): 0 + 1 (1 + 2) / 2 + 0 + 2 (3 + 4) / 2 + 1 (4 + 4) / 2 = 12.5, over
  // 4 * 4 pairs = 0.78125. The pairs: 0.875 beats 4 negatives; 0.75 ties one and beats 3 (3.5);
  // 0.625 beats 3; 0.5 ties two and beats one (2): U = 12.5.
  EXPECT_DOUBLE_EQ(train::roc_auc(from_vector(s), longs(kRocTargets)), 0.78125);
  EXPECT_DOUBLE_EQ(pair_count_auc(kRocScores, kRocTargets), 0.78125);
}

TEST(RocCurve, GroupsTiesIntoOnePointFloat) { expect_roc_with_ties<float>(); }
TEST(RocCurve, GroupsTiesIntoOnePointDouble) { expect_roc_with_ties<double>(); }

TEST(RocAuc, EqualsThePairCountWithManyTies) {
  // 60 samples on 5 score levels: most pairs tie or not by construction.
  std::vector<double> s;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 60; ++i) {
    s.push_back(static_cast<double>((i * 7) % 5) / 4.0);
    y.push_back((i * 3) % 7 < 3 ? 1 : 0);
  }
  double expected = pair_count_auc(s, y);
  EXPECT_DOUBLE_EQ(train::roc_auc(from_vector(s), longs(y)), expected);
  std::vector<float> sf(s.begin(), s.end());
  EXPECT_DOUBLE_EQ(train::roc_auc(from_vector(sf), longs(y)), expected);
}

TEST(RocAuc, PerfectReversedAndConstantScores) {
  Tensor<int64_t> y = longs({0, 0, 1, 1});
  EXPECT_EQ(train::roc_auc(from_vector<double>({0.1, 0.2, 0.3, 0.4}), y), 1.0);
  EXPECT_EQ(train::roc_auc(from_vector<double>({0.4, 0.3, 0.2, 0.1}), y), 0.0);
  // Every pair ties: 1/2. The curve is (0, 0), (1, 1).
  EXPECT_EQ(train::roc_auc(from_vector<float>({1, 1, 1, 1}), y), 0.5);
  auto c = train::roc_curve(from_vector<float>({1, 1, 1, 1}), y);
  EXPECT_TRUE(sinew::testing::values_are(c.fpr, {0, 1}, 0));
  EXPECT_TRUE(sinew::testing::values_are(c.tpr, {0, 1}, 0));
}

TEST(RocAucOvr, MacroAndWeightedOverClasses) {
  // targets 0, 0, 0, 1, 1, 2 (supports 3, 2, 1); rows of probabilities:
  //   [0.5, 0.25, 0.25] [0.25, 0.5, 0.25] [0.625, 0.125, 0.25]   (class 0)
  //   [0.25, 0.5, 0.25] [0.125, 0.375, 0.5]                      (class 1)
  //   [0.25, 0.25, 0.5]                                          (class 2)
  // Class 0: positives 0.5, 0.25, 0.625 vs negatives 0.25, 0.125, 0.25: 3 + (0.5 + 1 + 0.5) + 3
  //   = 8 of 9.  Class 1: 0.5, 0.375 vs 0.25, 0.5, 0.125, 0.25: 3.5 + 3 = 6.5 of 8 = 13/16.
  // Class 2: 0.5 vs 0.25 x 4, 0.5: 4.5 of 5 = 9/10.
  // Macro (8/9 + 13/16 + 9/10) / 3 = 1873/2160; weighted (3 8/9 + 2 13/16 + 9/10) / 6 = 623/720.
  Tensor<float> p =
      from_vector<float>({0.5f, 0.25f, 0.25f, 0.25f, 0.5f, 0.25f, 0.625f, 0.125f, 0.25f, 0.25f,
                          0.5f, 0.25f, 0.125f, 0.375f, 0.5f, 0.25f, 0.25f, 0.5f},
                         {6, 3});
  Tensor<int64_t> y = longs({0, 0, 0, 1, 1, 2});
  EXPECT_NEAR(train::roc_auc_ovr(p, y), 1873. / 2160, 1e-12);
  EXPECT_NEAR(train::roc_auc_ovr(p, y, Average::Macro), 1873. / 2160, 1e-12);
  EXPECT_NEAR(train::roc_auc_ovr(p.to<double>(), y, Average::Weighted), 623. / 720, 1e-12);
}

// ---- running mean
// ---------------------------------------------------------------------------------

TEST(RunningMean, WeightedMeanCountAndReset) {
  train::RunningMean m;
  EXPECT_EQ(m.mean(), 0.0);
  EXPECT_EQ(m.count(), 0);
  m.add(2.0);
  m.add(4.0, 3.0);  // (2 + 12) / (1 + 3) = 3.5
  EXPECT_DOUBLE_EQ(m.mean(), 3.5);
  EXPECT_EQ(m.count(), 2);
  EXPECT_DOUBLE_EQ(m.total_weight(), 4.0);
  EXPECT_DOUBLE_EQ(m.sum(), 14.0);
  m.add(100.0, 0.0);  // no weight: the mean stays, the count grows
  EXPECT_DOUBLE_EQ(m.mean(), 3.5);
  EXPECT_EQ(m.count(), 3);
  m.reset();
  EXPECT_EQ(m.mean(), 0.0);
  EXPECT_EQ(m.count(), 0);
  EXPECT_EQ(m.total_weight(), 0.0);
  m.add(-1.5);
  EXPECT_DOUBLE_EQ(m.mean(), -1.5);
}

// ---- errors
// ---------------------------------------------------------------------------------------

TEST(MetricsErrors, AccuracyAndTopK) {
  Tensor<float> logits = zeros<float>({3, 4});
  SINEW_EXPECT_ERROR(train::accuracy(logits, longs({0, 1})), "accuracy", "3 predictions",
                     "2 targets");
  SINEW_EXPECT_ERROR(train::accuracy(logits, longs({0, 1, 4})), "accuracy", "target 4", "index 2",
                     "4 classes");
  SINEW_EXPECT_ERROR(train::accuracy(zeros<float>({3}), longs({0, 1, 2})), "accuracy",
                     "int64 class indices [N]", "float32", "[3]");
  SINEW_EXPECT_ERROR(train::accuracy(logits, from_vector<int64_t>({0, 1, 2}, {3, 1})), "accuracy",
                     "targets [N]", "[3, 1]");
  SINEW_EXPECT_ERROR(train::accuracy(longs({}), longs({})), "accuracy", "no samples");
  SINEW_EXPECT_ERROR(train::accuracy(Tensor<float>(), longs({})), "accuracy", "undefined");
  SINEW_EXPECT_ERROR(train::top_k_accuracy(logits, longs({0, 1, 2}), 5), "top_k_accuracy",
                     "k must be in [1, 4]", "got 5");
  SINEW_EXPECT_ERROR(train::top_k_accuracy(logits, longs({0, 1, 2}), 0), "top_k_accuracy", "got 0");
  SINEW_EXPECT_ERROR(train::top_k_accuracy(logits, longs({0, -1, 2}), 2), "top_k_accuracy",
                     "target -1", "index 1");
}

TEST(MetricsErrors, ConfusionMatrix) {
  SINEW_EXPECT_ERROR(train::ConfusionMatrix(0), "ConfusionMatrix", "num_classes", "got 0");
  SINEW_EXPECT_ERROR(train::ConfusionMatrix(3, {"a", "b"}), "ConfusionMatrix", "2 class names",
                     "3 classes");
  train::ConfusionMatrix cm(3);
  cm.update(longs({0}), longs({1}));
  // A failing update counts nothing.
  SINEW_EXPECT_ERROR(cm.update(longs({0, 3}), longs({1, 1})), "ConfusionMatrix::update",
                     "prediction 3", "index 1", "3 classes");
  SINEW_EXPECT_ERROR(cm.update(longs({0, 1}), longs({-1, 1})), "ConfusionMatrix::update",
                     "target -1", "index 0");
  SINEW_EXPECT_ERROR(cm.update(zeros<float>({2, 4}), longs({0, 1})), "ConfusionMatrix::update",
                     "[2, 4]", "4 columns", "expected 3");
  SINEW_EXPECT_ERROR(cm.update(longs({0, 1}), longs({0})), "ConfusionMatrix::update",
                     "2 predictions", "1 targets");
  EXPECT_EQ(cm.total(), 1);
  EXPECT_EQ(cm.count(1, 0), 1);
  SINEW_EXPECT_ERROR(cm.count(3, 0), "ConfusionMatrix::count", "(3, 0)", "3 classes");
}

TEST(MetricsErrors, Scores) {
  SINEW_EXPECT_ERROR(train::precision(zeros<int64_t>({2, 3}), Average::Macro), "precision",
                     "[C, C]", "[2, 3]");
  SINEW_EXPECT_ERROR(train::recall(from_vector<int64_t>({1, -2, 0, 1}, {2, 2}), Average::None),
                     "recall", "[0, 1]", "negative", "-2");
  SINEW_EXPECT_ERROR(train::fbeta_score(three_class(), -1, Average::Macro), "fbeta_score", "beta",
                     "got -1");
  SINEW_EXPECT_ERROR(train::classification_report(three_class(), {"a", "b"}),
                     "classification_report", "2 class names", "3 classes");
}

TEST(MetricsErrors, Roc) {
  Tensor<double> s = from_vector<double>({0.1, 0.4, 0.35, 0.8});
  SINEW_EXPECT_ERROR(train::roc_curve(s, longs({1, 1, 1, 1})), "roc_curve", "both classes",
                     "4 positives and 0 negatives");
  SINEW_EXPECT_ERROR(train::roc_auc(s, longs({0, 0, 0, 0})), "roc_auc", "0 positives and 4");
  SINEW_EXPECT_ERROR(train::roc_auc(s, longs({0, 1, 1})), "roc_auc", "4 predictions or scores",
                     "3 targets");
  SINEW_EXPECT_ERROR(train::roc_curve(s, longs({0, 1, 2, 1})), "roc_curve", "0 or 1", "got 2",
                     "index 2");
  SINEW_EXPECT_ERROR(
      train::roc_auc(from_vector<float>({0.1f, std::nanf(""), 0.2f}), longs({0, 1, 0})), "roc_auc",
      "finite", "nan", "index 1");
  SINEW_EXPECT_ERROR(train::roc_auc(zeros<float>({2, 2}), longs({0, 1})), "roc_auc", "scores [N]",
                     "[2, 2]");

  Tensor<float> p = from_vector<float>({0.5f, 0.5f, 0.2f, 0.8f, 0.9f, 0.1f}, {3, 2});
  SINEW_EXPECT_ERROR(train::roc_auc_ovr(p, longs({0, 0, 0})), "roc_auc_ovr", "class 1",
                     "no samples");
  SINEW_EXPECT_ERROR(train::roc_auc_ovr(p, longs({0, 1, 2})), "roc_auc_ovr", "target 2", "index 2",
                     "2 classes");
  SINEW_EXPECT_ERROR(train::roc_auc_ovr(p, longs({0, 1})), "roc_auc_ovr", "3 predictions",
                     "2 targets");
  SINEW_EXPECT_ERROR(train::roc_auc_ovr(p, longs({0, 1, 0}), Average::Micro), "roc_auc_ovr",
                     "Average::Macro or Average::Weighted");
  SINEW_EXPECT_ERROR(train::roc_auc_ovr(zeros<float>({3, 1}), longs({0, 0, 0})), "roc_auc_ovr",
                     "C >= 2", "[3, 1]");
}

TEST(MetricsErrors, RunningMean) {
  train::RunningMean m;
  SINEW_EXPECT_ERROR(m.add(1.0, -2.0), "RunningMean::add", "weight", "got -2");
  SINEW_EXPECT_ERROR(m.add(1.0, std::numeric_limits<double>::infinity()), "RunningMean::add",
                     "inf");
  EXPECT_EQ(m.count(), 0);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
