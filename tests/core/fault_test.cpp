// Faults: zero page, anonymous pages, file pages with read-around and fault-around, SIGSEGV
// and SIGBUS, stack growth.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

using namespace abi;

TEST(Fault, ReadMapsZeroPageWithoutAnonVma)
{
    EngineFixture f;
    f.mmap(0, 4);
    EXPECT_EQ(f.touch(0, 2, false), 0);
    EXPECT_EQ(f.pagePicture(4), "ZZ..");
    EXPECT_EQ(f.vmaAtPage(0).anon_vma, noAnonVma);
    EXPECT_EQ(f.touch(1, 2, true), 0);
    EXPECT_EQ(f.pagePicture(4), "ZPP.");
    EXPECT_NE(f.vmaAtPage(0).anon_vma, noAnonVma);
}

TEST(Fault, SegvOnProtNoneHolesAndReadOnlyWrites)
{
    EngineFixture f;
    f.mmap(0, 1, PROT_NONE);
    f.mmap(2, 1, PROT_READ);
    EXPECT_EQ(f.touch(0, 1, false), SIGSEGV);
    EXPECT_EQ(f.touch(1, 1, false), SIGSEGV);
    EXPECT_EQ(f.touch(2, 1, false), 0);
    EXPECT_EQ(f.touch(2, 1, true), SIGSEGV);
    EXPECT_EQ(f.touch(2, 2, false), SIGSEGV) << "stops at the first fatal page";
}

TEST(Fault, SigbusBeyondEndOfFile)
{
    EngineFixture f;
    const std::int64_t fd = f.memfd(2);
    f.mmap(0, 4, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 0);
    EXPECT_EQ(f.touch(0, 4, true), SIGBUS);
    EXPECT_EQ(f.pagePicture(4), "FF..");
}

TEST(Fault, ShmemReadMapsOnlyCachedNeighbours)
{
    EngineFixture f;
    const std::int64_t fd = f.memfd(64);
    f.mmap(0, 32, EngineFixture::rw, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f.mmap(64, 32, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 0);
    f.touch(5, 1, false);
    EXPECT_EQ(f.pagePicture(16), ".....F..........");
    f.touch(64 + 6, 2, true); // writes through the shared mapping fill the page cache
    f.touch(8, 1, false);
    EXPECT_EQ(f.pagePicture(16), ".....FFFF.......");
}

TEST(Fault, RegularFileReadAroundMapsTheAlignedBlock)
{
    EngineFixture f;
    const std::int64_t fd = f.regularFile(512);
    f.mmap(3, 100, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f.touch(23, 1, false); // window page 23: the block of window pages 16..31
    std::string expected(40, '.');
    for (int i = 16; i < 32; ++i)
        expected[static_cast<std::size_t>(i)] = 'F';
    EXPECT_EQ(f.pagePicture(40), expected);
}

TEST(Fault, RandomReadMapsOnePage)
{
    EngineFixture f;
    const std::int64_t fd = f.regularFile(512);
    f.mmap(0, 64, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f.mm().vmas.at(EngineFixture::at(0)).vm_flags |= VM_RAND_READ;
    f.touch(20, 1, false);
    EXPECT_EQ(f.pagePicture(24), "....................F...");
}

TEST(Fault, PrivateFileWriteMakesAnonymousCopy)
{
    EngineFixture f;
    const std::int64_t fd = f.memfd(4);
    f.mmap(0, 4, EngineFixture::rw, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f.touch(0, 1, false);
    f.touch(0, 2, true);
    EXPECT_EQ(f.pagePicture(4), "PP..");
    EXPECT_NE(f.vmaAtPage(0).anon_vma, noAnonVma);
}

TEST(Fault, StackGrowsDownIntoTheGap)
{
    EngineFixture f;
    f.mmap(300, 4, EngineFixture::rw, EngineFixture::anonFixed | MAP_GROWSDOWN);
    EXPECT_EQ(f.touch(295, 1, true), 0);
    EXPECT_EQ(f.vmaAtPage(300).vm_start, EngineFixture::at(295));
    f.mmap(0, 1); // an accessible VMA within stack_guard_gap blocks growth
    EXPECT_EQ(f.touch(200, 1, true), SIGSEGV);
}

TEST(Fault, TruncateZapsPagesBeyondTheNewEnd)
{
    EngineFixture f;
    const std::int64_t fd = f.memfd(4);
    f.mmap(0, 4, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 0);
    f.touch(0, 4, true);
    EXPECT_EQ(f.op([&](OpContext& c) { return doFtruncate(c, fd, pageSize + 1); }), 0);
    EXPECT_EQ(f.pagePicture(4), "FF..");
    EXPECT_EQ(f.touch(2, 1, false), SIGBUS);
}

} // namespace
} // namespace vmalab::test

namespace vmalab::test {
namespace {

TEST(FaultTrace, ConsecutivePagesShareOneStep)
{
    EngineFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    int anonSteps = 0;
    for (const TraceStep& s : f.last.steps) {
        if (s.kernelFn != "do_anonymous_page")
            continue;
        ++anonSteps;
        EXPECT_EQ(s.pagesStart, EngineFixture::at(0));
        EXPECT_EQ(s.pagesEnd, EngineFixture::at(8));
    }
    EXPECT_EQ(anonSteps, 1);
    f.touch(10, 1, false); // outside any VMA: no page step at all
    f.mmap(12, 4);
    f.touch(12, 1, false);
    f.touch(12, 2, true); // a zero page replaced, then a new page: two different actions
    int kinds = 0;
    for (const TraceStep& s : f.last.steps)
        kinds += s.kernelFn == "do_wp_page" || s.kernelFn == "do_anonymous_page";
    EXPECT_EQ(kinds, 2);
}

} // namespace
} // namespace vmalab::test
