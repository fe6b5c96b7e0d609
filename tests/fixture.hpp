// Reference fixtures for the tests: JSON files under tests/fixtures/, written once by the Python
// scripts next to them (Debian's python3-torch) and committed, so the tests never run Python.
//
// A fixture file is a JSON object; a tensor inside it is {"shape": [..], "data": [..]} with the
// values in row-major order. Scalars, strings and lists are plain JSON.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sinew/sinew.hpp>

namespace sinew::testing {

// Reads tests/fixtures/<relative_path>; a missing or malformed file is a sinew::Error naming it.
inline nlohmann::json load_fixture(const std::string& relative_path) {
  std::string path = std::string(SINEW_TEST_DATA_DIR) + "/fixtures/" + relative_path;
  std::ifstream in(path);
  SINEW_CHECK(in.good(), "load_fixture", "cannot open ", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(sinew::detail::str("load_fixture: ", path, ": ", e.what()));
  }
}

// The tensor stored as {"shape": [...], "data": [...]}, converted to T.
template <class T = double>
Tensor<T> fixture_tensor(const nlohmann::json& j) {
  SINEW_CHECK(j.is_object() && j.contains("shape") && j.contains("data"), "fixture_tensor",
              "expected {\"shape\", \"data\"}, got ", j.dump().substr(0, 80));
  std::vector<int64_t> dims = j.at("shape").get<std::vector<int64_t>>();
  std::vector<double> data = j.at("data").get<std::vector<double>>();
  std::vector<T> values(data.begin(), data.end());
  return from_vector<T>(values, Shape(dims));
}

}  // namespace sinew::testing
