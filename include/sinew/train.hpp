// Sinew's training utilities (namespace sinew::train): metrics, progress bar, history CSV,
// curves SVG and HTML report.
#pragma once

#include "sinew/train/history.hpp"
#include "sinew/train/metrics.hpp"
#include "sinew/train/progress.hpp"
#include "sinew/train/report.hpp"
