// mremap(2): check_mremap_params(), check_prep_vma(), shrink_vma(), expand_vma(), mremap_to(),
// move_vma(), copy_vma() and the 6.17 multi-VMA remap_move(), as pictures.
#include "tests/core/ops_script.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

// Pictures: one column per page of the window; VMAs lettered in address order; pages '.' none,
// 'P' anonymous, 'Z' zero page, 'F' file page.
const OpCase kMremapCases[] = {
    { "shrink_unmaps_tail", "map 0 6 rw;write 0 6", "mremap 0 6 2 0", "@0", "AA    ", "PP...." },
    { "shrink_may_run_over_holes", "map 0 2 rw;map 4 2 rw", "mremap 0 6 1 0", "@0", "A     ", "......" },
    { "noop_spans_hole", "map 0 2 rw", "mremap 0 6 6 0", "@0", "AA    ", "......" },
    { "noop_start_in_hole", "map 0 2 rw", "mremap 3 1 1 0", "-14", "AA    ", "......" },
    { "grow_in_place_merges_next", "map 0 2 rw;map 4 2 rw", "mremap 0 2 4 0", "@0", "AAAAAA", "......" },
    { "grow_blocked_without_maymove", "map 0 2 rw;map 2 2 r", "mremap 0 2 3 0", "-12", "AABB", "...." },
    { "grow_must_end_at_vma_end", "map 0 4 rw", "mremap 0 2 3 0", "-12", "AAAA  ", "......" },
    { "grow_of_locked_populates", "map 0 2 rw;mlock 0 2", "mremap 0 2 4 0", "@0", "AAAA  ", "PPPP..", VM_LOCKED, "xxxx.." },
    { "resize_past_vma_end_efault", "map 0 2 rw;map 2 2 r", "mremap 0 4 6 FIXED 6", "-14", "AABB        ", "............" },
    { "faulted_move_keeps_pgoff", "map 0 2 rw;write 0 2;map 6 2 rw", "mremap 0 2 2 FIXED 4", "@4", "    AABB    ", "....PP......" },
    { "unfaulted_move_takes_new_pgoff", "map 0 2 rw;map 6 2 rw", "mremap 0 2 2 FIXED 4", "@4", "    AAAA    ", "............" },
    { "faulted_piece_moved_back_remerges", "map 0 4 rw;write 0 4;mremap 2 2 2 FIXED 8", "mremap 8 2 2 FIXED 2", "@2",
      "AAAA        ", "PPPP........" },
    { "fixed_target_unmapped_first", "map 0 2 rw;write 0 2;map 4 4 r", "mremap 0 2 2 FIXED 5", "@5", "    ABBC    ",
      ".....PP....." },
    { "fixed_grow_moves_and_extends", "map 0 2 rw;write 0 2", "mremap 0 2 4 FIXED 6", "@6", "      AAAA  ", "......PP...." },
    { "fixed_shrink_moves_the_rest", "map 0 4 rw;write 0 4", "mremap 0 4 2 FIXED 6", "@6", "      AA    ", "......PP...." },
    { "overlap_einval", "map 0 4 rw", "mremap 0 4 4 FIXED 2", "-22", "AAAA  ", "......" },
    { "fixed_needs_maymove", "map 0 2 rw", "mremap 0 2 2 FIXED_ONLY 6", "-22", "AA      ", "........" },
    { "dontunmap_cannot_resize", "map 0 2 rw", "mremap 0 2 3 DONTUNMAP_FIXED 6", "-22", "AA      ", "........" },
    { "dontunmap_keeps_empty_source_unlocked", "map 0 4 rw;mlock 0 4", "mremap 1 2 2 DONTUNMAP_FIXED 8", "@8",
      "AAAA    BB  ", "P..P....PP..", VM_LOCKED, "........xx.." },
    { "multi_vma_move_keeps_gaps", "map 0 2 rw;map 2 2 r;map 5 1 rw;write 0 1", "mremap 0 6 6 FIXED 6", "@6",
      "      AABB C", "......P....." },
    { "multi_vma_move_not_from_hole", "map 2 2 rw", "mremap 0 4 4 FIXED 6", "-14", "  AA      ", ".........." },
    { "private_old_len_zero_einval", "map 0 2 rw", "mremap 0 0 2 FIXED 6", "-22", "AA      ", "........" },
    { "shared_old_len_zero_duplicates", "map 0 2 rw shared;write 0 2", "mremap 0 0 2 FIXED 6", "@6", "AA    BB",
      "FF......" },
    { "unknown_flag_einval", "map 0 2 rw", "mremap 0 2 2 8", "-22", "AA", ".." },
};

class Mremap : public ::testing::TestWithParam<OpCase> {};

TEST_P(Mremap, MatchesPicture)
{
    EngineFixture f;
    runCase(GetParam(), f);
}

INSTANTIATE_TEST_SUITE_P(Rules, Mremap, ::testing::ValuesIn(kMremapCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(Mremap, ArgumentChecksBeforeAnyLookup)
{
    EngineFixture f;
    auto call = [&](Addr a, std::uint64_t oldLen, std::uint64_t newLen, std::int64_t flags, Addr to) {
        return f.op([&](OpContext& c) { return doMremap(c, a, oldLen, newLen, flags, to); });
    };
    const Addr w = EngineFixture::window;
    EXPECT_EQ(call(w + 1, pageSize, pageSize, 0, 0), -EINVAL);
    EXPECT_EQ(call(w, pageSize, 0, 0, 0), -EINVAL);
    EXPECT_EQ(call(w, pageSize, pageSize, 3, w + 1), -EINVAL) << "unaligned new address";
    EXPECT_EQ(call(w, 1, 2, 5, w + 8 * pageSize), -EFAULT) << "DONTUNMAP compares the rounded lengths; nothing is mapped";
}

TEST(Mremap, FaultedMoveKeepsAnonVmaAndPgoff)
{
    EngineFixture f;
    f.mmap(0, 2);
    f.touch(0, 1, true);
    const Vma before = f.vmaAtPage(0);
    ASSERT_EQ(runCommand(f, "mremap 0 2 2 FIXED 8"), static_cast<std::int64_t>(EngineFixture::at(8)));
    const Vma& after = f.vmaAtPage(8);
    EXPECT_EQ(after.anon_vma, before.anon_vma);
    EXPECT_EQ(after.vm_pgoff, before.vm_pgoff);
    EXPECT_EQ(after.vm_flags, before.vm_flags);
}

TEST(Mremap, DontunmapOfWholeVmaDropsItsAnonVma)
{
    EngineFixture f;
    f.mmap(0, 2);
    f.touch(0, 2, true);
    ASSERT_EQ(runCommand(f, "mremap 0 2 2 DONTUNMAP_FIXED 8"), static_cast<std::int64_t>(EngineFixture::at(8)));
    EXPECT_EQ(f.vmaAtPage(0).anon_vma, noAnonVma) << "unlink_anon_vmas() of the emptied source";
    EXPECT_NE(f.vmaAtPage(8).anon_vma, noAnonVma);
    EXPECT_TRUE(f.vmaAtPage(0).vm_flags & VM_ACCOUNT) << "the source keeps its accounting";
}

} // namespace
} // namespace vmalab::test
