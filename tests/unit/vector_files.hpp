// Reading the shared vector files of tests/vectors/ (CONCLAVE_VECTORS_DIR) in GoogleTest.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace conclave::test {

inline nlohmann::json vector_file(const std::string& name) {
  std::ifstream in(std::string(CONCLAVE_VECTORS_DIR) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

inline std::vector<std::uint8_t> hex(const std::string& h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace conclave::test
