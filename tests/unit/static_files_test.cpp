#include "http/static_files.hpp"

#include <gtest/gtest.h>

namespace conclave::http {
namespace {

using Kind = StaticTarget::Kind;

TEST(ResolveStatic, FilesAndClientRoutes) {
  EXPECT_EQ(resolve_static("/").kind, Kind::kAppRoute);
  EXPECT_EQ(resolve_static("/").relative, "index.html");
  EXPECT_EQ(resolve_static("/m/kfx7-mq2d-9tbe").kind, Kind::kAppRoute);
  EXPECT_EQ(resolve_static("/m/kfx7-mq2d-9tbe/").kind, Kind::kAppRoute);
  EXPECT_EQ(resolve_static("/new?x=1").kind, Kind::kAppRoute);
  const auto asset = resolve_static("/assets/index-BAIrUR7e.js?v=2");
  EXPECT_EQ(asset.kind, Kind::kFile);
  EXPECT_EQ(asset.relative, "assets/index-BAIrUR7e.js");
  EXPECT_EQ(resolve_static("/favicon.svg").relative, "favicon.svg");
}

TEST(ResolveStatic, RefusesAnythingThatCouldLeaveTheRoot) {
  for (const char* bad :
       {"", "x", "/..", "/../etc/passwd", "/assets/../../x.js", "/%2e%2e/x", "//etc/passwd",
        "/a\\b", "/.env", "/assets/.hidden.js", "/a b", "/./index.html", "/assets//x.js"}) {
    EXPECT_EQ(resolve_static(bad).kind, Kind::kNotFound) << bad;
  }
  EXPECT_EQ(resolve_static(std::string_view("/a\0b", 4)).kind, Kind::kNotFound);
  EXPECT_EQ(resolve_static(std::string(2000, 'a').insert(0, "/")).kind, Kind::kNotFound);
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a.unknown"), "application/octet-stream");
}

}  // namespace
}  // namespace conclave::http
