// Test helpers of the ledger tests; see test_util.hpp.
#include "ledger/test_util.hpp"

#include <stdlib.h>

#include <stdexcept>
#include <system_error>

namespace pfex::ledger::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pfex-ledger-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace pfex::ledger::testing
