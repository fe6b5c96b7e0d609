// Sinew's training utilities (namespace sinew::train): metrics, progress bar, history CSV,
// curves SVG and HTML report, checkpoints, and the optional fit loop with its callbacks.
#pragma once

#include "sinew/train/callbacks.hpp"
#include "sinew/train/checkpoint.hpp"
#include "sinew/train/fit.hpp"
#include "sinew/train/history.hpp"
#include "sinew/train/metrics.hpp"
#include "sinew/train/progress.hpp"
#include "sinew/train/report.hpp"
