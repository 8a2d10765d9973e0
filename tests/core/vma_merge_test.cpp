// Merge and split rules of mm/vma.c (vma_merge_new_range(), vma_merge_existing_range(),
// vma_modify(), __split_vma()), written as pictures: each row runs a short script on an
// empty window and compares the VMAs of the first pages with the picture.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vmalab::test {
namespace {

// Script: "map P N PROT", "prot P N PROT", "unmap P N", "write P N", "read P N", separated by
// ';'. PROT is r, rw or none. Page numbers count from the window's start.
void runScript(EngineFixture& f, const std::string& script)
{
    std::stringstream all(script);
    std::string cmd;
    while (std::getline(all, cmd, ';')) {
        std::stringstream in(cmd);
        std::string verb, protText;
        std::uint64_t page = 0, pages = 0;
        in >> verb >> page >> pages >> protText;
        const std::int64_t prot = protText == "rw" ? EngineFixture::rw : protText == "r" ? abi::PROT_READ : 0;
        std::int64_t ret = 0;
        if (verb == "map")
            ret = f.mmap(page, pages, prot);
        else if (verb == "prot")
            ret = f.mprotect(page, pages, prot);
        else if (verb == "unmap")
            ret = f.munmap(page, pages);
        else if (verb == "write")
            ret = f.touch(page, pages, true);
        else if (verb == "read")
            ret = f.touch(page, pages, false);
        else
            FAIL() << "unknown script verb " << verb;
        ASSERT_GE(ret, 0) << "step `" << cmd << "` failed";
    }
}

struct MergeCase
{
    const char* name;
    const char* script;
    const char* after;
};

const MergeCase kMergeCases[] = {
    // New ranges (vma_merge_new_range()).
    { "new_range_joins_prev", "map 0 2 rw; map 2 2 rw", "AAAA  " },
    { "new_range_joins_next", "map 2 2 rw; map 0 2 rw", "AAAA  " },
    { "new_range_joins_both", "map 0 2 rw; map 4 2 rw; map 2 2 rw", "AAAAAA" },
    { "new_range_flags_differ", "map 0 2 rw; map 2 2 r", "AABB  " },
    { "new_range_not_adjacent", "map 0 2 rw; map 3 2 rw", "AA BB " },
    // Faulted anonymous VMAs with distinct anon_vmas: filling the hole merges with prev only.
    { "hole_between_distinct_anon_vmas", "map 0 2 rw; write 0 1; map 3 2 rw; write 3 1; map 2 1 rw", "AAABB " },
    // Only one side faulted: the other side's anon_vma is NULL, so all three merge.
    { "hole_next_to_one_faulted", "map 0 2 rw; write 0 1; map 3 2 rw; map 2 1 rw", "AAAAA " },
    // A read fault maps the zero page and creates no anon_vma.
    { "read_faults_keep_merging", "map 0 2 rw; read 0 2; map 3 2 rw; read 3 1; map 2 1 rw", "AAAAA " },
    // Modified ranges (vma_modify() / vma_merge_existing_range()).
    { "mprotect_middle_splits_in_three", "map 0 6 rw; prot 2 2 r", "AABBCC" },
    { "mprotect_back_merges_all", "map 0 6 rw; prot 2 2 r; prot 2 2 rw", "AAAAAA" },
    { "faulted_split_remerges", "map 0 6 rw; write 0 6; prot 2 2 r; prot 2 2 rw", "AAAAAA" },
    { "mprotect_start_splits_in_two", "map 0 6 rw; prot 0 2 r", "AABBBB" },
    { "left_partial_merge", "map 0 2 r; map 2 4 rw; prot 2 1 r", "AAABBB" },
    { "right_partial_merge", "map 0 4 rw; map 4 2 r; prot 3 1 r", "AAABBB" },
    { "left_whole_merge", "map 0 2 r; map 2 2 rw; map 4 2 rw; prot 4 2 none; prot 2 2 r", "AAAABB" },
    { "both_merge", "map 0 2 r; map 2 2 rw; map 4 2 r; prot 2 2 r", "AAAAAA" },
    { "mprotect_no_change_keeps_split", "map 0 2 rw; map 2 2 r; prot 0 2 rw", "AABB  " },
    // munmap splits at the edges and never re-merges.
    { "munmap_middle", "map 0 6 rw; unmap 2 2", "AA  BB" },
    { "munmap_hole_ok", "map 0 2 rw; unmap 2 2", "AA    " },
    // MAP_FIXED over the middle of an unfaulted VMA: the new range joins both remains.
    { "map_fixed_over_middle_rejoins", "map 0 6 rw; map 2 2 rw", "AAAAAA" },
    { "map_fixed_over_middle_other_prot", "map 0 6 rw; map 2 2 r", "AABBCC" },
};

class VmaMerge : public ::testing::TestWithParam<MergeCase>
{
};

TEST_P(VmaMerge, MatchesPicture)
{
    EngineFixture f;
    runScript(f, GetParam().script);
    EXPECT_EQ(f.picture(6), GetParam().after);
}

INSTANTIATE_TEST_SUITE_P(Rules, VmaMerge, ::testing::ValuesIn(kMergeCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(VmaMergeIdentity, SplitKeepsOriginalForTheModifiedSlice)
{
    EngineFixture f;
    f.mmap(0, 6);
    const VmaId original = f.vmaAtPage(0).id;
    f.mprotect(2, 2, abi::PROT_READ);
    EXPECT_EQ(f.vmaAtPage(2).id, original);
    EXPECT_NE(f.vmaAtPage(0).id, original);
    EXPECT_NE(f.vmaAtPage(4).id, original);
    EXPECT_EQ(f.vmaAtPage(4).vm_pgoff, f.vmaAtPage(0).vm_pgoff + 4) << "split parts keep contiguous pgoffs";
}

TEST(VmaMergeIdentity, MergeKeepsPrevAndReportsRemoved)
{
    EngineFixture f;
    f.mmap(0, 2, abi::PROT_READ);
    f.mmap(2, 2);
    f.mmap(4, 2, abi::PROT_READ);
    const VmaId prev = f.vmaAtPage(0).id, middle = f.vmaAtPage(2).id, next = f.vmaAtPage(4).id;
    f.mprotect(2, 2, abi::PROT_READ);
    EXPECT_EQ(f.vmaAtPage(5).id, prev);
    ASSERT_FALSE(f.last.steps.empty());
    bool reported = false;
    for (const TraceStep& s : f.last.steps)
        if (s.kernelFn == "vma_merge_existing_range" && s.removed == std::vector<VmaId> { middle, next })
            reported = true;
    EXPECT_TRUE(reported) << "the trace names both removed VMAs";
}

TEST(VmaMergeAnonVma, AdjacentVmasDifferingInProtectionShareOneAnonVma)
{
    EngineFixture f;
    f.mmap(0, 2);
    f.mmap(2, 2, abi::PROT_READ);
    f.touch(0, 1, true);
    f.mprotect(2, 2, EngineFixture::rw); // merges while B has no anon_vma
    EXPECT_EQ(f.picture(4), "AAAA");

    EngineFixture g;
    g.mmap(0, 2);
    g.mmap(2, 2, abi::PROT_READ);
    g.touch(0, 1, true);
    g.mprotect(2, 2, abi::PROT_READ | abi::PROT_EXEC);
    g.mprotect(2, 2, EngineFixture::rw);
    EXPECT_EQ(g.picture(4), "AAAA");
}

TEST(VmaMergeAnonVma, FindMergeableAnonVmaReusesNeighbour)
{
    EngineFixture f;
    f.mmap(0, 4);
    f.mprotect(2, 2, abi::PROT_READ); // "AABB", no anon_vma yet
    f.touch(0, 1, true);              // A gets a new anon_vma
    f.mprotect(2, 2, EngineFixture::rw | abi::PROT_EXEC);
    f.touch(2, 1, true); // B reuses A's: adjacent, only protection differs
    EXPECT_EQ(f.vmaAtPage(0).anon_vma, f.vmaAtPage(2).anon_vma);
    f.mprotect(2, 2, EngineFixture::rw);
    EXPECT_EQ(f.picture(4), "AAAA");
}

TEST(VmaMergeLimits, SplitFailsAtMaxMapCount)
{
    EngineFixture f;
    f.world.tuneProfile().machine.maxMapCount = 2;
    f.mmap(0, 6);
    f.mmap(8, 1);
    EXPECT_EQ(f.mprotect(2, 2, abi::PROT_READ), -ENOMEM);
    EXPECT_EQ(f.picture(6), "AAAAAA");
    EXPECT_EQ(f.munmap(2, 2), -ENOMEM) << "unmapping the inside of a VMA needs a new one";
    EXPECT_EQ(f.munmap(0, 2), 0) << "unmapping at an edge never checks the limit";
}

} // namespace
} // namespace vmalab::test
