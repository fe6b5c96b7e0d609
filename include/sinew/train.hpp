// Sinew's training utilities (namespace sinew::train): metrics.
#pragma once

#include "sinew/train/metrics.hpp"
