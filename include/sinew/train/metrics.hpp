// Classification metrics on the CPU: accuracy, top-k accuracy, ConfusionMatrix, precision / recall
// / specificity / F-beta with scikit-learn's averages, classification_report, ROC curve and AUC
// (binary and one-vs-rest), RunningMean.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sinew/core/error.hpp"
#include "sinew/core/tensor.hpp"
#include "sinew/ops/cast.hpp"
#include "sinew/ops/factory.hpp"

namespace sinew::train {

// How per-class scores combine, as scikit-learn's `average`: None keeps one score per class;
// Macro is their plain mean (every class counts, also one without samples); Micro pools the
// counts of all classes first (for single-label multi-class data precision = recall = F-beta =
// accuracy); Weighted is their mean weighted by support (the number of true samples of a class).
enum class Average { None, Macro, Micro, Weighted };

namespace detail {

// The values of a 1-d target tensor of n elements.
inline std::vector<int64_t> target_values(const Tensor<int64_t>& targets, size_t n,
                                          const char* where) {
  SINEW_CHECK(targets.defined(), where, "targets are an undefined tensor");
  SINEW_CHECK(targets.dim() == 1, where, "expected targets [N], got shape ", targets.shape());
  SINEW_CHECK(static_cast<size_t>(targets.numel()) == n, where, "got ", n,
              " predictions or scores but ", targets.numel(), " targets");
  return targets.to_vector();
}

// Raises unless every target is a class index in [0, num_classes).
inline void check_class_range(const std::vector<int64_t>& v, int64_t num_classes, const char* where,
                              const char* what) {
  for (size_t i = 0; i < v.size(); ++i) {
    SINEW_CHECK(v[i] >= 0 && v[i] < num_classes, where, what, " ", v[i], " at index ", i,
                " is out of range for ", num_classes, " classes (expected in [0, ", num_classes - 1,
                "])");
  }
}

// The predicted class of each sample: the argmax of each row of logits [N, C] (the first index on
// ties, NaN counting as the largest, as torch.argmax), or the int64 class indices [N] as given.
// num_columns becomes C, or -1 for class indices.
template <class T>
std::vector<int64_t> predicted_classes(const Tensor<T>& x, const char* where,
                                       int64_t& num_columns) {
  static_assert(!std::is_same_v<T, bool>, "metrics: logits must be a numeric tensor, not bool");
  SINEW_CHECK(x.defined(), where, "predictions are an undefined tensor");
  if constexpr (std::is_same_v<T, int64_t>) {
    if (x.dim() == 1) {
      num_columns = -1;
      return x.to_vector();
    }
  }
  SINEW_CHECK(x.dim() == 2, where, "expected logits [N, C] or int64 class indices [N], got a ",
              x.dtype(), " tensor of shape ", x.shape());
  const int64_t n = x.size(0), c = x.size(1);
  SINEW_CHECK(c >= 1, where, "logits of shape ", x.shape(), " have no classes");
  num_columns = c;
  std::vector<T> v = x.to_vector();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const T* row = v.data() + i * c;
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j) {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(row[best])) break;
        if (std::isnan(row[j]) || row[j] > row[best]) best = j;
      } else {
        if (row[j] > row[best]) best = j;
      }
    }
    out[static_cast<size_t>(i)] = best;
  }
  return out;
}

// A / B with scikit-learn's zero_division = 0: a 0/0 score is 0.
inline double ratio(double num, double den) { return den == 0 ? 0.0 : num / den; }

}  // namespace detail

// ---- accuracy
// ------------------------------------------------------------------------------------

// The fraction of samples whose predicted class equals the target: (1/N) sum_i [pred_i == y_i],
// in [0, 1]. logits_or_predictions: logits [N, C] (argmax per row, the first index on ties) or
// int64 class indices [N]; targets: int64 [N] (in [0, C) with logits). N = 0 raises.
template <class T>
double accuracy(const Tensor<T>& logits_or_predictions, const Tensor<int64_t>& targets) {
  int64_t c = -1;
  auto pred = detail::predicted_classes(logits_or_predictions, "accuracy", c);
  auto tgt = detail::target_values(targets, pred.size(), "accuracy");
  SINEW_CHECK(!tgt.empty(), "accuracy", "no samples (N = 0)");
  if (c > 0) detail::check_class_range(tgt, c, "accuracy", "target");
  int64_t hits = 0;
  for (size_t i = 0; i < tgt.size(); ++i) hits += pred[i] == tgt[i];
  return static_cast<double>(hits) / static_cast<double>(tgt.size());
}

// The fraction of samples whose target is among the k highest-scoring classes of its row of
// logits [N, C], 1 <= k <= C. Ties rank the lower class index first, so top_k_accuracy(x, y, 1)
// equals accuracy(x, y): the target counts when #{j : x_j > x_y} + #{j < y : x_j == x_y} < k.
template <class T>
double top_k_accuracy(const Tensor<T>& logits, const Tensor<int64_t>& targets, int64_t k) {
  static_assert(std::is_floating_point_v<T>, "top_k_accuracy: logits must be float or double");
  SINEW_CHECK(logits.defined(), "top_k_accuracy", "logits are an undefined tensor");
  SINEW_CHECK(logits.dim() == 2, "top_k_accuracy", "expected logits [N, C], got shape ",
              logits.shape());
  const int64_t n = logits.size(0), c = logits.size(1);
  SINEW_CHECK(k >= 1 && k <= c, "top_k_accuracy", "k must be in [1, ", c,
              "] (the number of classes), got ", k);
  auto tgt = detail::target_values(targets, static_cast<size_t>(n), "top_k_accuracy");
  SINEW_CHECK(n > 0, "top_k_accuracy", "no samples (N = 0)");
  detail::check_class_range(tgt, c, "top_k_accuracy", "target");
  std::vector<T> v = logits.to_vector();
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = v.data() + i * c;
    const int64_t y = tgt[static_cast<size_t>(i)];
    int64_t ahead = 0;
    for (int64_t j = 0; j < c; ++j) ahead += row[j] > row[y] || (j < y && row[j] == row[y]);
    hits += ahead < k;
  }
  return static_cast<double>(hits) / static_cast<double>(n);
}

// ---- confusion matrix
// ----------------------------------------------------------------------------

// Counts of (true class, predicted class) pairs accumulated over update() calls: matrix()[i][j] is
// the number of samples of class i predicted as j (rows = truth, columns = prediction, as
// scikit-learn's confusion_matrix). class_names label the printed table (indices by default).
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes, std::vector<std::string> class_names = {})
      : num_classes_(num_classes), names_(std::move(class_names)) {
    SINEW_CHECK(num_classes >= 1, "ConfusionMatrix", "num_classes must be >= 1, got ", num_classes);
    SINEW_CHECK(names_.empty() || static_cast<int64_t>(names_.size()) == num_classes,
                "ConfusionMatrix", "got ", names_.size(), " class names for ", num_classes,
                " classes");
    if (names_.empty()) {
      for (int64_t i = 0; i < num_classes; ++i) names_.push_back(std::to_string(i));
    }
    counts_.assign(static_cast<size_t>(num_classes * num_classes), 0);
  }

  // Adds one count per sample. predictions: logits [N, num_classes] (argmax per row) or int64
  // class indices [N]; targets int64 [N]; every value in [0, num_classes). A call that raises
  // leaves the counts unchanged.
  template <class T>
  void update(const Tensor<T>& predictions_or_logits, const Tensor<int64_t>& targets) {
    const char* where = "ConfusionMatrix::update";
    int64_t c = -1;
    auto pred = detail::predicted_classes(predictions_or_logits, where, c);
    SINEW_CHECK(c < 0 || c == num_classes_, where, "logits of shape ",
                predictions_or_logits.shape(), " have ", c, " columns, expected ", num_classes_,
                " (num_classes)");
    auto tgt = detail::target_values(targets, pred.size(), where);
    detail::check_class_range(pred, num_classes_, where, "prediction");
    detail::check_class_range(tgt, num_classes_, where, "target");
    for (size_t i = 0; i < tgt.size(); ++i) {
      ++counts_[static_cast<size_t>(tgt[i] * num_classes_ + pred[i])];
    }
  }

  // The int64 [C, C] counts (a new tensor).
  Tensor<int64_t> matrix() const { return from_vector(counts_, Shape{num_classes_, num_classes_}); }
  // How many samples of class true_class were predicted as `predicted`.
  int64_t count(int64_t true_class, int64_t predicted) const {
    SINEW_CHECK(
        true_class >= 0 && true_class < num_classes_ && predicted >= 0 && predicted < num_classes_,
        "ConfusionMatrix::count", "class pair (", true_class, ", ", predicted,
        ") out of range for ", num_classes_, " classes");
    return counts_[static_cast<size_t>(true_class * num_classes_ + predicted)];
  }
  int64_t num_classes() const { return num_classes_; }
  // The number of samples counted so far.
  int64_t total() const {
    int64_t s = 0;
    for (int64_t v : counts_) s += v;
    return s;
  }
  const std::vector<std::string>& class_names() const { return names_; }
  void reset() { std::fill(counts_.begin(), counts_.end(), 0); }

  // An aligned table: a header row of predicted-class labels after the corner "true\pred", then
  // one row per true class, its label left-aligned and the counts right-aligned; columns two
  // spaces apart, each as wide as its label or its widest count; every line ends with '\n'.
  std::string to_string() const {
    std::string corner = "true\\pred";
    size_t w0 = corner.size();
    for (const auto& n : names_) w0 = std::max(w0, n.size());
    std::vector<size_t> w(names_.size());
    for (int64_t j = 0; j < num_classes_; ++j) {
      w[j] = names_[j].size();
      for (int64_t i = 0; i < num_classes_; ++i) {
        w[j] = std::max(w[j], std::to_string(count(i, j)).size());
      }
    }
    auto left = [](const std::string& s, size_t width) {
      std::string out = s;
      return out.append(width - s.size(), ' ');
    };
    auto right = [](const std::string& s, size_t width) {
      return std::string(width - s.size(), ' ').append(s);
    };
    std::string out = left(corner, w0);
    for (int64_t j = 0; j < num_classes_; ++j) out.append("  ").append(right(names_[j], w[j]));
    out += '\n';
    for (int64_t i = 0; i < num_classes_; ++i) {
      out += left(names_[i], w0);
      for (int64_t j = 0; j < num_classes_; ++j) {
        out.append("  ").append(right(std::to_string(count(i, j)), w[j]));
      }
      out += '\n';
    }
    return out;
  }

 private:
  int64_t num_classes_;
  std::vector<std::string> names_;
  std::vector<int64_t> counts_;  // row-major [true class][predicted class]
};

inline std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& cm) {
  return os << cm.to_string();
}

// ---- precision, recall, specificity, F-beta
// -------------------------------------------------------

namespace detail {

// Per class c of a confusion matrix M (rows truth, columns prediction, N samples):
// TP = M[c][c], FP = column sum - TP, FN = row sum - TP, TN = N - TP - FP - FN, support = row sum.
struct ClassCounts {
  std::vector<double> tp, fp, fn, tn, support;
};

inline ClassCounts class_counts(const Tensor<int64_t>& m, const char* where) {
  SINEW_CHECK(m.defined(), where, "the confusion matrix is an undefined tensor");
  SINEW_CHECK(m.dim() == 2 && m.size(0) == m.size(1) && m.size(0) >= 1, where,
              "expected a confusion matrix [C, C] with C >= 1, got shape ", m.shape());
  const int64_t c = m.size(0);
  std::vector<int64_t> v = m.to_vector();
  for (size_t i = 0; i < v.size(); ++i) {
    SINEW_CHECK(v[i] >= 0, where, "confusion matrix entry [", static_cast<int64_t>(i) / c, ", ",
                static_cast<int64_t>(i) % c, "] is negative (", v[i], ")");
  }
  ClassCounts k;
  std::vector<double> col(static_cast<size_t>(c), 0.0);
  double total = 0;
  for (int64_t i = 0; i < c; ++i) {
    double row = 0;
    for (int64_t j = 0; j < c; ++j) {
      const double x = static_cast<double>(v[static_cast<size_t>(i * c + j)]);
      row += x;
      col[static_cast<size_t>(j)] += x;
    }
    k.support.push_back(row);
    k.tp.push_back(static_cast<double>(v[static_cast<size_t>(i * c + i)]));
    total += row;
  }
  for (size_t i = 0; i < k.tp.size(); ++i) {
    k.fp.push_back(col[i] - k.tp[i]);
    k.fn.push_back(k.support[i] - k.tp[i]);
    k.tn.push_back(total - k.tp[i] - k.fp[i] - k.fn[i]);
  }
  return k;
}

enum class ScoreKind { Precision, Recall, Specificity, FBeta };

// One score from the four counts; 0/0 is 0.
inline double score_of(ScoreKind kind, double beta, double tp, double fp, double fn, double tn) {
  switch (kind) {
    case ScoreKind::Precision:
      return ratio(tp, tp + fp);
    case ScoreKind::Recall:
      return ratio(tp, tp + fn);
    case ScoreKind::Specificity:
      return ratio(tn, tn + fp);
    case ScoreKind::FBeta: {
      const double b2 = beta * beta;
      return ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp);
    }
  }
  return 0;
}

inline Tensor<double> score(const Tensor<int64_t>& m, ScoreKind kind, double beta, Average average,
                            const char* where) {
  ClassCounts k = class_counts(m, where);
  const size_t c = k.tp.size();
  if (average == Average::Micro) {
    double tp = 0, fp = 0, fn = 0, tn = 0;
    for (size_t i = 0; i < c; ++i) tp += k.tp[i], fp += k.fp[i], fn += k.fn[i], tn += k.tn[i];
    return scalar_tensor<double>(score_of(kind, beta, tp, fp, fn, tn));
  }
  std::vector<double> per(c);
  for (size_t i = 0; i < c; ++i) per[i] = score_of(kind, beta, k.tp[i], k.fp[i], k.fn[i], k.tn[i]);
  if (average == Average::None) return from_vector(per);
  double num = 0, den = 0;
  for (size_t i = 0; i < c; ++i) {
    const double w = average == Average::Weighted ? k.support[i] : 1.0;
    num += w * per[i];
    den += w;
  }
  return scalar_tensor<double>(ratio(num, den));
}

}  // namespace detail

// Each score below takes a confusion matrix (a ConfusionMatrix, or its int64 [C, C] counts with
// rows = truth) and returns a double tensor: [C] per class with Average::None, else 0-d (read it
// with .item()). Per class c: TP, FP, FN, TN as above; a 0/0 score is 0 (scikit-learn's
// zero_division = 0), also under every average.

// Precision TP / (TP + FP): of the samples predicted as c, the fraction that are c.
inline Tensor<double> precision(const Tensor<int64_t>& confusion, Average average) {
  return detail::score(confusion, detail::ScoreKind::Precision, 0, average, "precision");
}
inline Tensor<double> precision(const ConfusionMatrix& cm, Average average) {
  return precision(cm.matrix(), average);
}

// Recall (sensitivity, true positive rate) TP / (TP + FN): of the samples of class c, the fraction
// predicted as c. Weighted recall equals accuracy.
inline Tensor<double> recall(const Tensor<int64_t>& confusion, Average average) {
  return detail::score(confusion, detail::ScoreKind::Recall, 0, average, "recall");
}
inline Tensor<double> recall(const ConfusionMatrix& cm, Average average) {
  return recall(cm.matrix(), average);
}
inline Tensor<double> sensitivity(const Tensor<int64_t>& confusion, Average average) {
  return detail::score(confusion, detail::ScoreKind::Recall, 0, average, "sensitivity");
}
inline Tensor<double> sensitivity(const ConfusionMatrix& cm, Average average) {
  return sensitivity(cm.matrix(), average);
}

// Specificity (true negative rate) TN / (TN + FP): of the samples not of class c, the fraction not
// predicted as c. Micro: sum TN / (sum TN + sum FP) = (C N - 2 N + sum TP) / ((C - 1) N).
inline Tensor<double> specificity(const Tensor<int64_t>& confusion, Average average) {
  return detail::score(confusion, detail::ScoreKind::Specificity, 0, average, "specificity");
}
inline Tensor<double> specificity(const ConfusionMatrix& cm, Average average) {
  return specificity(cm.matrix(), average);
}

// F-beta = (1 + b^2) P R / (b^2 P + R) = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP), beta >= 0
// (beta = 0 gives precision; larger beta weighs recall more). Macro and weighted average the
// per-class F-beta (not the F-beta of averaged P and R), as scikit-learn.
inline Tensor<double> fbeta_score(const Tensor<int64_t>& confusion, double beta, Average average) {
  SINEW_CHECK(std::isfinite(beta) && beta >= 0, "fbeta_score", "beta must be finite and >= 0, got ",
              beta);
  return detail::score(confusion, detail::ScoreKind::FBeta, beta, average, "fbeta_score");
}
inline Tensor<double> fbeta_score(const ConfusionMatrix& cm, double beta, Average average) {
  return fbeta_score(cm.matrix(), beta, average);
}

// F1 = 2 P R / (P + R) = 2 TP / (2 TP + FN + FP).
inline Tensor<double> f1_score(const Tensor<int64_t>& confusion, Average average) {
  return detail::score(confusion, detail::ScoreKind::FBeta, 1, average, "f1_score");
}
inline Tensor<double> f1_score(const ConfusionMatrix& cm, Average average) {
  return f1_score(cm.matrix(), average);
}

// A text report like scikit-learn's classification_report, same layout: per class precision,
// recall, F1 and support, then accuracy, macro and weighted averages, scores with `digits`
// decimals. class_names empty: the indices.
inline std::string classification_report(const Tensor<int64_t>& confusion,
                                         std::vector<std::string> class_names = {},
                                         int digits = 2) {
  const char* where = "classification_report";
  detail::ClassCounts k = detail::class_counts(confusion, where);
  const size_t c = k.tp.size();
  SINEW_CHECK(class_names.empty() || class_names.size() == c, where, "got ", class_names.size(),
              " class names for ", c, " classes");
  SINEW_CHECK(digits >= 0 && digits <= 15, where, "digits must be in [0, 15], got ", digits);
  if (class_names.empty()) {
    for (size_t i = 0; i < c; ++i) class_names.push_back(std::to_string(i));
  }
  size_t width = std::string("weighted avg").size();
  for (const auto& n : class_names) width = std::max(width, n.size());
  width = std::max(width, static_cast<size_t>(digits));
  // Text right-aligned in w columns (at least its own length).
  auto pad = [](const std::string& text, size_t w) {
    std::string s(w > text.size() ? w - text.size() : 0, ' ');
    return s.append(text);
  };
  // One column: a space, then the text right-aligned in 9.
  auto cell = [&](const std::string& text) { return pad(text, 10); };
  auto num = [&](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return cell(buf);
  };
  auto line = [&](const std::string& head, const std::vector<std::string>& cells) {
    std::string s = pad(head, width);
    s += ' ';
    for (const auto& one : cells) s += one;
    s += '\n';
    return s;
  };
  std::string out =
      line("", {cell("precision"), cell("recall"), cell("f1-score"), cell("support")});
  out += '\n';
  auto p = precision(confusion, Average::None).to_vector();
  auto r = recall(confusion, Average::None).to_vector();
  auto f = f1_score(confusion, Average::None).to_vector();
  double total = 0;
  for (size_t i = 0; i < c; ++i) {
    const auto support = static_cast<int64_t>(k.support[i]);
    out += line(class_names[i], {num(p[i]), num(r[i]), num(f[i]), cell(std::to_string(support))});
    total += k.support[i];
  }
  const std::string n = cell(std::to_string(static_cast<int64_t>(total)));
  out += '\n';
  const std::string blank = cell("");
  out += line("accuracy", {blank, blank, num(precision(confusion, Average::Micro).item()), n});
  for (auto [avg, name] :
       {std::pair{Average::Macro, "macro avg"}, std::pair{Average::Weighted, "weighted avg"}}) {
    out += line(name, {num(precision(confusion, avg).item()), num(recall(confusion, avg).item()),
                       num(f1_score(confusion, avg).item()), n});
  }
  return out;
}
inline std::string classification_report(const ConfusionMatrix& cm, int digits = 2) {
  return classification_report(cm.matrix(), cm.class_names(), digits);
}

// ---- ROC curve and AUC
// ----------------------------------------------------------------------------

// What roc_curve returns: `auto [fpr, tpr, thresholds] = train::roc_curve(scores, targets);`.
struct RocCurve {
  Tensor<double> fpr;
  Tensor<double> tpr;
  Tensor<double> thresholds;
};

namespace detail {

// The cumulative counts of the curve: at thresholds[i] (decreasing, the first +inf) fps[i]
// negatives and tps[i] positives score >= the threshold. Equal scores form one point.
struct RocCounts {
  std::vector<int64_t> fps, tps;
  std::vector<double> thresholds;
};

inline RocCounts roc_counts(const std::vector<double>& scores, const std::vector<int64_t>& labels,
                            const char* where) {
  int64_t pos = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    SINEW_CHECK(std::isfinite(scores[i]), where, "scores must be finite, got ", scores[i],
                " at index ", i);
    SINEW_CHECK(labels[i] == 0 || labels[i] == 1, where, "binary targets must be 0 or 1, got ",
                labels[i], " at index ", i);
    pos += labels[i];
  }
  const auto neg = static_cast<int64_t>(scores.size()) - pos;
  SINEW_CHECK(pos > 0 && neg > 0, where, "targets must hold both classes, got ", pos,
              " positives and ", neg, " negatives (the ROC curve is undefined)");
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  RocCounts k{{0}, {0}, {std::numeric_limits<double>::infinity()}};
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t s = order[i];
    tp += labels[s];
    fp += 1 - labels[s];
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[s]) {
      k.tps.push_back(tp);
      k.fps.push_back(fp);
      k.thresholds.push_back(scores[s]);
    }
  }
  return k;
}

// Trapezoidal area under the curve. Twice the area in count units is an exact integer,
// sum (fps[i] - fps[i-1]) (tps[i] + tps[i-1]) = 2 U (U the Mann-Whitney statistic, ties counting
// one half), so the only rounding is the final division by 2 n_pos n_neg.
inline double auc_of(const RocCounts& k) {
  int64_t twice = 0;
  for (size_t i = 1; i < k.fps.size(); ++i) {
    twice += (k.fps[i] - k.fps[i - 1]) * (k.tps[i] + k.tps[i - 1]);
  }
  return static_cast<double>(twice) /
         (2.0 * static_cast<double>(k.fps.back()) * static_cast<double>(k.tps.back()));
}

template <class T>
std::vector<double> score_values(const Tensor<T>& scores, const char* where) {
  static_assert(std::is_floating_point_v<T>, "ROC metrics: scores must be float or double");
  SINEW_CHECK(scores.defined(), where, "scores are an undefined tensor");
  SINEW_CHECK(scores.dim() == 1, where, "expected scores [N], got shape ", scores.shape());
  std::vector<T> v = scores.to_vector();
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace detail

// The ROC curve of scores [N] (float or double; higher means more likely positive) against binary
// targets int64 [N] (0 or 1), as scikit-learn's roc_curve with drop_intermediate = false: one
// point per distinct score in decreasing order, thresholds[0] = +inf (the point (0, 0)), and at
// thresholds[i] fpr[i] = #{negatives with score >= t} / n_neg, tpr[i] = the same for positives.
// Raises for non-finite scores, targets other than 0 / 1 or only one class present.
template <class T>
RocCurve roc_curve(const Tensor<T>& scores, const Tensor<int64_t>& targets) {
  auto s = detail::score_values(scores, "roc_curve");
  auto k =
      detail::roc_counts(s, detail::target_values(targets, s.size(), "roc_curve"), "roc_curve");
  std::vector<double> fpr, tpr;
  for (size_t i = 0; i < k.fps.size(); ++i) {
    fpr.push_back(static_cast<double>(k.fps[i]) / static_cast<double>(k.fps.back()));
    tpr.push_back(static_cast<double>(k.tps[i]) / static_cast<double>(k.tps.back()));
  }
  return {from_vector(fpr), from_vector(tpr), from_vector(k.thresholds)};
}

// Area under the ROC curve by the trapezoidal rule, exact with ties: the probability that a random
// positive scores above a random negative, ties counting one half, U / (n_pos n_neg). Same inputs
// and errors as roc_curve.
template <class T>
double roc_auc(const Tensor<T>& scores, const Tensor<int64_t>& targets) {
  auto s = detail::score_values(scores, "roc_auc");
  return detail::auc_of(
      detail::roc_counts(s, detail::target_values(targets, s.size(), "roc_auc"), "roc_auc"));
}

// Multi-class one-vs-rest AUC: for each class c the binary AUC of column c of probabilities
// [N, C] (C >= 2) against [target == c], then their mean (Average::Macro) or their mean weighted by
// class support (Average::Weighted), as scikit-learn's roc_auc_score(multi_class = "ovr"). Every
// class must occur in targets. Each column is ranked on its own, so the rows need not sum to 1.
template <class T>
double roc_auc_ovr(const Tensor<T>& probabilities, const Tensor<int64_t>& targets,
                   Average average = Average::Macro) {
  static_assert(std::is_floating_point_v<T>, "roc_auc_ovr: probabilities must be float or double");
  const char* where = "roc_auc_ovr";
  SINEW_CHECK(average == Average::Macro || average == Average::Weighted, where,
              "average must be Average::Macro or Average::Weighted");
  SINEW_CHECK(probabilities.defined(), where, "probabilities are an undefined tensor");
  SINEW_CHECK(probabilities.dim() == 2 && probabilities.size(1) >= 2, where,
              "expected probabilities [N, C] with C >= 2, got shape ", probabilities.shape());
  const int64_t n = probabilities.size(0), c = probabilities.size(1);
  auto tgt = detail::target_values(targets, static_cast<size_t>(n), where);
  detail::check_class_range(tgt, c, where, "target");
  std::vector<int64_t> support(static_cast<size_t>(c), 0);
  for (int64_t y : tgt) ++support[static_cast<size_t>(y)];
  for (int64_t j = 0; j < c; ++j) {
    SINEW_CHECK(support[static_cast<size_t>(j)] > 0, where, "class ", j,
                " has no samples in targets (one-vs-rest AUC needs every one of the ", c,
                " classes)");
  }
  std::vector<T> v = probabilities.to_vector();
  std::vector<double> col(static_cast<size_t>(n));
  std::vector<int64_t> is_c(static_cast<size_t>(n));
  double num = 0, den = 0;
  for (int64_t j = 0; j < c; ++j) {
    for (int64_t i = 0; i < n; ++i) {
      col[static_cast<size_t>(i)] = static_cast<double>(v[static_cast<size_t>(i * c + j)]);
      is_c[static_cast<size_t>(i)] = tgt[static_cast<size_t>(i)] == j;
    }
    const double w =
        average == Average::Weighted ? static_cast<double>(support[static_cast<size_t>(j)]) : 1.0;
    num += w * detail::auc_of(detail::roc_counts(col, is_c, where));
    den += w;
  }
  return num / den;
}

// ---- running mean
// --------------------------------------------------------------------------------

// A weighted running mean, sum w_i x_i / sum w_i, e.g. of batch losses weighted by batch size.
// mean() is 0 before anything (or only zero weight) was added, as Keras' Mean metric.
class RunningMean {
 public:
  RunningMean() = default;
  // A running mean that continues one saved through sum(), total_weight() and count() (a run
  // resumed in the middle of an epoch).
  RunningMean(double sum, double total_weight, int64_t count)
      : sum_(sum), weight_(total_weight), count_(count) {
    SINEW_CHECK(std::isfinite(total_weight) && total_weight >= 0 && count >= 0, "RunningMean",
                "total_weight must be finite and >= 0 and count >= 0, got ", total_weight, " and ",
                count);
  }
  // Adds `value` with `weight` (finite, >= 0).
  void add(double value, double weight = 1.0) {
    SINEW_CHECK(std::isfinite(weight) && weight >= 0, "RunningMean::add",
                "weight must be finite and >= 0, got ", weight);
    sum_ += weight * value;
    weight_ += weight;
    ++count_;
  }
  double mean() const { return weight_ > 0 ? sum_ / weight_ : 0.0; }
  // How many values were added.
  int64_t count() const { return count_; }
  // The sum of their weights and of weight * value.
  double total_weight() const { return weight_; }
  double sum() const { return sum_; }
  void reset() {
    sum_ = 0;
    weight_ = 0;
    count_ = 0;
  }

 private:
  double sum_ = 0;
  double weight_ = 0;
  int64_t count_ = 0;
};

}  // namespace sinew::train
