#include "core/engine/persistent_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace vmalab::test {
namespace {

TEST(PersistentMap, BehavesLikeStdMapUnderRandomOperations)
{
    PersistentMap<int, int> p;
    std::map<int, int> m;
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const int k = static_cast<int>(rng() % 500);
        switch (rng() % 4) {
        case 0:
        case 1:
            EXPECT_EQ(p.emplace(k, i).second, m.emplace(k, i).second);
            break;
        case 2:
            EXPECT_EQ(p.erase(k), m.erase(k));
            break;
        case 3:
            if (m.count(k)) {
                p.at(k) = -i;
                m.at(k) = -i;
            }
            break;
        }
    }
    ASSERT_EQ(p.size(), m.size());
    auto it = p.begin();
    for (const auto& [k, v] : m) {
        ASSERT_NE(it, p.end());
        EXPECT_EQ(it->first, k);
        EXPECT_EQ(it->second, v);
        ++it;
    }
    EXPECT_EQ(it, p.end());
    EXPECT_EQ(std::prev(p.end())->first, m.rbegin()->first);
    EXPECT_EQ(p.lower_bound(250)->first, m.lower_bound(250)->first);
    EXPECT_EQ(p.upper_bound(250)->first, m.upper_bound(250)->first);
}

TEST(PersistentMap, CopiesAreIndependentAndShareUnchangedNodes)
{
    PersistentMap<int, int> a;
    for (int i = 0; i < 1000; ++i)
        a.emplace(i, i);
    PersistentMap<int, int> b = a;
    b.at(500) = -1;
    b.erase(10);
    b.emplace(2000, 1);
    EXPECT_EQ(a.at(500), 500);
    EXPECT_EQ(a.count(10), 1u);
    EXPECT_EQ(a.count(2000), 0u);
    EXPECT_EQ(b.at(500), -1);
    EXPECT_LT(b.nodesNotIn(a), 120u) << "a change copies a few paths, not the map";
}

TEST(PersistentMap, RekeyKeepsOrder)
{
    PersistentMap<int, int> a;
    a.emplace(10, 1);
    a.emplace(20, 2);
    a.emplace(30, 3);
    const PersistentMap<int, int> before = a;
    a.rekey(20, 15);
    EXPECT_EQ(a.count(20), 0u);
    EXPECT_EQ(a.at(15), 2);
    EXPECT_EQ(before.at(20), 2);
    EXPECT_EQ(std::next(a.begin())->first, 15);
}

} // namespace
} // namespace vmalab::test
