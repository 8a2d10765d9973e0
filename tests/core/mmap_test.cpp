// do_mmap() argument checks, address selection and the flags of new VMAs.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

using namespace abi;

struct ErrnoCase
{
    const char* name;
    Addr addr; // relative to the window
    std::uint64_t len;
    std::int64_t flags;
    std::int64_t fd; // -2: the fixture's memfd
    std::int64_t off;
    std::int64_t expected;
};

const ErrnoCase kErrnoCases[] = {
    { "offset_unaligned", 0, 4096, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 1, -EINVAL },
    { "length_zero", 0, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, -EINVAL },
    { "length_overflows", 0, ~0ull, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, -ENOMEM },
    { "fixed_unaligned", 1, 4096, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, -EINVAL },
    { "no_map_type", 0, 4096, MAP_ANONYMOUS | MAP_FIXED, -1, 0, -EINVAL },
    { "anon_shared_validate", 0, 4096, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, -EINVAL },
    { "bad_fd", 0, 4096, MAP_PRIVATE | MAP_FIXED, 77, 0, -EBADF },
    { "bad_fd_wins_over_unaligned", 1, 4096, MAP_PRIVATE | MAP_FIXED, 77, 0, -EBADF },
    { "file_type_4", 0, 4096, 4 | MAP_FIXED, -2, 0, -EINVAL },
    { "file_validate_sync", 0, 4096, MAP_SHARED_VALIDATE | MAP_FIXED | MAP_SYNC, -2, 0, -EOPNOTSUPP },
    { "file_growsdown", 0, 4096, MAP_PRIVATE | MAP_FIXED | MAP_GROWSDOWN, -2, 0, -EINVAL },
    { "shared_anon_growsdown", 0, 4096, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0, -EINVAL },
    { "droppable_file", 0, 4096, MAP_DROPPABLE | MAP_FIXED, -2, 0, -EINVAL },
    { "noreplace_overlap", 0x10000, 4096, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, -EEXIST },
    { "noreplace_free", 0x40000, 4096, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, 0x40000 },
};

class MmapErrno : public ::testing::TestWithParam<ErrnoCase>
{
};

TEST_P(MmapErrno, ReturnsWhatTheKernelReturns)
{
    const ErrnoCase& tc = GetParam();
    EngineFixture f;
    const std::int64_t memfd = f.memfd(16);
    f.mmap(16, 4); // something at window + 0x10000
    const std::int64_t fd = tc.fd == -2 ? memfd : tc.fd;
    const std::int64_t ret = f.op([&](OpContext& c) {
        return doMmap(c, EngineFixture::window + tc.addr, tc.len, EngineFixture::rw, tc.flags, fd, tc.off);
    });
    const std::int64_t expected = tc.expected >= 0 ? static_cast<std::int64_t>(EngineFixture::window) + tc.expected : tc.expected;
    EXPECT_EQ(ret, expected);
    if (ret < 0) {
        ASSERT_FALSE(f.last.steps.empty());
        EXPECT_FALSE(f.last.steps.back().rule.empty()) << "a refusal says why";
    }
}

INSTANTIATE_TEST_SUITE_P(Checks, MmapErrno, ::testing::ValuesIn(kErrnoCases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(MmapPlacement, TopDownBelowMmapBaseAtTheTopOfTheGap)
{
    EngineFixture f;
    const std::int64_t a = f.mmapAnywhere(4 * pageSize);
    EXPECT_EQ(static_cast<Addr>(a), f.mm().mmap_base - 4 * pageSize);
    const std::int64_t b = f.mmapAnywhere(2 * pageSize, PROT_READ);
    EXPECT_EQ(static_cast<Addr>(b), static_cast<Addr>(a) - 2 * pageSize) << "directly below the previous mapping";
}

TEST(MmapPlacement, MultiplesOfTwoMegabytesAreAligned)
{
    EngineFixture f;
    f.mmapAnywhere(4 * pageSize);
    for (std::uint64_t mib : { 2, 4, 6 }) {
        const std::int64_t a = f.mmapAnywhere(mib << 20, PROT_NONE);
        ASSERT_GT(a, 0);
        EXPECT_EQ(static_cast<Addr>(a) % pmdSize, 0u) << mib << " MiB";
    }
    const std::int64_t odd = f.mmapAnywhere((2 << 20) + pageSize, PROT_NONE);
    EXPECT_NE(static_cast<Addr>(odd) % pmdSize, 0u) << "2 MiB + 4 KiB is not aligned";
}

TEST(MmapPlacement, UnfaultedNeighbourAboveMerges)
{
    EngineFixture f;
    const std::int64_t a = f.mmapAnywhere(4 * pageSize);
    const std::int64_t b = f.mmapAnywhere(4 * pageSize);
    EXPECT_EQ(b + static_cast<std::int64_t>(4 * pageSize), a);
    EXPECT_EQ(f.mm().mapCount(), 1u);
}

TEST(MmapFlags, AccountingFollowsAccountableMapping)
{
    EngineFixture f;
    f.mmap(0, 1);
    f.mmap(2, 1, PROT_READ);
    f.mmap(4, 1, EngineFixture::rw, EngineFixture::anonFixed | MAP_NORESERVE);
    f.mmap(6, 1, EngineFixture::rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    EXPECT_EQ(vmFlagMnemonics(f.vmaAtPage(0).vm_flags), (std::vector<std::string> { "rd", "wr", "mr", "mw", "me", "ac" }));
    EXPECT_EQ(vmFlagMnemonics(f.vmaAtPage(2).vm_flags), (std::vector<std::string> { "rd", "mr", "mw", "me" }));
    EXPECT_EQ(vmFlagMnemonics(f.vmaAtPage(4).vm_flags), (std::vector<std::string> { "rd", "wr", "mr", "mw", "me", "nr" }));
    EXPECT_EQ(vmFlagMnemonics(f.vmaAtPage(6).vm_flags), (std::vector<std::string> { "rd", "wr", "sh", "mr", "mw", "me", "ms" }));
}

TEST(MmapFlags, SharedAnonymousMappingsNeverMerge)
{
    EngineFixture f;
    f.mmap(0, 2, EngineFixture::rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    f.mmap(2, 2, EngineFixture::rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    EXPECT_EQ(f.picture(4), "AABB");
    EXPECT_NE(f.vmaAtPage(0).vm_file, f.vmaAtPage(2).vm_file);
}

TEST(MmapFlags, FileMappingsMergeWhenOffsetsContinue)
{
    EngineFixture f;
    const std::int64_t fd = f.memfd(16);
    f.mmap(0, 4, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 0);
    f.mmap(4, 4, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 4);
    f.mmap(8, 4, EngineFixture::rw, MAP_SHARED | MAP_FIXED, fd, 9);
    EXPECT_EQ(f.picture(12), "AAAAAAAABBBB");
}

TEST(MmapPopulate, PrivateWritableIsFaultedAsWrites)
{
    EngineFixture f;
    f.mmap(0, 3, EngineFixture::rw, EngineFixture::anonFixed | MAP_POPULATE);
    f.mmap(4, 2, PROT_READ, EngineFixture::anonFixed | MAP_POPULATE);
    EXPECT_EQ(f.pagePicture(6), "PPP.ZZ");
    EXPECT_NE(f.vmaAtPage(0).anon_vma, noAnonVma);
    EXPECT_EQ(f.vmaAtPage(4).anon_vma, noAnonVma);
}

TEST(Munmap, Checks)
{
    EngineFixture f;
    EXPECT_EQ(f.op([](OpContext& c) { return doMunmap(c, EngineFixture::window + 1, pageSize); }), -EINVAL);
    EXPECT_EQ(f.op([](OpContext& c) { return doMunmap(c, EngineFixture::window, 0); }), -EINVAL);
    EXPECT_EQ(f.op([](OpContext& c) { return doMunmap(c, EngineFixture::window, 1); }), 0) << "a hole is fine";
}

TEST(Munmap, ZapsPagesAndFreesUnusedTables)
{
    EngineFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    EXPECT_EQ(f.mm().pteTables.runCount(), 1u);
    f.munmap(2, 2);
    EXPECT_EQ(f.pagePicture(8), "PP..PPPP");
    EXPECT_EQ(f.mm().pteTables.runCount(), 1u) << "the table still serves the rest";
    f.munmap(0, 8);
    EXPECT_TRUE(f.mm().pteTables.empty());
    EXPECT_TRUE(f.mm().pmdTables.empty());
    EXPECT_TRUE(f.mm().pudTables.empty());
}

TEST(Munmap, UpperTablesStayWhileTheirSpanHoldsAVma)
{
    // free_pgtables() frees a table only when no VMA is left in its span: a PMD table serves
    // 1 GiB, so an untouched VMA 4 MiB away keeps it after the last PTE table under it goes.
    EngineFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    f.mmap(1024, 8);
    EXPECT_EQ(f.mm().pmdTables.runCount(), 1u);
    f.munmap(0, 8);
    EXPECT_TRUE(f.mm().pteTables.empty());
    EXPECT_EQ(f.mm().pmdTables.runCount(), 1u) << "the other VMA still lies in the PMD table's 1 GiB";
    EXPECT_EQ(f.mm().pudTables.runCount(), 1u);
    f.munmap(1024, 8);
    EXPECT_TRUE(f.mm().pmdTables.empty());
    EXPECT_TRUE(f.mm().pudTables.empty());
}

} // namespace
} // namespace vmalab::test
