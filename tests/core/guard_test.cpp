// Guard regions: madvise_guard_install(), madvise_guard_remove() and is_valid_guard_vma()
// (mm/madvise.c, Linux 6.13+), their interplay with faults, zaps, munmap, mremap, mprotect and
// mlock, and the VM_MAYBE_GUARD series per profile (kernel-model.md §9.4, §9.5, §17).
#include "core/engine/observe.h"

#include <gtest/gtest.h>

#include <csignal>

#include "tests/core/ops_script.h"

namespace vmalab::test {
namespace {

// 102 = MADV_GUARD_INSTALL, 103 = MADV_GUARD_REMOVE. Pages: . none, P anon, Z zero page,
// F page cache, G guard marker. The flag picture marks pages whose VMA has `gu`.
const OpCase kGuardCases[] = {
    { "install_zaps_present_pages", "map 0 4 rw;write 0 4", "madv 1 2 102", "0", "AAAA", "PGGP", VM_MAYBE_GUARD,
        "xxxx" },
    { "install_keeps_markers", "map 0 4 rw;madv 1 1 102", "madv 0 4 102", "0", "AAAA", "GGGG", VM_MAYBE_GUARD, "xxxx" },
    { "install_on_locked_einval", "map 0 4 rw;mlock 0 4", "madv 1 1 102", "-22", "AAAA", "PPPP", VM_MAYBE_GUARD,
        "...." },
    { "install_on_lockonfault_einval", "map 0 4 rw;onfault 0 4", "madv 1 1 102", "-22", "AAAA", "....", VM_MAYBE_GUARD,
        "...." },
    { "install_stops_at_locked_vma", "map 0 2 rw;map 2 2 r;mlock 2 2", "madv 0 4 102", "-22", "AABB", "GGZZ",
        VM_MAYBE_GUARD, "xx.." },
    { "install_across_hole_enomem", "map 0 2 rw;map 3 2 rw", "madv 1 3 102", "-12", "AA BB", ".G.G.", VM_MAYBE_GUARD,
        "xx.xx" },
    { "install_in_hole_only_enomem", "map 0 2 rw", "madv 2 2 102", "-12", "AA  ", "....", VM_MAYBE_GUARD, "...." },
    { "install_shared_anon", "map 0 4 rw shared;write 0 4", "madv 1 1 102", "0", "AAAA", "FGFF", VM_MAYBE_GUARD,
        "xxxx" },
    { "install_private_file_drops_cow_copy", "memfd 8;map 0 4 rw pfile 3 0;write 0 4", "madv 1 1 102", "0", "AAAA",
        "PGPP", VM_MAYBE_GUARD, "xxxx" },
    { "remove_clears_markers_keeps_gu", "map 0 4 rw;madv 0 4 102", "madv 1 2 103", "0", "AAAA", "G..G", VM_MAYBE_GUARD,
        "xxxx" },
    { "remove_keeps_present_pages", "map 0 4 rw;write 0 4;madv 1 1 102", "madv 0 4 103", "0", "AAAA", "P.PP" },
    { "remove_allowed_on_locked", "map 0 4 rw;madv 3 1 102;mlock 0 3", "madv 0 4 103", "0", "AAAB", "PPP." },
    { "remove_across_hole_enomem", "map 0 2 rw;map 3 2 rw;madv 0 2 102;madv 3 2 102", "madv 0 5 103", "-12", "AA BB",
        "....." },
    { "read_segv", "map 0 4 rw;madv 1 1 102", "read 1 1", "11", "AAAA", ".G.." },
    { "write_stops_at_guard", "map 0 4 rw;madv 1 1 102", "write 0 4", "11", "AAAA", "PG.." },
    { "dontneed_keeps_markers", "map 0 4 rw;write 0 4;madv 1 1 102", "madv 0 4 DONTNEED", "0", "AAAA", ".G.." },
    { "free_keeps_markers", "map 0 4 rw;write 0 4;madv 1 1 102", "madv 0 4 FREE", "0", "AAAA", "PGPP" },
    { "pageout_keeps_markers", "map 0 4 rw;madv 1 1 102", "madv 0 4 PAGEOUT", "0", "AAAA", ".G.." },
    { "cold_keeps_markers", "map 0 4 rw;madv 1 1 102", "madv 0 4 COLD", "0", "AAAA", ".G.." },
    { "populate_write_efault", "map 0 4 rw;madv 1 1 102", "madv 0 4 POPULATE_WRITE", "-14", "AAAA", "PG.." },
    { "populate_read_efault", "map 0 4 rw;madv 2 1 102", "madv 0 4 POPULATE_READ", "-14", "AAAA", "ZZG." },
    { "mlock_stops_at_guard", "map 0 4 rw;madv 1 1 102", "mlock 0 4", "-12", "AAAA", "PG..", VM_LOCKED, "xxxx" },
    { "munmap_drops_markers", "map 0 4 rw;madv 0 4 102", "unmap 1 2", "0", "A  B", "G..G" },
    { "map_fixed_over_markers_zaps", "map 0 4 rw;madv 1 2 102", "map 0 4 rw", "@0", "AAAA", "....", VM_MAYBE_GUARD,
        "...." },
    { "mremap_moves_markers", "map 0 4 rw;madv 1 1 102", "mremap 0 4 4 FIXED 8", "@8", "        AAAA", ".........G..",
        VM_MAYBE_GUARD, "........xxxx" },
    { "mprotect_keeps_markers_split_copies_gu", "map 0 4 rw;madv 1 1 102", "prot 1 2 r", "0", "ABBC", ".G..",
        VM_MAYBE_GUARD, "xxxx" },
};

class Guard : public ::testing::TestWithParam<OpCase>
{
};

TEST_P(Guard, MatchesPicture)
{
    EngineFixture f;
    runCase(GetParam(), f);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Guard, ::testing::ValuesIn(kGuardCases), [](const auto& row) { return std::string(row.param.name); });

TEST(Guard, ThpFaultLeavesMarkersInItsBlock)
{
    // A marker means a PTE table exists, so a later fault in the block is a 4 KiB one
    // (a PMD-level fault needs an empty PMD) and the marker survives.
    EngineFixture f;
    ASSERT_EQ(runCommand(f, "map 0 512 rw"), static_cast<std::int64_t>(EngineFixture::at(0)));
    ASSERT_EQ(runCommand(f, "madv 0 512 HUGEPAGE"), 0);
    ASSERT_EQ(runCommand(f, "madv 5 1 102"), 0);
    EXPECT_EQ(runCommand(f, "write 0 1"), 0);
    EXPECT_EQ(f.pagePicture(7), "P....G.");
}

TEST(Guard, InstallOverThpKeepsRestOfBlock)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;madv 0 512 HUGEPAGE;write 0 1");
    ASSERT_EQ(f.pagePicture(4), "PPPP") << "a THP fault maps the whole block";
    EXPECT_EQ(runCommand(f, "madv 1 1 102"), 0);
    EXPECT_EQ(f.pagePicture(4), "PGPP") << "split_huge_pmd(): the other pages stay";
}

TEST(Guard, InstallRunsUnderTheReadLockAndNamesTheAtomicBit)
{
    EngineFixture f;
    f.mmap(0, 4);
    ASSERT_EQ(runCommand(f, "madv 1 1 102"), 0);
    bool sawAtomic = false;
    for (const TraceStep& s : f.last.steps) {
        EXPECT_EQ(s.lock, Lock::MmapRead) << s.kernelFn;
        if (s.kernelFn == "vma_flag_set_atomic") {
            sawAtomic = true;
            EXPECT_NE(s.rule.find("READ lock"), std::string::npos);
            EXPECT_EQ(s.changed, std::vector<VmaId> { f.vmaAtPage(0).id });
        }
    }
    EXPECT_TRUE(sawAtomic);
}

TEST(Guard, RefusedCallLeavesMapCountAndFlags)
{
    EngineFixture f;
    runSetup(f, "map 0 4 rw;mlock 1 2");
    const std::size_t before = f.mm().mapCount();
    EXPECT_EQ(runCommand(f, "madv 1 2 102"), -EINVAL);
    EXPECT_EQ(f.mm().mapCount(), before);
    EXPECT_EQ(flagPicture(f, 4, VM_MAYBE_GUARD), "....");
}

// ---- Profiles (kernel-model.md §17): the columns this kernel cannot run are tested here.

struct ProfileCase
{
    const char* profile;
    bool gu; // the series' VM_MAYBE_GUARD
    bool fileGetsAnonVma; // v6.18's anon_vma_prepare() on every guarded VMA
};

const ProfileCase kProfiles[] = {
    { "v6.18", false, true },
    { "maybe-guard", true, false },
    { "maybe-guard-fixed", true, false },
};

class GuardProfile : public ::testing::TestWithParam<ProfileCase>
{
};

// P1: gu appears in smaps VmFlags on the whole VMA and survives GUARD_REMOVE.
TEST_P(GuardProfile, P1_VmFlagsShowGu)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    f.mmap(0, 4);
    ASSERT_EQ(runCommand(f, "madv 1 1 102"), 0);
    ASSERT_EQ(runCommand(f, "madv 1 1 103"), 0);
    EXPECT_EQ(flagPicture(f, 4, VM_MAYBE_GUARD), pc.gu ? "xxxx" : "....");
    const ObservedProcess o = observeProcess(f.world, 0);
    bool found = false;
    for (const ObservedVma& v : o.vmas) {
        if (v.start != EngineFixture::at(0))
            continue;
        found = true;
        std::string flags;
        for (const std::string& m : v.vmFlags)
            flags += m + " ";
        EXPECT_EQ(flags, pc.gu ? "rd wr mr mw me gu ac " : "rd wr mr mw me ac ");
    }
    EXPECT_TRUE(found);
}

// P2: a guarded anonymous VMA merges with a new neighbour; the series keeps gu (sticky).
TEST_P(GuardProfile, P2_GuardedAnonMergesWithNewNeighbour)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "map 0 4 rw;madv 1 1 102;map 4 4 rw");
    EXPECT_EQ(f.picture(8), "AAAAAAAA");
    EXPECT_EQ(flagPicture(f, 8, VM_MAYBE_GUARD), pc.gu ? "xxxxxxxx" : "........");
    EXPECT_EQ(f.pagePicture(8), ".G......");
}

// P2, the other direction: a non-gu VMA modified so that it merges into a gu neighbour.
TEST_P(GuardProfile, P2_ModifyMergesIntoGuardedNeighbour)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "map 0 4 rw;map 4 4 r;madv 1 1 102;prot 4 4 rw");
    EXPECT_EQ(f.picture(8), "AAAAAAAA");
    EXPECT_EQ(flagPicture(f, 8, VM_MAYBE_GUARD), pc.gu ? "xxxxxxxx" : "........");
}

// P3: two pgoff-contiguous shared memfd VMAs split by MADV_RANDOM, a guard in each, then
// MADV_NORMAL: v6.18 gave each its own anon_vma, so they stay apart; the series merges them.
TEST_P(GuardProfile, P3_FileVmasMergeOnlyWithSeries)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "memfd 16;map 0 4 rw file 3 0;map 4 4 rw file 3 4");
    ASSERT_EQ(f.picture(8), "AAAAAAAA");
    runSetup(f, "madv 0 4 RANDOM");
    ASSERT_EQ(f.picture(8), "AAAABBBB");
    runSetup(f, "madv 1 1 102;madv 5 1 102");
    if (pc.fileGetsAnonVma) {
        EXPECT_NE(f.vmaAtPage(0).anon_vma, noAnonVma);
        EXPECT_NE(f.vmaAtPage(4).anon_vma, noAnonVma);
        EXPECT_NE(f.vmaAtPage(0).anon_vma, f.vmaAtPage(4).anon_vma) << "rr differs, so no anon_vma reuse";
    }
    ASSERT_EQ(runCommand(f, "madv 0 4 NORMAL"), 0);
    EXPECT_EQ(f.picture(8), pc.fileGetsAnonVma ? "AAAABBBB" : "AAAAAAAA");
    EXPECT_EQ(flagPicture(f, 8, VM_MAYBE_GUARD), pc.gu ? "xxxxxxxx" : "........");
    EXPECT_EQ(f.pagePicture(8), ".G...G..");
}

// P9: a private file VMA whose only anonymous activity was guard install.
TEST_P(GuardProfile, P9_PrivateFileAnonVmaOnlyInV618)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "memfd 8;map 0 4 rw pfile 3 0;map 8 4 rw shared;madv 1 1 102;madv 9 1 102");
    EXPECT_EQ(f.vmaAtPage(0).anon_vma != noAnonVma, pc.fileGetsAnonVma) << "private file";
    EXPECT_EQ(f.vmaAtPage(8).anon_vma != noAnonVma, pc.fileGetsAnonVma) << "shared anonymous";
}

// Same in every profile: private anonymous VMAs get an anon_vma, errnos and locked refusals.
TEST_P(GuardProfile, SharedRulesDoNotDependOnProfile)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "map 0 4 rw;madv 1 1 102;map 8 4 rw;mlock 8 4");
    EXPECT_NE(f.vmaAtPage(0).anon_vma, noAnonVma);
    EXPECT_EQ(runCommand(f, "madv 8 1 102"), -EINVAL);
    EXPECT_EQ(runCommand(f, "madv 1 1 103"), 0);
    EXPECT_EQ(runCommand(f, "read 1 1"), 0) << "the marker is gone";
    EXPECT_EQ(runCommand(f, "madv 2 1 102"), 0);
    EXPECT_EQ(runCommand(f, "write 2 1"), SIGSEGV);
}

// The call fails at a locked VMA after flagging the first one: gu stays (set before anything
// else, never cleared).
TEST_P(GuardProfile, GuKeptWhenCallFailsLater)
{
    const ProfileCase& pc = GetParam();
    EngineFixture f(*builtinProfile(pc.profile));
    runSetup(f, "map 0 2 rw;map 2 2 r;mlock 2 2");
    EXPECT_EQ(runCommand(f, "madv 0 4 102"), -EINVAL);
    EXPECT_EQ(flagPicture(f, 4, VM_MAYBE_GUARD), pc.gu ? "xx.." : "....");
}

INSTANTIATE_TEST_SUITE_P(Profiles, GuardProfile, ::testing::ValuesIn(kProfiles), [](const auto& row) {
    std::string n = row.param.profile;
    for (char& ch : n)
        if (ch == '.' || ch == '-')
            ch = '_';
    return n;
});

// ---- MADV_COLLAPSE of private anonymous memory (madvise_collapse(); outcomes measured on 6.18.44).

std::size_t presentPages(EngineFixture& f, std::uint64_t from, std::uint64_t pages)
{
    std::size_t n = 0;
    for (std::uint64_t i = from; i < from + pages; ++i) {
        const Pte* p = ptAt(f.mm(), EngineFixture::at(i));
        n += p && p->state == PageState::Present;
    }
    return n;
}

TEST(Collapse, VmaWithoutAlignedBlockEinval)
{
    EngineFixture f;
    runSetup(f, "map 0 16 rw;write 0 16");
    EXPECT_EQ(runCommand(f, "madv 0 16 25"), -EINVAL);
    EXPECT_EQ(presentPages(f, 0, 16), 16u);
}

TEST(Collapse, BlockWithWrittenPageBecomesThp)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL) << "an empty block has nothing to collapse";
    runSetup(f, "write 0 2");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), 0);
    EXPECT_EQ(presentPages(f, 0, 512), 512u);
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), 0) << "an existing THP counts as collapsed";
    EXPECT_EQ(runCommand(f, "madv 16 16 25"), -EINVAL) << "starts inside the block, ends before the next one";
    EXPECT_EQ(runCommand(f, "madv 0 16 25"), 0) << "starts on the boundary: no whole block, nothing to do";
}

TEST(Collapse, AnonymousVmaWithoutAnonVmaRefuses)
{
    // Measured: an untouched anonymous VMA refuses MADV_COLLAPSE even for a range holding no
    // whole block; once a page has faulted in, that range is "nothing to do".
    EngineFixture f;
    runSetup(f, "map 0 512 rw");
    EXPECT_EQ(runCommand(f, "madv 0 28 25"), -EINVAL);
    runSetup(f, "read 3 1");
    EXPECT_EQ(runCommand(f, "madv 0 28 25"), -EINVAL) << "a read maps the zero page: still no anon_vma";
    runSetup(f, "write 3 1");
    EXPECT_EQ(runCommand(f, "madv 0 28 25"), 0);
}

TEST(Collapse, GuardMarkerFailsTheBlockAndSurvives)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;write 0 8;madv 5 1 102");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL);
    EXPECT_EQ(f.pagePicture(8), "PPPPPGPP");
    EXPECT_EQ(presentPages(f, 0, 512), 7u);
}

TEST(Collapse, NohugepageAndZeroPagesEinvalMixedCollapses)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;write 0 2;madv 0 512 NOHUGEPAGE");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL);
    runSetup(f, "map 512 512 rw;read 512 2");
    EXPECT_EQ(runCommand(f, "madv 512 512 25"), -EINVAL) << "zero pages only";
    runSetup(f, "map 1024 512 r;read 1024 2");
    EXPECT_EQ(runCommand(f, "madv 1024 512 25"), -EINVAL) << "read-only";
    runSetup(f, "write 520 1");
    EXPECT_EQ(runCommand(f, "madv 512 512 25"), 0);
    EXPECT_EQ(presentPages(f, 512, 512), 512u);
}

TEST(Collapse, FailedBlockDoesNotStopTheNext)
{
    EngineFixture f;
    runSetup(f, "map 0 1032 rw;write 0 1");
    EXPECT_EQ(runCommand(f, "madv 0 1032 25"), -EINVAL) << "the second block is empty";
    EXPECT_EQ(presentPages(f, 0, 512), 512u) << "the first block was collapsed anyway";
    EXPECT_EQ(presentPages(f, 512, 520), 0u);
}

// ---- MADV_COLLAPSE of shmem and files (collapse_file(); outcomes measured on 6.18.44, see
// docs/kernel-findings.md).

std::size_t pagesIn(EngineFixture& f, std::uint64_t from, std::uint64_t pages, PageState state, Pte::Kind kind)
{
    std::size_t n = 0;
    for (std::uint64_t i = from; i < from + pages; ++i) {
        const Pte* p = ptAt(f.mm(), EngineFixture::at(i));
        n += p && p->state == state && (state != PageState::Present || p->kind == kind);
    }
    return n;
}

// ---- Splitting an anonymous THP maps its never-written pages to the zero page (measured on
// 6.18.44, see docs/kernel-findings.md).

TEST(CollapseSplit, PartialColdPageoutFreeZeroTheUnwrittenPages)
{
    for (const char* advice : { "20", "21", "8" }) {
        EngineFixture f;
        runSetup(f, "map 0 512 rw;write 100 1");
        ASSERT_EQ(runCommand(f, "madv 0 512 25"), 0);
        EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 512u);
        EXPECT_EQ(runCommand(f, std::string("madv 18 6 ") + advice), 0);
        EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 1u) << advice;
        EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::ZeroPage), 511u) << advice;
        EXPECT_EQ(ptAt(f.mm(), EngineFixture::at(100))->kind, Pte::Kind::Anon) << "the written page stays";
    }
}

TEST(CollapseSplit, DontneedOnlyUnmapsAndWholeColdKeepsTheThp)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;write 100 1");
    ASSERT_EQ(runCommand(f, "madv 0 512 25"), 0);
    EXPECT_EQ(runCommand(f, "madv 0 512 20"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 512u) << "COLD of the whole block does not split";
    EXPECT_EQ(runCommand(f, "madv 0 512 8"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 512u) << "FREE of the whole block does not split";
    EXPECT_EQ(runCommand(f, "madv 18 6 4"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 506u) << "DONTNEED splits the PMD, not the folio";
    EXPECT_EQ(runCommand(f, "madv 40 6 20"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 1u) << "a later partial COLD splits the folio";
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::ZeroPage), 505u);
}

TEST(CollapseSplit, WholePageoutSplitsAndWritesAfterCollapseCount)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;write 100 1");
    ASSERT_EQ(runCommand(f, "madv 0 512 25"), 0);
    runSetup(f, "read 200 1;write 300 1");
    EXPECT_EQ(runCommand(f, "madv 0 512 21"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 2u) << "a read does not count as written";
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::ZeroPage), 510u);
}

TEST(CollapseSplit, ThpFaultLeavesUntouchedSubpagesZeroFilled)
{
    EngineFixture f;
    runSetup(f, "map 0 512 rw;madv 0 512 HUGEPAGE;write 100 1");
    ASSERT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 512u) << "a THP fault";
    EXPECT_EQ(runCommand(f, "madv 18 6 20"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::Anon), 1u);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::ZeroPage), 511u);
}

TEST(CollapseFile, ShmemBlockWithOneCachedPageBecomesOnePmd)
{
    EngineFixture f;
    runSetup(f, "memfd 1024;map 0 512 rw file 3 0");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL) << "nothing of the block is in the page cache";
    EXPECT_EQ(presentPages(f, 0, 512), 0u);
    runSetup(f, "read 7 1");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), 0);
    EXPECT_EQ(pagesIn(f, 0, 512, PageState::Present, Pte::Kind::File), 512u);
    const File& file = *f.world.file(f.mm().vmaAt(EngineFixture::at(0))->vm_file);
    EXPECT_TRUE(file.pageCache.find(0) && file.pageCache.find(511)) << "the holes were filled";
}

TEST(CollapseFile, OtherMappingsLoseTheOldPagesNotTheirMarkersOrCopies)
{
    EngineFixture f;
    runSetup(f, "memfd 1024;map 0 512 rw file 3 0;map 1024 512 rw pfile 3 0;map 2048 512 rw file 3 0");
    runSetup(f, "write 0 2;madv 4 1 102;read 1024 1;write 1025 1");
    EXPECT_EQ(runCommand(f, "madv 2048 512 25"), 0);
    EXPECT_EQ(pagesIn(f, 2048, 512, PageState::Present, Pte::Kind::File), 512u);
    EXPECT_EQ(presentPages(f, 0, 512), 0u) << "the shared mapping's small pages were replaced";
    EXPECT_EQ(pagesIn(f, 4, 1, PageState::Guard, Pte::Kind::Marker), 1u) << "its guard marker stays";
    EXPECT_EQ(pagesIn(f, 1024, 1, PageState::Present, Pte::Kind::File), 0u) << "the private mapping's file page too";
    EXPECT_EQ(pagesIn(f, 1025, 1, PageState::Present, Pte::Kind::Anon), 1u) << "its private copy stays";
}

TEST(CollapseFile, GuardMarkerInTheBlockFailsAfterTheFileCollapsed)
{
    EngineFixture f;
    runSetup(f, "memfd 1024;map 0 512 rw file 3 0;write 0 2;madv 8 1 102");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL);
    EXPECT_EQ(presentPages(f, 0, 512), 0u) << "the old pages were unmapped, and no PMD maps the new one";
    EXPECT_EQ(pagesIn(f, 8, 1, PageState::Guard, Pte::Kind::Marker), 1u);
    runSetup(f, "madv 8 1 103");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), 0) << "once the marker is gone the THP maps, VM_MAYBE_GUARD or not";
    EXPECT_EQ(presentPages(f, 0, 512), 512u);
}

TEST(CollapseFile, PrivateCopyInTheBlockFails)
{
    EngineFixture f;
    runSetup(f, "memfd 1024;map 0 512 rw pfile 3 0;write 0 1;read 1 1");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL);
    EXPECT_EQ(pagesIn(f, 0, 1, PageState::Present, Pte::Kind::Anon), 1u);
    EXPECT_EQ(presentPages(f, 1, 511), 0u);
    EngineFixture g;
    runSetup(g, "memfd 1024;map 0 512 rw pfile 3 0;read 1 1");
    EXPECT_EQ(runCommand(g, "madv 0 512 25"), 0) << "a private mapping with page-cache pages only collapses";
    EXPECT_EQ(pagesIn(g, 0, 512, PageState::Present, Pte::Kind::File), 512u);
}

TEST(CollapseFile, RefusedVmas)
{
    EngineFixture f;
    runSetup(f, "memfd 2048;map 0 512 rw file 3 256;write 0 1");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), -EINVAL) << "pgoff 1 MiB: no PMD can map the file's THPs here";
    runSetup(f, "map 1024 512 rw file 3 0;write 1024 1;madv 1024 512 15");
    EXPECT_EQ(runCommand(f, "madv 1024 512 25"), -EINVAL) << "MADV_NOHUGEPAGE";
    EngineFixture g;
    const std::int64_t fd = g.regularFile(1024);
    g.mmap(0, 512, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd, 0);
    runSetup(g, "write 0 1");
    EXPECT_EQ(runCommand(g, "madv 0 512 25"), -EINVAL) << "no CONFIG_READ_ONLY_THP_FOR_FS";
    EXPECT_EQ(madviseNotModelled(g.world, g.mm(), EngineFixture::at(0), 512 * pageSize, 25), "");
    EXPECT_EQ(presentPages(g, 0, 512), 1u);
}

TEST(CollapseFile, PagesPastTheEndOfFileBecomeReadable)
{
    EngineFixture f;
    runSetup(f, "memfd 256;map 0 512 rw file 3 0");
    EXPECT_EQ(runCommand(f, "read 300 1"), SIGBUS) << "past EOF before the collapse";
    runSetup(f, "write 0 1");
    EXPECT_EQ(runCommand(f, "madv 0 512 25"), 0);
    EXPECT_EQ(presentPages(f, 0, 512), 512u);
    EXPECT_EQ(runCommand(f, "read 300 1"), 0) << "mapped by the PMD: no SIGBUS";
}

} // namespace
} // namespace vmalab::test
