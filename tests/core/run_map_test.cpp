#include "core/engine/run_map.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

std::string dump(const RunMap<int>& m)
{
    std::string out;
    m.forEachAll([&](std::uint64_t s, std::uint64_t e, int v) {
        out += "[" + std::to_string(s) + "," + std::to_string(e) + ")=" + std::to_string(v) + " ";
    });
    return out;
}

TEST(RunMap, JoinsEqualNeighboursAndSplitsOnErase)
{
    RunMap<int> m;
    m.assign(0, 4, 1);
    m.assign(4, 8, 1);
    EXPECT_EQ(dump(m), "[0,8)=1 ");
    m.assign(2, 3, 2);
    EXPECT_EQ(dump(m), "[0,2)=1 [2,3)=2 [3,8)=1 ");
    m.erase(1, 6);
    EXPECT_EQ(dump(m), "[0,1)=1 [6,8)=1 ");
    EXPECT_EQ(*m.find(0), 1);
    EXPECT_EQ(m.find(3), nullptr);
}

TEST(RunMap, SequentialAssignmentStaysOneRun)
{
    RunMap<int> m;
    for (std::uint64_t i = 0; i < 100000; ++i)
        m.assign(i, i + 1, 7);
    EXPECT_EQ(m.runCount(), 1u);
}

TEST(RunMap, MoveAndUpdate)
{
    RunMap<int> m;
    m.assign(0, 2, 1);
    m.assign(2, 4, 2);
    m.move(0, 4, 10);
    EXPECT_EQ(dump(m), "[10,12)=1 [12,14)=2 ");
    m.update(10, 14, [](int) { return 5; });
    EXPECT_EQ(dump(m), "[10,14)=5 ");
}

} // namespace
} // namespace vmalab::test
