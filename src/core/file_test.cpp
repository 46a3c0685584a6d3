#include "core/file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace pfex {
namespace {

TEST(File, WritesAtomicallyAndReadsBack) {
  char tmpl[] = "/tmp/pfex-core-file-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir(tmpl);
  const std::string path = (dir / "f").string();
  EXPECT_EQ(read_whole_file(path).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(write_file_atomically(path, Bytes{1, 2, 3}).is_ok());
  ASSERT_TRUE(write_file_atomically(path, Bytes(100'000, 7)).is_ok());  // replaced, longer
  auto got = read_whole_file(path);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(*got, Bytes(100'000, 7));
  ASSERT_TRUE(write_file_atomically(path, Bytes{}).is_ok());
  EXPECT_TRUE(read_whole_file(path)->empty());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(write_file_atomically((dir / "no" / "such").string(), Bytes{1}).code(),
            ErrorCode::kIoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pfex
