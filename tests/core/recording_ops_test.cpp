// The calls recordings add: observe(), open_mapped(), and placement by a recorded result.

#include "core/engine/snapshot_world.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "engine_fixture.h"

namespace vmalab::test {
namespace {

constexpr std::int64_t oRdonly = 0, oWronly = 1, oRdwr = 2; // open(2) access modes

class Observe : public ::testing::Test, public EngineFixture
{
protected:
    std::int64_t observe(std::uint64_t page, std::uint64_t pages, ObservedPageState s)
    {
        return op([&](OpContext& c) { return doObservePages(c, at(page), pages * pageSize, s); });
    }
};

TEST_F(Observe, ParsesTheFiveStates)
{
    EXPECT_EQ(parseObservedPageState("anon"), ObservedPageState::Anon);
    EXPECT_EQ(parseObservedPageState("guard"), ObservedPageState::Guard);
    EXPECT_FALSE(parseObservedPageState("present"));
}

TEST_F(Observe, AnonPreparesTheAnonVma)
{
    mmap(0, 3);
    EXPECT_EQ(vmaAtPage(0).anon_vma, noAnonVma);
    EXPECT_EQ(observe(1, 1, ObservedPageState::Anon), 0);
    EXPECT_NE(vmaAtPage(0).anon_vma, noAnonVma);
    EXPECT_EQ(pagePicture(3), ".P.");
}

// Two VMAs that faulted on their own have distinct anon_vmas: the range between them merges
// with prev only, as vma_merge_new_range() does. Unobserved, all three become one.
TEST_F(Observe, ObservedNeighboursDecideTheMerge)
{
    mmap(0, 2);
    mmap(3, 2);
    observe(0, 1, ObservedPageState::Anon);
    observe(3, 1, ObservedPageState::Anon);
    mmap(2, 1);
    EXPECT_EQ(picture(6), "AAABB ");
}

TEST_F(Observe, UnobservedNeighboursMergeWhole)
{
    mmap(0, 2);
    mmap(3, 2);
    mmap(2, 1);
    EXPECT_EQ(picture(6), "AAAAA ");
}

TEST_F(Observe, FileInAPrivateAnonVmaIsTheZeroPage)
{
    mmap(0, 2);
    observe(0, 1, ObservedPageState::File);
    EXPECT_EQ(pagePicture(2), "Z.");
    EXPECT_EQ(vmaAtPage(0).anon_vma, noAnonVma);
}

TEST_F(Observe, GuardAndNoneSetTheEntries)
{
    mmap(0, 3);
    observe(0, 3, ObservedPageState::Anon);
    observe(1, 1, ObservedPageState::Guard);
    observe(2, 1, ObservedPageState::None);
    EXPECT_EQ(pagePicture(3), "PG.");
}

TEST_F(Observe, NoPermissionCheck)
{
    mmap(0, 2, abi::PROT_NONE);
    observe(0, 1, ObservedPageState::Anon);
    EXPECT_EQ(pagePicture(2), "P.");
}

TEST_F(Observe, APageBelowAGrowsdownVmaGrowsIt)
{
    ASSERT_EQ(mmap(300, 2, rw, anonFixed | abi::MAP_GROWSDOWN), static_cast<std::int64_t>(at(300)));
    observe(298, 1, ObservedPageState::Anon);
    ASSERT_TRUE(mm().vmaAt(at(298)));
    EXPECT_EQ(vmaAtPage(300).vm_start, at(298));
    EXPECT_EQ(ptAt(mm(), at(298))->state, PageState::Present);
}

TEST_F(Observe, GrowthStopsAtTheStackGuardGap)
{
    mmap(0, 1);
    ASSERT_EQ(mmap(300, 2, rw, anonFixed | abi::MAP_GROWSDOWN), static_cast<std::int64_t>(at(300)));
    observe(100, 1, ObservedPageState::Anon);
    EXPECT_EQ(vmaAtPage(300).vm_start, at(300)) << "within stack_guard_gap of the VMA at page 0";
}

class Placement : public ::testing::Test, public EngineFixture
{
protected:
    std::int64_t mmapRecorded(std::uint64_t len, Addr recorded)
    {
        return op([&](OpContext& c) {
            return doMmap(c, 0, len, rw, abi::MAP_PRIVATE | abi::MAP_ANONYMOUS, -1, 0, recorded);
        });
    }
};

TEST_F(Placement, FollowsTheRecordingWhenFree)
{
    EXPECT_EQ(mmapRecorded(2 * pageSize, at(5)), static_cast<std::int64_t>(at(5)));
    EXPECT_EQ(picture(8), "     AA ");
    EXPECT_NE(last.steps.front().rule.find("recording"), std::string::npos);
}

TEST_F(Placement, PlacesItselfWhenTheRecordedRangeIsTaken)
{
    mmap(6, 1);
    const std::int64_t got = mmapRecorded(2 * pageSize, at(5));
    EXPECT_NE(got, static_cast<std::int64_t>(at(5)));
    EXPECT_GT(got, 0);
}

TEST_F(Placement, MremapMayMoveFollowsTheRecording)
{
    mmap(0, 2);
    mmap(2, 1, abi::PROT_READ);
    const std::int64_t got = op(
        [&](OpContext& c) { return doMremap(c, at(0), 2 * pageSize, 4 * pageSize, abi::MREMAP_MAYMOVE, 0, at(20)); });
    EXPECT_EQ(got, static_cast<std::int64_t>(at(20)));
    EXPECT_EQ(picture(24), "  A                 BBBB");
}

// A snapshot's file mapping and a new mapping through open_mapped() of the same device and
// inode are one file: a continuing mapping merges with the snapshot's VMA.
class OpenMapped : public ::testing::Test
{
protected:
    OpenMapped()
    {
        snapshot::Snapshot snap;
        snapshot::SnapshotProcess p;
        p.pid = 7;
        snapshot::SnapshotVma v;
        v.vma.start = base;
        v.vma.end = base + 2 * pageSize;
        v.vma.perms = "r--p";
        v.vma.devMajor = 8;
        v.vma.devMinor = 3;
        v.vma.inode = 1835102;
        v.vma.name = "/usr/lib/libc.so.6";
        v.vma.vmFlags = { "rd", "mr", "mw", "me" };
        p.vmas.push_back(v);
        p.pages.push_back({ PageRun { base, base + 2 * pageSize, PageState::None }, 0 });
        snap.processes.push_back(p);
        world = *worldFromSnapshot(snap, *builtinProfile("v6.18"));
    }
    template <typename F> std::int64_t op(F&& f)
    {
        OpTrace trace;
        Tracer t(trace);
        OpContext c { world, world.procs[0], t };
        return f(c);
    }
    std::int64_t open(std::int64_t flags)
    {
        return op(
            [&](OpContext& c) { return doOpenMapped(c, "/usr/lib/libc.so.6", "08:03", 1835102, 1922136, flags); });
    }
    static constexpr Addr base = 0x7f0000000000;
    World world;
};

TEST_F(OpenMapped, SharesTheSnapshotsFileSoAContinuingMappingMerges)
{
    const std::int64_t fd = open(oRdonly);
    ASSERT_GE(fd, 3);
    const std::int64_t got = op([&](OpContext& c) {
        return doMmap(
            c, base + 2 * pageSize, pageSize, abi::PROT_READ, abi::MAP_PRIVATE | abi::MAP_FIXED, fd, 2 * pageSize);
    });
    ASSERT_EQ(got, static_cast<std::int64_t>(base + 2 * pageSize));
    ASSERT_EQ(world.procs[0].mapCount(), 1u);
    EXPECT_EQ(world.procs[0].vmaAt(base)->vm_end, base + 3 * pageSize);
    EXPECT_EQ(world.file(world.procs[0].vmaAt(base)->vm_file)->size, 1922136u);
}

TEST_F(OpenMapped, ReadOnlySharedMappingsCannotBecomeWritable)
{
    const std::int64_t fd = open(oRdonly);
    const Addr where = base + 16 * pageSize;
    const std::int64_t shared = abi::MAP_SHARED | abi::MAP_FIXED;
    EXPECT_EQ(
        op([&](OpContext& c) { return doMmap(c, where, pageSize, abi::PROT_READ | abi::PROT_WRITE, shared, fd, 0); }),
        -EACCES);
    ASSERT_EQ(op([&](OpContext& c) { return doMmap(c, where, pageSize, abi::PROT_READ, shared, fd, 0); }),
        static_cast<std::int64_t>(where));
    const VmFlags f = world.procs[0].vmaAt(where)->vm_flags;
    EXPECT_TRUE(f & VM_MAYSHARE);
    EXPECT_FALSE(f & VM_SHARED);
    EXPECT_FALSE(f & VM_MAYWRITE);
}

TEST_F(OpenMapped, ReadWriteSharedMappingsAreShared)
{
    const std::int64_t fd = open(oRdwr);
    const Addr where = base + 16 * pageSize;
    ASSERT_EQ(op([&](OpContext& c) {
        return doMmap(c, where, pageSize, abi::PROT_READ, abi::MAP_SHARED | abi::MAP_FIXED, fd, 0);
    }),
        static_cast<std::int64_t>(where));
    const VmFlags f = world.procs[0].vmaAt(where)->vm_flags;
    EXPECT_TRUE(f & VM_SHARED);
    EXPECT_TRUE(f & VM_MAYWRITE);
}

TEST_F(OpenMapped, WriteOnlyCannotBeMapped)
{
    const std::int64_t fd = open(oWronly);
    EXPECT_EQ(op([&](OpContext& c) {
        return doMmap(c, base + 16 * pageSize, pageSize, abi::PROT_READ, abi::MAP_PRIVATE | abi::MAP_FIXED, fd, 0);
    }),
        -EACCES);
}

TEST_F(OpenMapped, BadDeviceIsEinval)
{
    EXPECT_EQ(op([&](OpContext& c) { return doOpenMapped(c, "/x", "0803", 1, 1, 0); }), -EINVAL);
}

} // namespace
} // namespace vmalab::test
