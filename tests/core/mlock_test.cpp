// mlock(2), mlock2(2), munlock(2): do_mlock(), apply_vma_lock_flags(), mlock_fixup() and the
// population that follows (__mm_populate()).
#include "tests/core/ops_script.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

const OpCase kMlockCases[] = {
    { "locks_slice_and_populates", "map 0 4 rw", "mlock 1 2", "0", "ABBC", ".PP.", VM_LOCKED, ".xx." },
    { "readonly_maps_zero_page", "map 0 2 r", "mlock 0 2", "0", "AA", "ZZ", VM_LOCKED, "xx" },
    { "onfault_does_not_populate", "map 0 4 rw", "onfault 0 2", "0", "AABB", "....", VM_LOCKONFAULT, "xx.." },
    { "plain_mlock_clears_onfault", "map 0 4 rw;onfault 0 4", "mlock 0 4", "0", "AAAA", "PPPP", VM_LOCKONFAULT, "...." },
    { "hole_stops_without_populating", "map 0 2 rw;map 3 2 rw", "mlock 0 5", "-12", "AA BB", ".....", VM_LOCKED, "xx..." },
    { "start_in_hole_changes_nothing", "map 2 2 rw", "mlock 0 4", "-12", "  AA", "....", VM_LOCKED, "...." },
    { "protnone_locks_but_enomem", "map 0 2 none;map 2 2 rw", "mlock 0 4", "-12", "AABB", "....", VM_LOCKED, "xxxx" },
    { "beyond_eof_enomem", "memfd 1;map 0 2 rw file 3 0", "mlock 0 2", "-12", "AA", "F.", VM_LOCKED, "xx" },
    { "already_locked_no_split", "map 0 4 rw;mlock 0 4", "mlock 1 1", "0", "AAAA", "PPPP", VM_LOCKED, "xxxx" },
    { "munlock_remerges", "map 0 6 rw;mlock 1 2;onfault 4 1", "munlock 0 6", "0", "AAAAAA", ".PP...",
      VM_LOCKED | VM_LOCKONFAULT, "......" },
    { "munlock_hole_after_first", "map 0 2 rw;map 3 2 rw;mlock 0 2;mlock 3 2", "munlock 0 5", "-12", "AA BB", "PP.PP",
      VM_LOCKED, "...xx" },
};

class Mlock : public ::testing::TestWithParam<OpCase> {};

TEST_P(Mlock, MatchesPicture)
{
    EngineFixture f;
    runCase(GetParam(), f);
}

INSTANTIATE_TEST_SUITE_P(Rules, Mlock, ::testing::ValuesIn(kMlockCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(Mlock, UnalignedStartRoundsDown)
{
    EngineFixture f;
    f.mmap(0, 4);
    EXPECT_EQ(f.op([](OpContext& c) { return doMlock(c, EngineFixture::at(1) + 100, pageSize, 0, false); }), 0);
    EXPECT_EQ(f.picture(4), "ABBC") << "page 1 plus the 100 bytes that spill into page 2";
}

TEST(Mlock, UnknownMlock2Flags)
{
    EngineFixture f;
    f.mmap(0, 2);
    EXPECT_EQ(f.op([](OpContext& c) { return doMlock(c, EngineFixture::at(0), pageSize, 2, true); }), -EINVAL);
    EXPECT_EQ(f.picture(2), "AA");
}

} // namespace
} // namespace vmalab::test
