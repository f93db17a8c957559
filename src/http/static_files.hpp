// Serves the built browser client from a directory. The mapping from request target to
// file is a pure function (resolve_static) so that it can be fuzzed: whatever a client
// sends, the answer is a file inside the root, the client's index.html, or "not found".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace conclave::http {

struct StaticTarget {
  enum class Kind { kFile, kAppRoute, kNotFound };
  Kind kind = Kind::kNotFound;
  std::string relative;  // for kFile: path below the root, no leading '/'
};

// Maps a request target ("/assets/index-1a2b.js?x=1") to what should answer it:
// - a path of safe characters ([A-Za-z0-9._-] segments, no dot segments) names a file;
// - a path whose last segment has no '.' is a client route (/, /new, /m/<id>) and gets
//   index.html, so that links into the app work on reload;
// - anything else (percent-escapes, "..", backslashes, control bytes) is not found.
StaticTarget resolve_static(std::string_view target);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  struct File {
    std::string body;
    std::string content_type;
    std::string cache_control;
  };
  // Reads the file for a resolved target; nullopt when it does not exist under the root.
  std::optional<File> load(const StaticTarget& target) const;

  const std::filesystem::path& root() const { return root_; }
  bool has_client() const;

 private:
  std::filesystem::path root_;
};

std::string_view content_type_for(std::string_view filename);

}  // namespace conclave::http
