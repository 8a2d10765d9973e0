// madvise(2): madvise_behavior_valid(), madvise_walk_vmas(), madvise_vma_behavior() for flag
// advice, madvise_dontneed_free(), madvise_pageout(), madvise_remove() and madvise_populate().
#include "tests/core/ops_script.h"

#include "core/engine/observe.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

// Pictures as in mremap_test.cpp; the flag picture marks pages whose VMA has the flag.
const OpCase kMadviseCases[] = {
    { "flag_advice_splits_middle", "map 0 6 rw", "madv 2 2 DONTFORK", "0", "AABBCC", "......", VM_DONTCOPY, "..xx.." },
    { "hole_enomem_after_both_sides", "map 0 2 rw;map 4 2 rw", "madv 1 4 DONTFORK", "-12", "AB  CD", "......",
      VM_DONTCOPY, ".x..x." },
    { "start_in_hole_still_advises", "map 4 2 rw", "madv 2 4 DONTDUMP", "-12", "    AA", "......", VM_DONTDUMP, "....xx" },
    { "same_advice_does_not_split", "map 0 4 rw;madv 0 4 DONTFORK", "madv 1 1 DONTFORK", "0", "AAAA", "...." },
    { "normal_remerges_pieces", "map 0 6 rw;write 0 6;madv 1 2 RANDOM;madv 3 2 SEQUENTIAL", "madv 0 6 NORMAL", "0",
      "AAAAAA", "PPPPPP", VM_RAND_READ | VM_SEQ_READ, "......" },
    { "sequential_replaces_random", "map 0 2 rw;madv 0 2 RANDOM", "madv 0 2 SEQUENTIAL", "0", "AA", "..", VM_RAND_READ, ".." },
    { "wipeonfork_refused_on_shared", "map 0 2 rw;map 2 2 rw shared", "madv 0 4 WIPEONFORK", "-22", "AABB", "....",
      VM_WIPEONFORK, "xx.." },
    { "wipeonfork_refused_on_file", "memfd 8;map 0 2 rw pfile 3 0", "madv 0 2 WIPEONFORK", "-22", "AA", "..", VM_WIPEONFORK, ".." },
    { "mergeable_ignored_on_shared", "map 0 2 rw shared", "madv 0 2 MERGEABLE", "0", "AA", "..", VM_MERGEABLE, ".." },
    { "mergeable_on_private", "map 0 2 rw", "madv 0 1 MERGEABLE", "0", "AB", "..", VM_MERGEABLE, "x." },
    { "nohugepage_replaces_hugepage", "map 0 4 rw;madv 0 4 HUGEPAGE", "madv 0 2 NOHUGEPAGE", "0", "AABB", "....",
      VM_HUGEPAGE, "..xx" },
    { "dodump_clears", "map 0 2 rw;madv 0 2 DONTDUMP", "madv 0 2 DODUMP", "0", "AA", "..", VM_DONTDUMP, ".." },
    { "unknown_advice_before_length", "map 0 2 rw", "madv 0 0 5", "-22", "AA", ".." },
    { "zero_length_is_a_noop", "", "madv 0 0 NORMAL", "0", "  ", ".." },
    { "dontneed_zaps", "map 0 4 rw;write 0 4", "madv 1 2 DONTNEED", "0", "AAAA", "P..P" },
    { "dontneed_stops_at_locked_vma", "map 0 4 rw;write 0 4;mlock 2 2", "madv 0 4 DONTNEED", "-22", "AABB", "..PP" },
    { "dontneed_locked_allowed", "map 0 2 rw;mlock 0 2", "madv 0 2 DONTNEED_LOCKED", "0", "AA", ".." },
    { "dontneed_file_pages_refault_later", "memfd 4;map 0 2 rw file 3 0;write 0 2", "madv 0 2 DONTNEED", "0", "AA", ".." },
    { "free_keeps_pages", "map 0 2 rw;write 0 2", "madv 0 2 FREE", "0", "AA", "PP" },
    { "free_refused_on_shared", "map 0 2 rw shared;write 0 2", "madv 0 2 FREE", "-22", "AA", "FF" },
    { "willneed_changes_no_pte", "map 0 2 rw", "madv 0 2 WILLNEED", "0", "AA", ".." },
    { "cold_changes_nothing", "map 0 2 rw;write 0 2", "madv 0 2 COLD", "0", "AA", "PP" },
    { "pageout_unmaps_file_pages_only", "memfd 4;map 0 2 rw file 3 0;map 2 2 rw;write 0 4", "madv 0 4 PAGEOUT", "0",
      "AABB", "..PP" },
    { "pageout_skips_pages_mapped_twice", "memfd 4;map 0 2 rw file 3 0;map 4 2 r file 3 0;write 0 2;read 4 2",
      "madv 0 2 PAGEOUT", "0", "AA  BB", "FF..FF" },
    { "pageout_refused_on_locked", "map 0 2 rw;mlock 0 2", "madv 0 2 PAGEOUT", "-22", "AA", "PP" },
    { "remove_punches_hole_everywhere", "memfd 4;map 0 4 rw file 3 0;map 6 4 r file 3 0;write 0 4;read 6 4",
      "madv 1 2 REMOVE", "0", "AAAA  BBBB", "F..F..F..F" },
    { "remove_refused_on_private", "memfd 4;map 0 2 rw pfile 3 0", "madv 0 2 REMOVE", "-13", "AA", ".." },
    { "remove_refused_on_anonymous", "map 0 2 rw", "madv 0 2 REMOVE", "-22", "AA", ".." },
    { "populate_read_maps_zero_page", "map 0 2 rw", "madv 0 2 POPULATE_READ", "0", "AA", "ZZ" },
    { "populate_write_breaks_zero_page", "map 0 2 rw;read 0 2", "madv 0 2 POPULATE_WRITE", "0", "AA", "PP" },
    { "populate_write_on_readonly_einval", "map 0 2 r", "madv 0 2 POPULATE_WRITE", "-22", "AA", ".." },
    { "populate_read_on_protnone_einval", "map 0 2 none", "madv 0 2 POPULATE_READ", "-22", "AA", ".." },
    { "populate_stops_at_hole", "map 0 2 rw;map 3 1 rw", "madv 0 4 POPULATE_WRITE", "-12", "AA B", "PP.." },
    { "populate_beyond_eof_efault", "memfd 1;map 0 2 rw file 3 0", "madv 0 2 POPULATE_WRITE", "-14", "AA", "F." },
};

class Madvise : public ::testing::TestWithParam<OpCase> {};

TEST_P(Madvise, MatchesPicture)
{
    EngineFixture f;
    runCase(GetParam(), f);
}

INSTANTIATE_TEST_SUITE_P(Rules, Madvise, ::testing::ValuesIn(kMadviseCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(Madvise, SplitBeyondMaxMapCountIsEagain)
{
    EngineFixture f;
    f.mmap(0, 4);
    f.world.tuneProfile().machine.maxMapCount = 1;
    EXPECT_EQ(runCommand(f, "madv 1 1 DONTFORK"), -EAGAIN);
    EXPECT_EQ(f.picture(4), "AAAA");
}

TEST(Madvise, UnalignedStartAndModelledAdvice)
{
    EngineFixture f;
    f.mmap(0, 2);
    EXPECT_EQ(f.op([](OpContext& c) { return doMadvise(c, EngineFixture::at(0) + 1, pageSize, 0); }), -EINVAL);
    EXPECT_TRUE(madviseModelled(102)) << "MADV_GUARD_INSTALL";
    EXPECT_TRUE(madviseModelled(103)) << "MADV_GUARD_REMOVE";
    EXPECT_TRUE(madviseModelled(25)) << "MADV_COLLAPSE";
    EXPECT_TRUE(madviseModelled(4));
}

TEST(Madvise, WillneedReadsRegularFileIntoPageCache)
{
    EngineFixture f;
    const std::int64_t fd = f.regularFile(8);
    f.mmap(0, 4, EngineFixture::rw, abi::MAP_PRIVATE | abi::MAP_FIXED, fd, 2);
    ASSERT_EQ(runCommand(f, "madv 0 4 WILLNEED"), 0);
    const File* file = f.world.file(f.mm().fds.at(static_cast<int>(fd)));
    EXPECT_TRUE(file->pageCache.find(2));
    EXPECT_TRUE(file->pageCache.find(5));
    EXPECT_FALSE(file->pageCache.find(6));
    EXPECT_EQ(f.pagePicture(4), "....");
}

TEST(AnonName, NeedsConfigAndNamesMergeByContent)
{
    EngineFixture none;
    none.mmap(0, 2);
    EXPECT_EQ(none.op([](OpContext& c) { return doSetAnonName(c, EngineFixture::at(0), pageSize, "x"); }), -EINVAL);

    MachineConfig m;
    m.anonVmaName = true;
    EngineFixture f(*builtinProfile("maybe-guard-fixed", m));
    f.mmap(0, 4);
    auto name = [&](std::uint64_t page, std::uint64_t pages, const char* n) {
        return f.op([&](OpContext& c) { return doSetAnonName(c, EngineFixture::at(page), pages * pageSize, n); });
    };
    EXPECT_EQ(name(0, 1, "buf"), 0);
    EXPECT_EQ(name(2, 1, "buf"), 0);
    EXPECT_EQ(f.picture(4), "ABCD");
    EXPECT_EQ(name(1, 1, "buf"), 0) << "the same name, by content, lets the pieces merge";
    EXPECT_EQ(f.picture(4), "AAAB");
    EXPECT_EQ(f.vmaAtPage(0).anon_name, "buf");
    EXPECT_EQ(name(0, 1, "a[b]"), -EINVAL) << "brackets are not allowed in names";
    EXPECT_EQ(name(0, 6, "buf"), -ENOMEM) << "a hole after the VMAs";
    const std::int64_t fd = f.memfd(4);
    f.mmap(8, 2, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd, 0);
    EXPECT_EQ(name(8, 2, "buf"), -EBADF) << "file mappings cannot be named";
}

// A machine with swap: MADV_PAGEOUT sends exclusive anonymous pages to swap (smaps Swap,
// pagemap `swap`); a later access swaps them back in. The zero page and pages shared
// copy-on-write stay. This machine has no swap, so the rule is checked here only.
TEST(Madvise, PageoutWithSwapMakesSwapEntriesAndFaultsSwapThemIn)
{
    EngineFixture f;
    f.world.tuneProfile().machine.swap = true;
    f.mmap(0, 8);
    f.touch(0, 4, true);
    f.touch(4, 2, false); // zero pages
    ASSERT_EQ(f.op([&](OpContext& c) { return doMadvise(c, EngineFixture::at(0), 8 * pageSize, abi::MADV_PAGEOUT); }), 0);
    for (std::uint64_t page = 0; page < 4; ++page)
        EXPECT_EQ(ptAt(f.mm(), EngineFixture::at(page))->state, PageState::Swap) << page;
    EXPECT_EQ(ptAt(f.mm(), EngineFixture::at(4))->kind, Pte::Kind::ZeroPage);
    const ObservedProcess o = observeWorld(f.world).at(0);
    const ObservedVma* v = nullptr;
    for (const ObservedVma& w : o.vmas)
        if (w.start == EngineFixture::at(0))
            v = &w;
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->kb("Swap"), 16u);
    EXPECT_EQ(v->kb("Rss"), 0u);
    EXPECT_EQ(f.touch(1, 1, false), 0);
    EXPECT_EQ(ptAt(f.mm(), EngineFixture::at(1))->state, PageState::Present);
    EXPECT_EQ(ptAt(f.mm(), EngineFixture::at(1))->kind, Pte::Kind::Anon);
}

} // namespace
} // namespace vmalab::test
