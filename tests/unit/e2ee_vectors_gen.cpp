// Writes tests/vectors/e2ee-v1.json to stdout: e2ee_vectors_gen > tests/vectors/e2ee-v1.json
// Run only when the protocol changes on purpose; e2ee_protocol_test then holds the file.
#include <iostream>

#include "e2ee_v1_vectors.hpp"

int main() {
  std::cout << conclave::test::make_e2ee_v1_vectors().dump(2) << "\n";
}
