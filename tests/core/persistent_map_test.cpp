#include "core/engine/persistent_map.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// Changes through one cursor (the way mprotect walks: find, split, merge), checked against
// std::map; copies taken between two changes through the same cursor must never change.
TEST(PersistentMap, CursorBehavesLikeStdMapAndLeavesCopiesAlone)
{
    using Map = PersistentMap<int, int>;
    Map p;
    std::map<int, int> m;
    std::mt19937 rng(11);
    for (int k = 0; k < 3000; k += 10) { // gaps of 10 leave room to insert and rekey beside
        p.emplace(k, k);
        m.emplace(k, k);
    }
    std::vector<std::pair<Map, std::map<int, int>>> copies;
    auto checkEqual = [](const Map& a, const std::map<int, int>& b) {
        ASSERT_EQ(a.size(), b.size());
        auto it = a.begin();
        for (const auto& [k, v] : b) {
            ASSERT_EQ(it->first, k);
            ASSERT_EQ(it->second, v);
            ++it;
        }
        ASSERT_EQ(it, a.end());
    };
    auto checkCopies = [&] {
        for (const auto& [copy, expected] : copies)
            checkEqual(copy, expected);
    };
    for (int round = 0; round < 2000; ++round) {
        const int at = static_cast<int>(rng() % 3100);
        auto c = p.floor(at);
        auto it = m.upper_bound(at); // the entry after floor(at)
        ASSERT_EQ(c.valid(), it != m.begin());
        if (!c)
            continue;
        --it;
        ASSERT_EQ(p.key(c), it->first);
        for (int change = 0; change < 6 && c; ++change) {
            ASSERT_EQ(p.key(c), it->first);
            ASSERT_EQ(p.value(c), it->second);
            const int* before = p.peekPrev(c);
            const int* after = p.peekNext(c);
            ASSERT_EQ(before != nullptr, it != m.begin());
            ASSERT_EQ(after != nullptr, std::next(it) != m.end());
            if (before) {
                ASSERT_EQ(*before, std::prev(it)->second);
            }
            if (after) {
                ASSERT_EQ(*after, std::next(it)->second);
            }
            const int lowKey = it == m.begin() ? -1000 : std::prev(it)->first;
            const int highKey = std::next(it) == m.end() ? 100000 : std::next(it)->first;
            if (rng() % 3 == 0) // a copy between two changes through this cursor
                copies.emplace_back(p, m);
            switch (rng() % 7) {
            case 0: // neighbour moves
                if (rng() % 2 ? p.prev(c) : p.next(c))
                    it = m.find(p.key(c));
                break;
            case 1:
                p.valueForWrite(c) = round;
                it->second = round;
                break;
            case 2: // rekey within the gap
                if (highKey - lowKey > 2) {
                    const int k = lowKey + 1 + static_cast<int>(rng() % static_cast<unsigned>(highKey - lowKey - 1));
                    const int v = it->second;
                    p.rekey(c, k) = v + 1;
                    m.erase(it);
                    it = m.emplace(k, v + 1).first;
                }
                break;
            case 3: // insert before
                if (it->first - lowKey > 1) {
                    const int k = it->first - 1 - static_cast<int>(rng() % static_cast<unsigned>(it->first - lowKey - 1));
                    EXPECT_EQ(p.insertBeside(c, true, k, -round), -round);
                    m.emplace(k, -round);
                }
                break;
            case 4: // insert after
                if (highKey - it->first > 1) {
                    const int k = it->first + 1 + static_cast<int>(rng() % static_cast<unsigned>(highKey - it->first - 1));
                    EXPECT_EQ(p.insertBeside(c, false, k, -round), -round);
                    m.emplace(k, -round);
                }
                break;
            default: // erase; the cursor moves to the entry before
                if (m.size() > 50) {
                    const bool first = it == m.begin();
                    it = m.erase(it);
                    p.erase(c);
                    ASSERT_EQ(c.valid(), !first);
                    if (!first)
                        --it;
                } else if (highKey - it->first > 1) { // refill instead
                    p.insertBeside(c, false, it->first + 1, 0);
                    m.emplace(it->first + 1, 0);
                }
                break;
            }
            checkEqual(p, m);
            checkCopies();
            if (::testing::Test::HasFatalFailure())
                return;
        }
        if (copies.size() > 8) // keep the oldest and a few recent ones
            copies.erase(copies.begin() + 1, copies.begin() + 5);
        if (round % 500 == 499) { // regrow where erases thinned the map
            for (int k = 0; k < 3000; k += 10)
                if (!m.count(k) && !m.count(k + 1) && !m.count(k - 1)) {
                    p.emplaceNew(k, k);
                    m.emplace(k, k);
                }
        }
    }
}

// Copies split the weight of the reference they copy: a map copied many more times than its
// weight can halve (30) must still tell shared nodes from its own, and free them when the
// last copy goes, in any order.
TEST(PersistentMap, ManyCopiesOfOneMapStayIndependent)
{
    PersistentMap<int, int> original;
    for (int i = 0; i < 2000; ++i)
        original.emplaceNew(i, i);
    std::vector<PersistentMap<int, int>> copies;
    for (int n = 0; n < 100; ++n) {
        copies.push_back(original); // each halves the original's root weight
        copies.push_back(copies.back()); // and a copy of a copy
    }
    std::mt19937 rng(3);
    for (int n = 0; n < static_cast<int>(copies.size()); ++n) {
        copies[static_cast<std::size_t>(n)].at(n * 7 % 2000) = -n;
        copies[static_cast<std::size_t>(n)].erase(n * 13 % 2000 == n * 7 % 2000 ? 1999 - n : n * 13 % 2000);
    }
    original.at(5) = 55;
    std::shuffle(copies.begin(), copies.end(), rng);
    while (copies.size() > 1) {
        copies.pop_back();
        const PersistentMap<int, int>& kept = copies.front();
        ASSERT_EQ(kept.size(), 1999u);
    }
    EXPECT_EQ(original.at(5), 55);
    EXPECT_EQ(original.size(), 2000u);
    for (int i = 0; i < 2000; ++i)
        ASSERT_EQ(original.at(i), i == 5 ? 55 : i) << i;
    int changed = 0;
    for (const auto& e : copies.front())
        changed += e.second != e.first;
    EXPECT_LE(changed, 1); // its own change only (copy 0's -0 at key 0 changes nothing)
}

} // namespace
} // namespace vmalab::test
