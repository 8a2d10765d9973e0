#include "core/host/record_pages.h"

#include <gtest/gtest.h>

namespace vmalab::host {
namespace {

TEST(PageMirror, ReportsOnlyWhatChanged)
{
    PageMirror m;
    m.set(0x1000, 0x5000, "anon");
    // [0x1000,0x3000) anon as before, [0x3000,0x4000) now none, [0x4000,0x6000) file.
    const auto d =
        m.differences({ { 0x1000, 0x3000, "anon" }, { 0x3000, 0x4000, "none" }, { 0x4000, 0x6000, "file" } });
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].start, 0x3000u);
    EXPECT_EQ(d[0].end, 0x4000u);
    EXPECT_EQ(d[0].state, "none");
    EXPECT_EQ(d[1].start, 0x4000u);
    EXPECT_EQ(d[1].end, 0x6000u);
    EXPECT_EQ(d[1].state, "file");
}

TEST(PageMirror, SetSplitsRunsAtItsEdges)
{
    PageMirror m;
    m.set(0x1000, 0x9000, "anon");
    m.set(0x3000, 0x4000, "none");
    EXPECT_TRUE(
        m.differences({ { 0x1000, 0x3000, "anon" }, { 0x3000, 0x4000, "none" }, { 0x4000, 0x9000, "anon" } }).empty());
    const auto d = m.differences({ { 0x2000, 0x5000, "swap" } });
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].start, 0x2000u);
    EXPECT_EQ(d[0].end, 0x5000u);
}

TEST(RecordPages, MapsAndNeighbours)
{
    const auto maps = parseMapsText("1000-3000 rw-p 00000000 00:00 0 \n"
                                    "5000-6000 r--p 00001000 08:03 12 /lib/a b.so\n"
                                    "8000-9000 rw-p 00000000 00:00 0                          [stack]\n");
    ASSERT_EQ(maps.size(), 3u);
    EXPECT_EQ(maps[1].name, "/lib/a b.so");
    EXPECT_EQ(maps[2].name, "[stack]");
    EXPECT_EQ(touchedWithNeighbours(maps, 0x5000, 0x6000), (std::vector<std::size_t> { 0, 1, 2 }));
    EXPECT_EQ(touchedWithNeighbours(maps, 0x3000, 0x4000), (std::vector<std::size_t> { 0, 1 }));
    EXPECT_EQ(touchedWithNeighbours(maps, 0x1000, 0x2000), (std::vector<std::size_t> { 0, 1 }));
}

} // namespace
} // namespace vmalab::host
