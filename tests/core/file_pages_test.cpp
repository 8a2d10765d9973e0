// File THPs mapped by a PMD, split by VMA boundaries, zaps and reclaim, and faulted back (Linux
// 6.18; every rule measured on the running kernel, docs/kernel-findings.md).
#include "core/engine/file_pages.h"
#include "core/engine/fork.h"

#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "ops_script.h"

namespace vmalab::test {
namespace {

constexpr std::int64_t collapse = 25; // MADV_COLLAPSE

std::size_t pmdMappedPages(EngineFixture& f, std::uint64_t from, std::uint64_t pages)
{
    std::size_t n = 0;
    for (std::uint64_t i = from; i < from + pages; ++i) {
        const Pte* p = ptAt(f.mm(), EngineFixture::at(i));
        n += p && p->state == PageState::Present && p->pmdMapped;
    }
    return n;
}

std::size_t presentIn(EngineFixture& f, std::uint64_t from, std::uint64_t pages)
{
    std::size_t n = 0;
    for (std::uint64_t i = from; i < from + pages; ++i) {
        const Pte* p = ptAt(f.mm(), EngineFixture::at(i));
        n += p && p->state == PageState::Present;
    }
    return n;
}

// A 2 MiB memfd over the aligned block at page 0, one page written, collapsed: one PMD.
void collapsedShmem(EngineFixture& f)
{
    runSetup(f, "memfd 512;map 0 512 rw file 3 0;write 7 1");
    ASSERT_EQ(runCommand(f, "madv 0 512 " + std::to_string(collapse)), 0);
    ASSERT_EQ(pmdMappedPages(f, 0, 512), 512u);
}

TEST(FilePmd, VmaSplitInsideTheBlockUnmapsAllOfIt)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "prot 19 6 r"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 0u) << "a split file PMD is cleared, not remapped with PTEs";
    EXPECT_EQ(runCommand(f, "read 100 1"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 16u) << "the THP no longer fits in the VMA: fault-around's 16 pages";
    EXPECT_EQ(pmdMappedPages(f, 0, 512), 0u);
}

TEST(FilePmd, SplitOnABlockBoundaryLeavesThePmd)
{
    EngineFixture f;
    runSetup(f, "memfd 1024;map 0 1024 rw file 3 0;write 7 1");
    ASSERT_EQ(runCommand(f, "madv 0 512 " + std::to_string(collapse)), 0);
    EXPECT_EQ(runCommand(f, "prot 512 4 r"), 0);
    EXPECT_EQ(pmdMappedPages(f, 0, 512), 512u) << "the boundary at the block's end does not cut it";
}

TEST(FilePmd, PartialZapThenFaultMapsThePmdAgain)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "madv 19 6 4"), 0); // MADV_DONTNEED
    EXPECT_EQ(presentIn(f, 0, 512), 0u);
    EXPECT_EQ(runCommand(f, "read 300 1"), 0);
    EXPECT_EQ(pmdMappedPages(f, 0, 512), 512u) << "the THP stays cached and the PMD is none: do_set_pmd()";
}

TEST(FilePmd, GuardMarkerLeavesATableSoTheFolioMapsByPtes)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "madv 19 1 102"), 0); // MADV_GUARD_INSTALL
    EXPECT_EQ(presentIn(f, 0, 512), 0u);
    EXPECT_EQ(runCommand(f, "read 100 1"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 511u) << "fault-around maps the large folio whole, around the marker";
    EXPECT_EQ(pmdMappedPages(f, 0, 512), 0u);
}

TEST(FilePmd, PartialColdSplitsTheFolio)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "madv 0 512 20"), 0); // MADV_COLD of the whole THP
    EXPECT_EQ(pmdMappedPages(f, 0, 512), 512u) << "covered whole: left alone";
    EXPECT_EQ(runCommand(f, "madv 19 6 20"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 0u);
    EXPECT_EQ(runCommand(f, "read 100 1"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 16u) << "small folios now";
}

TEST(FilePmd, HolePunchSplitsIntoBuddies)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "madv 19 6 9"), 0); // MADV_REMOVE
    const File& file = *f.world.file(f.mm().vmaAt(EngineFixture::at(0))->vm_file);
    EXPECT_EQ(largeFolioAt(file, 100), (std::pair<PageOff, PageOff> { 64, 128 }));
    EXPECT_EQ(largeFolioAt(file, 300), (std::pair<PageOff, PageOff> { 256, 512 }));
    EXPECT_EQ(largeFolioAt(file, 26), (std::pair<PageOff, PageOff> { 26, 28 }));
    EXPECT_EQ(largeFolioAt(file, 25), (std::pair<PageOff, PageOff> { 25, 25 })) << "the edge page ends small";
    EXPECT_EQ(runCommand(f, "read 100 1"), 0);
    EXPECT_EQ(presentIn(f, 0, 512), 64u);
}

TEST(FilePmd, MoveKeepsThePmdOnlyWhenAligned)
{
    EngineFixture f;
    collapsedShmem(f);
    EXPECT_EQ(runCommand(f, "mremap 0 512 512 3 1024"), static_cast<std::int64_t>(EngineFixture::at(1024)));
    EXPECT_EQ(pmdMappedPages(f, 1024, 512), 512u);
    EXPECT_EQ(runCommand(f, "mremap 1024 512 512 3 2000"), static_cast<std::int64_t>(EngineFixture::at(2000)));
    EXPECT_EQ(presentIn(f, 2000, 512), 0u) << "an unaligned destination splits the PMD first";
}

// Who shares a COW page: one process may hold an index twice after MREMAP_DONTUNMAP.
TEST(CowShare, SameAddressDecidesWhenAProcessHoldsTheIndexTwice)
{
    const CowHolders holders { { 0, 0x15000 }, { 0, 0x40000 }, { 1, 0x15000 } };
    EXPECT_EQ(cowShareCountAmong(holders, 0, 0x40000), 1u) << "the child copied its page at 0x40000";
    EXPECT_EQ(cowShareCountAmong(holders, 0, 0x15000), 2u);
    EXPECT_EQ(cowShareCountAmong(holders, 1, 0x15000), 2u);
    const CowHolders moved { { 0, 0x80000 }, { 1, 0x15000 } };
    EXPECT_EQ(cowShareCountAmong(moved, 0, 0x80000), 2u) << "one holder each: a page moved after fork";
}

} // namespace
} // namespace vmalab::test
