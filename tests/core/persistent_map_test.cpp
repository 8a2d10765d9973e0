#include "core/engine/persistent_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

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

// Compares every way of reading the map with std::map: iteration both ways, find, count,
// at, lower_bound and upper_bound of keys present and absent.
void expectSame(const PersistentMap<int, int>& p, const std::map<int, int>& m)
{
    ASSERT_EQ(p.size(), m.size());
    ASSERT_EQ(p.empty(), m.empty());
    auto it = p.begin();
    for (const auto& [k, v] : m) {
        ASSERT_NE(it, p.end());
        ASSERT_EQ(it->first, k);
        ASSERT_EQ(it->second, v);
        ++it;
    }
    ASSERT_EQ(it, p.end());
    auto back = p.end();
    for (auto r = m.rbegin(); r != m.rend(); ++r) {
        --back;
        ASSERT_EQ(back->first, r->first);
    }
    ASSERT_EQ(back, p.begin());
    for (int k = -2; k < 1002; k += 7) {
        ASSERT_EQ(p.count(k), m.count(k)) << k;
        if (m.count(k)) {
            ASSERT_EQ(p.at(k), m.at(k));
        }
        auto lb = m.lower_bound(k);
        auto plb = p.lower_bound(k);
        ASSERT_EQ(plb == p.end(), lb == m.end()) << k;
        if (lb != m.end()) {
            ASSERT_EQ(plb->first, lb->first) << k;
        }
        auto ub = m.upper_bound(k);
        auto pub = p.upper_bound(k);
        ASSERT_EQ(pub == p.end(), ub == m.end()) << k;
        if (ub != m.end()) {
            ASSERT_EQ(pub->first, ub->first) << k;
        }
        if (lb != m.begin()) {
            ASSERT_NE(plb, p.begin());
            ASSERT_EQ(std::prev(plb)->first, std::prev(lb)->first) << k;
        }
    }
}

// Random emplace/erase/at/rekey on one map while snapshots are taken now and then; every
// snapshot must keep exactly what it held when it was taken, whatever happens later.
TEST(PersistentMap, SnapshotsNeverSeeLaterChanges)
{
    for (int keys : { 40, 1000 }) {
        PersistentMap<int, int> p;
        std::map<int, int> m;
        std::vector<std::pair<PersistentMap<int, int>, std::map<int, int>>> snapshots;
        std::mt19937 rng(static_cast<unsigned>(keys));
        for (int i = 0; i < 30000; ++i) {
            const int k = static_cast<int>(rng() % static_cast<unsigned>(keys));
            switch (rng() % 8) {
            case 0:
            case 1:
            case 2:
                ASSERT_EQ(p.emplace(k, i).second, m.emplace(k, i).second);
                break;
            case 3:
            case 4:
                ASSERT_EQ(p.erase(k), m.erase(k));
                break;
            case 5:
                if (m.count(k)) {
                    p.at(k) = -i;
                    m.at(k) = -i;
                }
                break;
            case 6: {
                // Move k down to the free key just above its predecessor, as VMA starts move.
                auto it = m.find(k);
                if (it == m.end())
                    break;
                const int low = it == m.begin() ? -1 : std::prev(it)->first;
                if (low + 1 < k) {
                    const int v = it->second;
                    m.erase(it);
                    m.emplace(low + 1, v);
                    p.rekey(k, low + 1);
                }
                break;
            }
            case 7:
                if (rng() % 50 == 0)
                    snapshots.emplace_back(p, m);
                break;
            }
            if (i % 5000 == 0)
                expectSame(p, m);
        }
        expectSame(p, m);
        for (const auto& [snap, expected] : snapshots)
            expectSame(snap, expected);
        // Emptying the map leaves the snapshots alone too.
        while (!m.empty()) {
            ASSERT_EQ(p.erase(m.begin()->first), 1u);
            m.erase(m.begin());
        }
        expectSame(p, m);
        for (const auto& [snap, expected] : snapshots)
            expectSame(snap, expected);
    }
}

TEST(PersistentMap, ReferencesFromAtSurviveChangesToOtherKeys)
{
    PersistentMap<int, int> a;
    for (int i = 0; i < 500; ++i)
        a.emplace(i * 2, i);
    int& v = a.at(250);
    for (int i = 0; i < 500; ++i) {
        a.emplace(i * 2 + 1, -1);
        if (i != 125)
            a.erase(i * 2);
    }
    v = 77;
    EXPECT_EQ(a.at(250), 77);
    EXPECT_EQ(a.size(), 501u);
}

TEST(PersistentMap, SequentialInsertStaysShallowAndCheapToChange)
{
    PersistentMap<std::uint64_t, int> a;
    for (std::uint64_t i = 0; i < 60000; ++i)
        a.emplace(i << 12, 0);
    const PersistentMap<std::uint64_t, int> before = a;
    a.at(30000u << 12) = 1;
    // One path: a leaf and its inner nodes, a handful for 60,000 entries (8 with nodes of
    // 8 entries, which ascending inserts leave half full).
    EXPECT_LE(a.nodesNotIn(before), 8u);
    EXPECT_EQ(before.at(30000u << 12), 0);
}

TEST(PersistentMap, EmplaceNewAndRekeyReturnTheValue)
{
    PersistentMap<int, int> a;
    for (int i = 0; i < 100; ++i)
        a.emplaceNew(i * 10, i) += 1000;
    const PersistentMap<int, int> before = a;
    int& moved = a.rekey(500, 495);
    moved = -5;
    EXPECT_EQ(a.at(495), -5);
    EXPECT_EQ(a.count(500), 0u);
    EXPECT_EQ(before.at(500), 1050) << "the copy keeps its key and value";
    EXPECT_EQ(before.count(495), 0u);
    EXPECT_EQ(a.at(0), 1000);
    EXPECT_EQ(std::prev(a.lower_bound(500))->first, 495);
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

// Nodes and boxes come from a pool the copies share: a copy must outlive the map it was
// made from, and memory a version frees is reused by the others without harm.
TEST(PersistentMap, CopiesOutliveTheOriginalAndReuseFreedNodes)
{
    std::vector<PersistentMap<int, std::vector<int>>> versions;
    {
        PersistentMap<int, std::vector<int>> original;
        for (int i = 0; i < 5000; ++i)
            original.emplaceNew(i, std::vector<int> { i, i });
        versions.push_back(original);
        for (int round = 0; round < 20; ++round) {
            for (int i = round; i < 5000; i += 7)
                original.erase(i);
            for (int i = round; i < 5000; i += 7)
                original.emplaceNew(i, std::vector<int> { -i });
            versions.push_back(original);
        }
    } // the original is gone; every version still holds its nodes
    ASSERT_EQ(versions.front().size(), 5000u);
    for (int i = 0; i < 5000; ++i)
        ASSERT_EQ(versions.front().at(i), (std::vector<int> { i, i })) << i;
    versions.erase(versions.begin() + 1, versions.end() - 1); // free most versions' nodes
    PersistentMap<int, std::vector<int>> last = versions.back();
    for (int i = 0; i < 5000; i += 3)
        last.at(i).push_back(7); // copies paths into the freed memory
    for (int i = 0; i < 5000; ++i) {
        ASSERT_EQ(versions.front().at(i), (std::vector<int> { i, i })) << i;
        ASSERT_EQ(versions.back().at(i), (std::vector<int> { -i })) << i; // rounds 0-6 replaced every key
        ASSERT_EQ(last.at(i).size(), i % 3 == 0 ? 2u : 1u) << i;
    }
}

} // namespace
} // namespace vmalab::test
