#include "core/snapshot/snapshot_diff.h"

#include <gtest/gtest.h>

#include "tests/snapshot/snapshot_test_util.h"

namespace vmalab::snapshot {
namespace {

using namespace testing;

constexpr Addr P = pageSize;
constexpr Addr B = 0x7f0000000000;

std::vector<EventKind> kinds(const std::vector<DiffEvent>& events)
{
    std::vector<EventKind> out;
    for (const DiffEvent& e : events)
        out.push_back(e.kind);
    return out;
}

const DiffEvent* find(const std::vector<DiffEvent>& events, EventKind k)
{
    for (const DiffEvent& e : events)
        if (e.kind == k)
            return &e;
    return nullptr;
}

TEST(SnapshotDiff, NothingChanged)
{
    const Snapshot a = oneProcess({ makeVma(B, B + 4 * P) }, { { B, B + P, PageState::Present } });
    EXPECT_TRUE(diffSnapshots(a, a).empty());
    EXPECT_EQ(formatDiff({}), "no changes\n");
}

TEST(SnapshotDiff, Mapped)
{
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + P) }),
        oneProcess(
            { makeVma(B, B + P), makeVma(B + 8 * P, B + 10 * P) }, { { B + 8 * P, B + 9 * P, PageState::Present } }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::Mapped });
    EXPECT_EQ(e[0].after.front().start, B + 8 * P);
    EXPECT_EQ(e[0].pages, 1u);
}

TEST(SnapshotDiff, Unmapped)
{
    const auto e = diffSnapshots(
        oneProcess({ makeVma(B, B + P), makeVma(B + 8 * P, B + 10 * P, "r--p") }), oneProcess({ makeVma(B, B + P) }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::Unmapped });
    EXPECT_EQ(e[0].before.front().perms, "r--p");
}

TEST(SnapshotDiff, MovedByMremap)
{
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + 4 * P, "rw-p", "[anon:buf]") }),
        oneProcess({ makeVma(B + 100 * P, B + 104 * P, "rw-p", "[anon:buf]") }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::Moved });
    EXPECT_EQ(e[0].before.front().start, B);
    EXPECT_EQ(e[0].after.front().start, B + 100 * P);
}

TEST(SnapshotDiff, SplitByMprotect)
{
    // AAAA -> AaAA: one VMA in three, the middle one read-only.
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + 4 * P) }),
        oneProcess({ makeVma(B, B + P), makeVma(B + P, B + 2 * P, "r--p"), makeVma(B + 2 * P, B + 4 * P) }));
    ASSERT_EQ(kinds(e), (std::vector { EventKind::Split, EventKind::ProtectionChanged }));
    EXPECT_EQ(e[0].after.size(), 3u);
    EXPECT_EQ(e[1].ranges, (std::vector<std::pair<Addr, Addr>> { { B + P, B + 2 * P } }));
    EXPECT_EQ(e[1].from, "rw-p");
    EXPECT_EQ(e[1].to, "r--p");
    EXPECT_NE(formatDiff(e).find("protection"), std::string::npos);
}

TEST(SnapshotDiff, Merged)
{
    const auto e = diffSnapshots(
        oneProcess({ makeVma(B, B + P), makeVma(B + P, B + 2 * P, "r--p") }), oneProcess({ makeVma(B, B + 2 * P) }));
    ASSERT_EQ(kinds(e), (std::vector { EventKind::Merged, EventKind::ProtectionChanged }));
    EXPECT_EQ(e[0].before.size(), 2u);
    EXPECT_EQ(e[1].to, "rw-p");
}

TEST(SnapshotDiff, GrewAndShrank)
{
    const auto grew = diffSnapshots(oneProcess({ makeVma(B, B + 2 * P) }), oneProcess({ makeVma(B, B + 5 * P) }));
    ASSERT_EQ(kinds(grew), std::vector { EventKind::Grew });
    EXPECT_EQ(grew[0].ranges, (std::vector<std::pair<Addr, Addr>> { { B + 2 * P, B + 5 * P } }));
    const auto shrank = diffSnapshots(oneProcess({ makeVma(B, B + 5 * P) }), oneProcess({ makeVma(B, B + 2 * P) }));
    ASSERT_EQ(kinds(shrank), std::vector { EventKind::Shrank });
    EXPECT_EQ(shrank[0].ranges, (std::vector<std::pair<Addr, Addr>> { { B + 2 * P, B + 5 * P } }));
}

TEST(SnapshotDiff, HoleInTheMiddleIsSplitAndShrank)
{
    const auto e = diffSnapshots(
        oneProcess({ makeVma(B, B + 6 * P) }), oneProcess({ makeVma(B, B + 2 * P), makeVma(B + 4 * P, B + 6 * P) }));
    ASSERT_EQ(kinds(e), (std::vector { EventKind::Split, EventKind::Shrank }));
    EXPECT_EQ(e[1].ranges, (std::vector<std::pair<Addr, Addr>> { { B + 2 * P, B + 4 * P } }));
}

TEST(SnapshotDiff, FlagsChangedIgnoresPermissionMnemonics)
{
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + P, "rw-p", "", "rd wr mr mw me ac") }),
        oneProcess({ makeVma(B, B + P, "rw-p", "", "rd wr mr mw me ac lo dd") }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::FlagsChanged });
    EXPECT_EQ(e[0].to, "dd lo");
    EXPECT_EQ(e[0].from, "");
}

TEST(SnapshotDiff, GuardInstalledOnTheVmaAndItsPages)
{
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + 4 * P, "rw-p", "", "rd wr mr mw me ac") }),
        oneProcess({ makeVma(B, B + 4 * P, "rw-p", "", "rd wr mr mw me gu ac") },
            { { B + 3 * P, B + 4 * P, PageState::Guard } }));
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].kind, EventKind::GuardInstalled); // the VMA's gu flag
    EXPECT_EQ(e[0].to, "gu");
    EXPECT_EQ(e[1].kind, EventKind::GuardInstalled); // the marker
    EXPECT_EQ(e[1].pages, 1u);
    EXPECT_EQ(e[1].ranges.front().first, B + 3 * P);
}

TEST(SnapshotDiff, GuardRemovedPages)
{
    const auto e = diffSnapshots(oneProcess({ makeVma(B, B + 4 * P) }, { { B, B + 2 * P, PageState::Guard } }),
        oneProcess({ makeVma(B, B + 4 * P) }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::GuardRemoved });
    EXPECT_EQ(e[0].pages, 2u);
}

TEST(SnapshotDiff, PagesFaultedReclaimedAndSwapped)
{
    const Snapshot a = oneProcess({ makeVma(B, B + 8 * P) },
        { { B, B + 2 * P, PageState::Present }, { B + 4 * P, B + 6 * P, PageState::Present },
            { B + 7 * P, B + 8 * P, PageState::Swap } });
    const Snapshot b = oneProcess({ makeVma(B, B + 8 * P) },
        { { B, B + 3 * P, PageState::Present }, { B + 4 * P, B + 5 * P, PageState::Swap },
            { B + 7 * P, B + 8 * P, PageState::Present } });
    const auto e = diffSnapshots(a, b);
    ASSERT_NE(find(e, EventKind::PagesFaulted), nullptr);
    EXPECT_EQ(find(e, EventKind::PagesFaulted)->pages, 1u);
    ASSERT_NE(find(e, EventKind::PagesReclaimed), nullptr);
    EXPECT_EQ(find(e, EventKind::PagesReclaimed)->pages, 1u);
    EXPECT_EQ(find(e, EventKind::PagesReclaimed)->ranges.front().first, B + 5 * P);
    ASSERT_NE(find(e, EventKind::PagesSwappedOut), nullptr);
    EXPECT_EQ(find(e, EventKind::PagesSwappedOut)->pages, 1u);
    ASSERT_NE(find(e, EventKind::PagesSwappedIn), nullptr);
    EXPECT_EQ(find(e, EventKind::PagesSwappedIn)->pages, 1u);
}

TEST(SnapshotDiff, NameChanged)
{
    const auto e = diffSnapshots(
        oneProcess({ makeVma(B, B + P, "rw-p", "[anon:a]") }), oneProcess({ makeVma(B, B + P, "rw-p", "[anon:b]") }));
    ASSERT_EQ(kinds(e), std::vector { EventKind::NameChanged });
}

TEST(SnapshotDiff, ProcessesMatchedByPid)
{
    Snapshot a = oneProcess({ makeVma(B, B + P) }, {}, 10);
    Snapshot second = oneProcess({ makeVma(B, B + P) }, {}, 11);
    a.processes.push_back(second.processes.front());
    const Snapshot b = oneProcess({ makeVma(B, B + P) }, {}, 12);
    Snapshot b2 = a;
    b2.processes.pop_back();
    b2.processes.push_back(b.processes.front());
    EXPECT_EQ(kinds(diffSnapshots(a, b2)), (std::vector { EventKind::ProcessStarted, EventKind::ProcessExited }));
}

TEST(SnapshotDiff, JsonNamesEveryEvent)
{
    const auto e = diffSnapshots(
        oneProcess({ makeVma(B, B + 4 * P) }), oneProcess({ makeVma(B, B + P), makeVma(B + P, B + 4 * P, "r--p") }));
    const std::string json = diffToJson(e);
    EXPECT_NE(json.find("\"event\": \"split\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"event\": \"protection\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"from\": \"rw-p\""), std::string::npos) << json;
}

} // namespace
} // namespace vmalab::snapshot
