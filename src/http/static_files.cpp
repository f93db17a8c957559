#include "http/static_files.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <utility>

namespace conclave::http {

namespace {

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

StaticTarget resolve_static(std::string_view target) {
  StaticTarget out;
  const auto query = target.find_first_of("?#");
  std::string_view path = target.substr(0, query);
  if (path.empty() || path.front() != '/' || path.size() > 1024) return out;

  std::string relative;
  std::string_view last_segment;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(pos, slash - pos);
    const bool trailing = slash == path.size();
    if (segment.empty()) {
      // Only a trailing slash may leave an empty segment ("/m/abc/"); "//" is refused.
      if (!trailing) return out;
    } else {
      if (segment == "." || segment == ".." || segment.front() == '.') return out;
      for (char c : segment) {
        if (!safe_char(c)) return out;
      }
      if (!relative.empty()) relative += '/';
      relative += segment;
      last_segment = segment;
    }
    pos = slash + 1;
  }

  if (last_segment.find('.') == std::string_view::npos || path.back() == '/') {
    out.kind = StaticTarget::Kind::kAppRoute;
    out.relative = "index.html";
  } else {
    out.kind = StaticTarget::Kind::kFile;
    out.relative = std::move(relative);
  }
  return out;
}

std::string_view content_type_for(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}

bool StaticFiles::has_client() const {
  std::error_code ec;
  return std::filesystem::is_regular_file(root_ / "index.html", ec);
}

std::optional<StaticFiles::File> StaticFiles::load(const StaticTarget& target) const {
  if (target.kind == StaticTarget::Kind::kNotFound) return std::nullopt;
  const auto path = root_ / target.relative;
  std::error_code ec;
  // resolve_static already refuses dot segments; a symlink inside the web root pointing
  // out of it is the operator's choice, so it is followed.
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  File file{body.str(), std::string(content_type_for(target.relative)), "no-cache"};
  // Vite names everything under assets/ by content hash: cache forever.
  if (target.relative.rfind("assets/", 0) == 0) {
    file.cache_control = "public, max-age=31536000, immutable";
  }
  return file;
}

}  // namespace conclave::http
