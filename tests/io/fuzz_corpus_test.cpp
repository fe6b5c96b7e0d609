// The fuzz targets (tests/fuzz/targets.hpp) over their committed seed corpora and regressions
// (tests/fuzz/corpus/<target>, tests/fuzz/regressions/<target>): every file must be answered with a
// result or a sinew::Error, never another exception or a sanitizer report (this suite runs under
// ASan and UBSan too). Files named valid-* must be accepted by at least one reader, files named
// bad-* by none. A crash found by scripts/fuzz.sh is fixed and its input kept in regressions/.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/targets.hpp"

namespace {
namespace SINEW_UNITY_ID {

namespace fs = std::filesystem;

std::vector<uint8_t> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FuzzCorpus, EveryTargetAnswersEveryCommittedInput) {
  const fs::path root = fs::path(SINEW_TEST_DATA_DIR) / "fuzz";
  const std::string rng = sinew::get_rng_state();
  for (const sinew::fuzz::NamedTarget& target : sinew::fuzz::kTargets) {
    int files = 0;
    for (const char* kind : {"corpus", "regressions"}) {
      const fs::path dir = root / kind / target.name;
      if (!fs::is_directory(dir)) continue;
      for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        const std::vector<uint8_t> bytes = file_bytes(entry.path());
        int accepted = -1;
        try {
          accepted = target.run(bytes.data(), bytes.size());
        } catch (const std::exception& e) {
          ADD_FAILURE() << target.name << " " << kind << "/" << name
                        << ": an exception that is not a sinew::Error: " << e.what();
          continue;
        }
        if (name.starts_with("valid-")) {
          EXPECT_GT(accepted, 0) << target.name << " " << kind << "/" << name;
        }
        if (name.starts_with("bad-")) {
          EXPECT_EQ(accepted, 0) << target.name << " " << kind << "/" << name;
        }
        ++files;
      }
    }
    EXPECT_GE(files, 3) << target.name << ": its seed corpus is missing";
  }
  for (const char* suffix : {".safetensors", ".idx", ".idx.gz"})
    fs::remove(sinew::fuzz::scratch_path(suffix));
  sinew::set_rng_state(rng);
}

}  // namespace SINEW_UNITY_ID
}  // namespace
