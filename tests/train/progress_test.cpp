// Tests of sinew/train/progress.hpp with a fake clock: exact lines in plain mode, the redrawn line
// in interactive mode, silence.
#include <sstream>
#include <string>

#include <sinew/train.hpp>

#include "test_util.hpp"

namespace {
namespace SINEW_UNITY_ID {

using namespace sinew;

struct FakeClock {
  double now = 100.0;  // an arbitrary origin: only differences matter
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

TEST(ProgressBar, PlainModeWritesLinesEveryPeriodAndAFinalOne) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar(
      20,
      {.out = &out, .interactive = false, .period = 25, .label = "epoch 1/5", .clock = clock.fn()});
  for (int i = 1; i <= 20; ++i) {
    clock.now += 0.4;  // 2.5 batches/s
    bar.step({{"loss", 0.5}, {"acc", 0.875}});
  }
  bar.finish({{"loss", 0.41}, {"acc", 0.87}});
  // 5/20 = 25 % after 2 s: 2.5 batches/s, 15 batches left -> 6 s.
  EXPECT_EQ(out.str(),
            "epoch 1/5 5/20 (25%) 2.5 batches/s elapsed 00:02 eta 00:06 loss 0.5000 acc 0.8750\n"
            "epoch 1/5 10/20 (50%) 2.5 batches/s elapsed 00:04 eta 00:04 loss 0.5000 acc 0.8750\n"
            "epoch 1/5 15/20 (75%) 2.5 batches/s elapsed 00:06 eta 00:02 loss 0.5000 acc 0.8750\n"
            "epoch 1/5 20/20 (100%) 2.5 batches/s elapsed 00:08 loss 0.4100 acc 0.8700\n");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressBar, PlainModeSkipsToTheNextPeriodAfterABigJump) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar(100, {.out = &out, .interactive = false, .clock = clock.fn()});
  clock.now += 10;
  bar.update(35);  // past 10, 20 and 30 %: one line, the next at 40 %
  bar.update(39);
  bar.update(40);
  bar.finish();
  EXPECT_EQ(out.str(),
            "35/100 (35%) 3.5 batches/s elapsed 00:10 eta 00:19\n"
            "40/100 (40%) 4.0 batches/s elapsed 00:10 eta 00:15\n"
            "40/100 (40%) 4.0 batches/s elapsed 00:10 eta 00:15\n");
}

TEST(ProgressBar, InteractiveModeRedrawsOneLine) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar(4, {.out = &out,
                             .interactive = true,
                             .width = 8,
                             .label = "train",
                             .batch_size = 32,
                             .clock = clock.fn()});
  clock.now += 1;
  bar.update(1, {{"loss", 1.25}});
  clock.now += 1;
  bar.update(2, {{"loss", 1.0}});
  clock.now += 2;
  bar.update(4, {{"loss", 0.8}});  // the last batch always draws
  bar.finish({{"loss", 0.75}});
  // 1 batch in 1 s = 32 samples/s, 3 batches left -> 3 s.
  const std::string first = "\rtrain [==>     ] 1/4 32.0 samples/s 00:01<00:03 loss 1.2500";
  const std::string second = "\rtrain [====>   ] 2/4 32.0 samples/s 00:02<00:02 loss 1.0000";
  const std::string full = "\rtrain [========] 4/4 32.0 samples/s 00:04<00:00 loss 0.8000";
  const std::string last = "\rtrain [========] 4/4 32.0 samples/s 00:04<00:00 loss 0.7500\n";
  EXPECT_EQ(out.str(), first + second + full + last);
}

TEST(ProgressBar, InteractiveModeClearsTheRestOfALongerLineAndThrottles) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar(1000, {.out = &out, .interactive = true, .width = 4, .clock = clock.fn()});
  clock.now += 1;
  bar.update(1, {{"a_long_metric_name", 1}});
  clock.now += 0.01;
  bar.update(2, {{"a_long_metric_name", 1}});  // within `refresh` of the last draw: not drawn
  EXPECT_EQ(out.str().find("2/1000"), std::string::npos);
  clock.now += 0.5;
  bar.update(3);
  const std::string s = out.str();
  const size_t second = s.find('\r', 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(s.size() - second, second);  // padded to the first line's length
  EXPECT_NE(s.find("3/1000"), std::string::npos);
  EXPECT_EQ(s.find('\n'), std::string::npos);
}

TEST(ProgressBar, UnknownRateAndLongTimes) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar(10,
                         {.out = &out, .interactive = false, .period = 100, .clock = clock.fn()});
  EXPECT_EQ(bar.line(0, clock.now, {}, false), "0/10 (0%) -- batches/s elapsed 00:00 eta --:--");
  EXPECT_EQ(bar.line(1, clock.now + 3700, {}, false),
            "1/10 (10%) 0.0 batches/s elapsed 1:01:40 eta 9:15:00");
}

TEST(ProgressBar, SilentPrintsNothing) {
  std::ostringstream out;
  train::ProgressBar bar(3, {.out = &out, .interactive = true, .silent = true});
  bar.step({{"loss", 1}});
  bar.step();
  bar.step();
  bar.finish({{"loss", 0.5}});
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(bar.done(), 3);
}

TEST(ProgressBar, AStringStreamIsNotATerminal) {
  std::ostringstream out;
  train::ProgressBar bar(3, {.out = &out});
  EXPECT_FALSE(bar.interactive());
}

TEST(ProgressBar, RejectsBadArguments) {
  SINEW_EXPECT_ERROR(train::ProgressBar(0), "ProgressBar", "total", "0");
  SINEW_EXPECT_ERROR(train::ProgressBar(5, {.period = 0}), "ProgressBar", "period");
  std::ostringstream out;
  train::ProgressBar bar(2, {.out = &out});
  SINEW_EXPECT_ERROR(bar.update(3), "ProgressBar::update", "3");
  bar.update(2);
  SINEW_EXPECT_ERROR(bar.step(), "ProgressBar::step", "already done");
}

}  // namespace SINEW_UNITY_ID
}  // namespace
