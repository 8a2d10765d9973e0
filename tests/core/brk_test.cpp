// brk(2) in the model: the rules of mm/mmap.c's brk syscall and do_brk_flags().

#include "core/engine/observe.h"

#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace vmalab::test {
namespace {

class Brk : public ::testing::Test, public EngineFixture
{
protected:
    Brk()
    {
        mm().start_brk = at(0);
        mm().brk = at(0);
    }
    std::int64_t brk(Addr a)
    {
        return op([&](OpContext& c) { return doBrk(c, a); });
    }
    std::string nameAt(std::uint64_t page)
    {
        for (const ObservedVma& v : observeProcess(world, 0).vmas)
            if (v.start <= at(page) && at(page) < v.end)
                return v.name;
        return "(unmapped)";
    }
};

TEST_F(Brk, ZeroAndBelowStartBrkReportTheBreak)
{
    EXPECT_EQ(brk(0), static_cast<std::int64_t>(at(0)));
    ASSERT_EQ(brk(at(3)), static_cast<std::int64_t>(at(3)));
    EXPECT_EQ(brk(0), static_cast<std::int64_t>(at(3)));
    EXPECT_EQ(brk(at(0) - pageSize), static_cast<std::int64_t>(at(3)));
    EXPECT_EQ(picture(6), "AAA   ");
}

TEST_F(Brk, GrowsOneHeapVmaNamedHeap)
{
    EXPECT_EQ(brk(at(2)), static_cast<std::int64_t>(at(2)));
    EXPECT_EQ(brk(at(4)), static_cast<std::int64_t>(at(4)));
    EXPECT_EQ(picture(6), "AAAA  ");
    EXPECT_EQ(mm().mapCount(), 1u);
    const Vma& heap = vmaAtPage(0);
    EXPECT_EQ(heap.vm_flags & (VM_READ | VM_WRITE | VM_ACCOUNT), VM_READ | VM_WRITE | VM_ACCOUNT);
    EXPECT_EQ(heap.vm_pgoff, at(0) >> pageShift);
    EXPECT_EQ(nameAt(3), "[heap]");
}

TEST_F(Brk, UnalignedBreakMapsWholePages)
{
    EXPECT_EQ(brk(at(2) + 100), static_cast<std::int64_t>(at(2) + 100));
    EXPECT_EQ(picture(4), "AAA ");
    // Within the same page the break moves without mapping anything.
    EXPECT_EQ(brk(at(2) + 50), static_cast<std::int64_t>(at(2) + 50));
    EXPECT_EQ(picture(4), "AAA ");
    EXPECT_EQ(mm().brk, at(2) + 50);
}

TEST_F(Brk, ShrinkUnmapsTheTail)
{
    brk(at(5));
    touch(0, 5, true);
    EXPECT_EQ(brk(at(2)), static_cast<std::int64_t>(at(2)));
    EXPECT_EQ(picture(6), "AA    ");
    EXPECT_EQ(pagePicture(6), "PP....");
    EXPECT_EQ(brk(at(0)), static_cast<std::int64_t>(at(0)));
    EXPECT_EQ(mm().mapCount(), 0u);
}

TEST_F(Brk, GrowthMustLeaveAPageBeforeTheNextVma)
{
    brk(at(2));
    ASSERT_EQ(mmap(10, 2), static_cast<std::int64_t>(at(10)));
    EXPECT_EQ(brk(at(10)), static_cast<std::int64_t>(at(2))) << "refused: the old break comes back";
    EXPECT_EQ(brk(at(12)), static_cast<std::int64_t>(at(2))) << "refused: over the mapping";
    EXPECT_EQ(brk(at(9)), static_cast<std::int64_t>(at(9)));
    EXPECT_EQ(picture(12), "AAAAAAAAA BB");
}

TEST_F(Brk, GrowthKeepsTheStackGuardGap)
{
    const std::uint64_t stack = 300;
    ASSERT_EQ(mmap(stack, 4, rw, anonFixed | abi::MAP_GROWSDOWN), static_cast<std::int64_t>(at(stack)));
    EXPECT_EQ(brk(at(stack - 256)), static_cast<std::int64_t>(at(0)));
    EXPECT_EQ(brk(at(stack - 257)), static_cast<std::int64_t>(at(stack - 257)));
}

TEST_F(Brk, AHeapWithOtherFlagsIsNotExpanded)
{
    brk(at(2));
    ASSERT_EQ(mprotect(0, 2, abi::PROT_READ), 0);
    EXPECT_EQ(brk(at(4)), static_cast<std::int64_t>(at(4)));
    EXPECT_EQ(picture(5), "AABB ");
    EXPECT_EQ(nameAt(0), "[heap]");
    EXPECT_EQ(nameAt(3), "[heap]");
}

TEST_F(Brk, AVmaThatOnlyTouchesTheHeapIsNotNamedHeap)
{
    brk(at(2));
    ASSERT_EQ(mmap(3, 1, abi::PROT_READ), static_cast<std::int64_t>(at(3)));
    EXPECT_EQ(nameAt(3), "");
}

} // namespace
} // namespace vmalab::test
