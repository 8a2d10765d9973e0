#include "core/snapshot/snapshot_summary.h"
#include "tests/snapshot/snapshot_test_util.h"

#include <gtest/gtest.h>

namespace vmalab::snapshot {
namespace {

using testing::makeVma;
using testing::oneProcess;

constexpr Addr K = 4096;

SnapshotVma fileVma(Addr s, Addr e, const std::string& perms, const std::string& name)
{
    SnapshotVma v = makeVma(s, e, perms, name);
    v.vma.inode = 1234;
    v.vma.devMajor = 8;
    v.vma.devMinor = 3;
    return v;
}

TEST(RegionKind, FollowsWhatMapsShows)
{
    auto kind = [](const SnapshotVma& v) { return regionKindOf(v.vma); };
    EXPECT_EQ(kind(makeVma(0, K, "rw-p", "[heap]")), RegionKind::Heap);
    EXPECT_EQ(kind(makeVma(0, K, "rw-p", "[stack]")), RegionKind::Stack);
    EXPECT_EQ(kind(makeVma(0, K, "rw-p", "[stack:123]")), RegionKind::Stack);
    EXPECT_EQ(kind(makeVma(0, K, "rw-p", "")), RegionKind::Anonymous);
    EXPECT_EQ(kind(makeVma(0, K, "rw-p", "[anon:arena]")), RegionKind::Anonymous);
    EXPECT_EQ(kind(makeVma(0, K, "rw-s", "[anon_shmem:ring]")), RegionKind::Shmem);
    EXPECT_EQ(kind(fileVma(0, K, "rw-s", "/dev/zero (deleted)")), RegionKind::Shmem);
    EXPECT_EQ(kind(fileVma(0, K, "rw-s", "/memfd:jit (deleted)")), RegionKind::Shmem);
    EXPECT_EQ(kind(fileVma(0, K, "r--s", "/SYSV00000000 (deleted)")), RegionKind::Shmem);
    EXPECT_EQ(kind(fileVma(0, K, "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6")), RegionKind::File);
    EXPECT_EQ(kind(fileVma(0, K, "r--p", "/tmp/a file with spaces (deleted)")), RegionKind::File);
    EXPECT_EQ(kind(makeVma(0, K, "r-xp", "[vdso]")), RegionKind::Special);
    EXPECT_EQ(kind(makeVma(0, K, "--xp", "[vsyscall]")), RegionKind::Special);
}

TEST(SummarizeProcess, TotalsLargestAndFragmentedStretches)
{
    // A library (3 VMAs side by side), a gap, a guarded arena of 4 VMAs side by side, a gap,
    // the heap alone.
    const Snapshot s = oneProcess(
        {
            fileVma(0x10000, 0x12000, "r--p", "/lib/x.so"),
            fileVma(0x12000, 0x15000, "r-xp", "/lib/x.so"),
            fileVma(0x15000, 0x16000, "rw-p", "/lib/x.so"),
            makeVma(0x20000, 0x21000, "---p"),
            makeVma(0x21000, 0x29000, "rw-p"),
            makeVma(0x29000, 0x2a000, "---p"),
            makeVma(0x2a000, 0x3a000, "rw-p"),
            makeVma(0x50000, 0x90000, "rw-p", "[heap]"),
        },
        { { 0x21000, 0x23000, PageState::Present }, { 0x29000, 0x2a000, PageState::Guard },
            { 0x50000, 0x51000, PageState::Present } });
    const ProcessSummary sum = summarizeProcess(s.processes.front(), 2);
    EXPECT_EQ(sum.pid, 42);
    EXPECT_EQ(sum.total.vmas, 8u);
    const auto& anon = sum.kinds[static_cast<std::size_t>(RegionKind::Anonymous)];
    EXPECT_EQ(anon.vmas, 4u);
    EXPECT_EQ(anon.sizeBytes, 0x1a000u);
    EXPECT_EQ(anon.rssBytes, 2 * K);
    EXPECT_EQ(anon.guardPages, 1u);
    EXPECT_EQ(sum.kinds[static_cast<std::size_t>(RegionKind::File)].vmas, 3u);
    EXPECT_EQ(sum.kinds[static_cast<std::size_t>(RegionKind::Heap)].rssBytes, K);
    EXPECT_EQ(sum.total.rssBytes, 3 * K);

    ASSERT_EQ(sum.largest.size(), 2u); // bounded by `top`
    EXPECT_EQ(sum.largest[0].name, "[heap]");
    EXPECT_EQ(sum.largest[1].start, 0x2a000u);

    ASSERT_EQ(sum.mostFragmented.size(), 2u);
    EXPECT_EQ(sum.mostFragmented[0].start, 0x20000u);
    EXPECT_EQ(sum.mostFragmented[0].end, 0x3a000u);
    EXPECT_EQ(sum.mostFragmented[0].vmas, 4u);
    EXPECT_EQ(sum.mostFragmented[1].vmas, 3u);
    EXPECT_EQ(sum.mostFragmented[1].firstName, "/lib/x.so");
}

TEST(SummarizeProcess, LoneVmasAreNotStretches)
{
    const Snapshot s = oneProcess({ makeVma(0x10000, 0x11000), makeVma(0x20000, 0x21000) });
    EXPECT_TRUE(summarizeProcess(s.processes.front()).mostFragmented.empty());
}

} // namespace
} // namespace vmalab::snapshot
