// Tests of sinew/train/history.hpp: columns, exact CSV text, the save/load round trip and the
// atomic write.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;
using sinew::testing::TempDirTest;

train::History sample() {
  train::History h;
  h.record(1, {{"train_loss", 0.52}, {"train_acc", 0.81}});
  h.record(1, {{"test_loss", 0.45}, {"test_acc", 0.8375}});
  h.record(2, {{"train_loss", 0.375}, {"train_acc", 0.86}, {"test_loss", 0.4}});
  h.record(3, {{"train_loss", 1.0 / 3.0}, {"lr", 1e-5}});
  return h;
}

TEST(History, ColumnsInFirstSeenOrderAndMissingValuesAsNaN) {
  train::History h = sample();
  EXPECT_EQ(h.epochs(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(h.names(),
            (std::vector<std::string>{"train_loss", "train_acc", "test_loss", "test_acc", "lr"}));
  auto acc = h.column("test_acc");
  ASSERT_EQ(acc.size(), 3u);
  EXPECT_EQ(acc[0], 0.8375);
  EXPECT_TRUE(std::isnan(acc[1]));
  EXPECT_TRUE(std::isnan(acc[2]));
  EXPECT_EQ(h.last("test_loss"), 0.4);
  EXPECT_TRUE(std::isnan(h.last("nothing")));
  SINEW_EXPECT_ERROR(h.column("val_loss"), "History::column", "val_loss", "train_loss");
}

TEST(History, CsvTextIsExact) {
  EXPECT_EQ(sample().to_csv(),
            "epoch,train_loss,train_acc,test_loss,test_acc,lr\n"
            "1,0.52,0.81,0.45,0.8375,\n"
            "2,0.375,0.86,0.4,,\n"
            "3,0.3333333333333333,,,,1e-05\n");
  EXPECT_EQ(train::History().to_csv(), "epoch\n");
}

TEST(History, RejectsBadColumnNames) {
  train::History h;
  SINEW_EXPECT_ERROR(h.record(1, {{"a,b", 1}}), "History::record", "a,b");
  SINEW_EXPECT_ERROR(h.record(1, {{"epoch", 1}}), "History::record", "epoch");
  SINEW_EXPECT_ERROR(h.record(1, {{"", 1}}), "History::record");
}

class HistoryFile : public TempDirTest {};

TEST_F(HistoryFile, SaveAndLoadRoundTripExactly) {
  train::History h = sample();
  h.record(4, {{"train_loss", 0.1 + 0.2}, {"train_acc", std::numeric_limits<double>::infinity()}});
  const std::string p = path("history.csv");
  h.save_csv(p);
  train::History back = train::History::load_csv(p);
  EXPECT_EQ(back.epochs(), h.epochs());
  ASSERT_EQ(back.names(), h.names());
  for (const auto& name : h.names()) {
    auto a = h.column(name), b = back.column(name);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(a[i])) {
        EXPECT_TRUE(std::isnan(b[i])) << name << " " << i;
      } else {
        EXPECT_EQ(a[i], b[i]) << name << " " << i;  // bitwise: shortest round-trip text
      }
    }
  }
  EXPECT_EQ(back.to_csv(), h.to_csv());
}

TEST_F(HistoryFile, SaveLeavesNoTemporaryFileAndReplacesTheOldOne) {
  const std::string p = path("h.csv");
  {
    std::ofstream old(p);
    old << "old contents that are longer than the new ones, by quite a lot\n";
  }
  train::History h;
  h.record(1, {{"loss", 2}});
  h.save_csv(p);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    files.push_back(e.path().filename().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"h.csv"});
  std::ifstream in(p);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "epoch,loss\n1,2\n");
}

TEST_F(HistoryFile, UnwritablePathRaisesNamingIt) {
  const std::string p = path("no_such_folder/history.csv");
  SINEW_EXPECT_ERROR(sample().save_csv(p), "History::save_csv", "cannot write", p);
  EXPECT_FALSE(std::filesystem::exists(path("no_such_folder")));
}

TEST_F(HistoryFile, LoadRejectsMissingAndMalformedFiles) {
  SINEW_EXPECT_ERROR(train::History::load_csv(path("missing.csv")), "History::load_csv",
                     "missing.csv");
  SINEW_EXPECT_ERROR(train::History::from_csv("step,loss\n1,2\n"), "History::from_csv", "epoch");
  SINEW_EXPECT_ERROR(train::History::from_csv("epoch,loss\n1,2,3\n"), "line 2", "3 fields");
  SINEW_EXPECT_ERROR(train::History::from_csv("epoch,loss\n1,abc\n"), "line 2", "abc", "loss");
  SINEW_EXPECT_ERROR(train::History::from_csv("epoch,loss\nx,1\n"), "line 2", "x");
  SINEW_EXPECT_ERROR(train::History::from_csv("epoch,a,a\n"), "appears twice");
  train::History h = train::History::from_csv("epoch,loss\r\n1,0.5\r\n2,\r\n");
  EXPECT_EQ(h.epochs(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(h.column("loss")[0], 0.5);
  EXPECT_TRUE(std::isnan(h.column("loss")[1]));
}

}  // namespace SINEW_UNITY_ID
}  // namespace
