#include "core/report/emit.h"

#include <gtest/gtest.h>

#include "report_fixtures.h"

namespace vmalab::report {
namespace {

using testing::makeProcess;
using testing::makeRun;
using testing::makeVar;
using testing::makeVma;

// ---- maps -------------------------------------------------------------------------------

TEST(MapsLine, UnnamedVmaEndsWithTheSpaceAfterTheInode)
{
    ObservedVma v = makeVma(0x7ffb1a0a8000, 0x7ffb1a0aa000, "rw-p");
    EXPECT_EQ(mapsLine(v), "7ffb1a0a8000-7ffb1a0aa000 rw-p 00000000 00:00 0 ");
}

// Captured from /proc/self/maps on the reference host (Linux 6.18).
TEST(MapsLine, NameStartsAtColumn74)
{
    ObservedVma v = makeVma(0x5654cb3a0000, 0x5654cb3a2000, "r--p", "/usr/bin/cat");
    v.devMajor = 0xfe;
    v.inode = 247134;
    const std::string line = mapsLine(v);
    EXPECT_EQ(line, "5654cb3a0000-5654cb3a2000 r--p 00000000 fe:00 247134                     /usr/bin/cat");
    EXPECT_EQ(line.find('/'), 73u);

    ObservedVma vsyscall = makeVma(0xffffffffff600000, 0xffffffffff601000, "--xp", "[vsyscall]");
    EXPECT_EQ(
        mapsLine(vsyscall), "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");

    ObservedVma memfd = makeVma(0x7f27f249c000, 0x7f27f24a0000, "rw-s", "/memfd:data (deleted)");
    memfd.offset = 0x1000;
    memfd.devMinor = 1;
    memfd.inode = 1027;
    EXPECT_EQ(mapsLine(memfd),
        "7f27f249c000-7f27f24a0000 rw-s 00001000 00:01 1027                       /memfd:data (deleted)");
}

TEST(MapsLine, ShortAddressesArePaddedToEightDigits)
{
    ObservedVma v = makeVma(0x400000, 0x401000, "r-xp", "[heap]");
    const std::string line = mapsLine(v);
    EXPECT_EQ(line.substr(0, 42), "00400000-00401000 r-xp 00000000 00:00 0   ");
    EXPECT_EQ(line.size(), 73u + 6u);
    EXPECT_EQ(line.substr(73), "[heap]");
}

// A header of 72 characters or more gets no padding, only seq_pad()'s one separator
// after the header's own trailing space.
TEST(MapsLine, LongHeaderGetsOneSeparator)
{
    ObservedVma v = makeVma(0x7f0000000000, 0x7f0000001000, "rw-s", "/x");
    v.offset = 0xfffffffffff0000;
    v.inode = 18446744073709551615ull;
    const std::string header = "7f0000000000-7f0000001000 rw-s fffffffffff0000 00:00 18446744073709551615 ";
    ASSERT_GT(header.size(), 72u);
    EXPECT_EQ(mapsLine(v), header + " /x");
}

// ---- smaps ------------------------------------------------------------------------------

constexpr const char* kSmapsFields[] = { "Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
    "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree",
    "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss",
    "Locked", "THPeligible" };

// Every field replay reads, in the kernel's order, with these values.
ObservedVma fullVma(ObservedVma v, const std::vector<std::uint64_t>& values)
{
    v.smapsKb.clear();
    for (std::size_t i = 0; i < values.size(); ++i)
        v.smapsKb.emplace_back(kSmapsFields[i], values[i]);
    return v;
}

// The tail of a real smaps block shared by the captures below.
std::string zeroTail(const std::string& locked)
{
    return std::string("KSM:                   0 kB\n")
        + "LazyFree:              0 kB\n"
          "AnonHugePages:         0 kB\n"
          "ShmemPmdMapped:        0 kB\n"
          "FilePmdMapped:         0 kB\n"
          "Shared_Hugetlb:        0 kB\n"
          "Private_Hugetlb:       0 kB\n"
          "Swap:                  0 kB\n"
          "SwapPss:               0 kB\n"
          "Locked:         "
        + locked + " kB\nTHPeligible:           0\n";
}

// Captured with `cat /proc/self/smaps` on this machine: 3 touched pages of a 5-page
// anonymous mapping, the first two mlock()ed (so the VMA split).
TEST(Smaps, MatchesARealLockedAnonymousBlockByteForByte)
{
    const std::string expected = std::string("7ffb1a0a8000-7ffb1a0aa000 rw-p 00000000 00:00 0 \n")
        + "Size:                  8 kB\n"
          "KernelPageSize:        4 kB\n"
          "MMUPageSize:           4 kB\n"
          "Rss:                   8 kB\n"
          "Pss:                   8 kB\n"
          "Pss_Dirty:             8 kB\n"
          "Shared_Clean:          0 kB\n"
          "Shared_Dirty:          0 kB\n"
          "Private_Clean:         0 kB\n"
          "Private_Dirty:         8 kB\n"
          "Referenced:            8 kB\n"
          "Anonymous:             8 kB\n"
        + zeroTail("       8") + "VmFlags: rd wr mr mw me lo ac \n";
    const ObservedVma v =
        fullVma(makeVma(0x7ffb1a0a8000, 0x7ffb1a0aa000, "rw-p", "", { "rd", "wr", "mr", "mw", "me", "lo", "ac" }),
            { 8, 4, 4, 8, 8, 8, 0, 0, 0, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0 });
    EXPECT_EQ(smapsBlock(v), expected);
}

// Captured: a 128 GiB PROT_NONE reservation (a nine-digit Size) and a shared memfd mapping.
TEST(Smaps, MatchesRealBlocksWithWideValuesAndNames)
{
    const std::string reservation = std::string("7f07f2200000-7f27f2200000 ---p 00000000 00:00 0 \n")
        + "Size:           134217728 kB\n"
          "KernelPageSize:        4 kB\n"
          "MMUPageSize:           4 kB\n"
          "Rss:                   0 kB\n"
          "Pss:                   0 kB\n"
          "Pss_Dirty:             0 kB\n"
          "Shared_Clean:          0 kB\n"
          "Shared_Dirty:          0 kB\n"
          "Private_Clean:         0 kB\n"
          "Private_Dirty:         0 kB\n"
          "Referenced:            0 kB\n"
          "Anonymous:             0 kB\n"
        + zeroTail("       0") + "VmFlags: mr mw me nr \n";
    EXPECT_EQ(smapsBlock(fullVma(makeVma(0x7f07f2200000, 0x7f27f2200000, "---p", "", { "mr", "mw", "me", "nr" }),
                  { 134217728, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })),
        reservation);

    const std::string memfd =
        std::string("7f27f249c000-7f27f24a0000 rw-s 00001000 00:01 1027                       /memfd:data (deleted)\n")
        + "Size:                 16 kB\n"
          "KernelPageSize:        4 kB\n"
          "MMUPageSize:           4 kB\n"
          "Rss:                   4 kB\n"
          "Pss:                   4 kB\n"
          "Pss_Dirty:             4 kB\n"
          "Shared_Clean:          0 kB\n"
          "Shared_Dirty:          0 kB\n"
          "Private_Clean:         0 kB\n"
          "Private_Dirty:         4 kB\n"
          "Referenced:            4 kB\n"
          "Anonymous:             0 kB\n"
        + zeroTail("       0") + "VmFlags: rd wr sh mr mw me ms \n";
    ObservedVma v = makeVma(
        0x7f27f249c000, 0x7f27f24a0000, "rw-s", "/memfd:data (deleted)", { "rd", "wr", "sh", "mr", "mw", "me", "ms" });
    v.offset = 0x1000;
    v.devMinor = 1;
    v.inode = 1027;
    EXPECT_EQ(smapsBlock(fullVma(v, { 16, 4, 4, 4, 4, 4, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })), memfd);
}

TEST(Smaps, ModelSubsetPrintsItsFieldsInOrderAndTHPeligibleLast)
{
    ObservedVma v = makeVma(0x10000, 0x14000, "rw-p");
    testing::setKb(v, "Rss", 8);
    v.smapsKb.insert(v.smapsKb.begin() + 1, { "THPeligible", 1 });
    EXPECT_EQ(smapsBlock(v),
        "00010000-00014000 rw-p 00000000 00:00 0 \n"
        "Size:                 16 kB\n"
        "Rss:                   8 kB\n"
        "Anonymous:             0 kB\n"
        "Locked:                0 kB\n"
        "THPeligible:           1\n"
        "VmFlags: rd wr mr mw me ac \n");
}

TEST(Smaps, NoFlagsStillPrintsTheVmFlagsLine)
{
    ObservedVma v = makeVma(0x10000, 0x11000, "---p", "", {});
    v.smapsKb = { { "Size", 4 } };
    EXPECT_EQ(smapsBlock(v), "00010000-00011000 ---p 00000000 00:00 0 \nSize:                  4 kB\nVmFlags: \n");
}

// ---- pages, vars, stats -----------------------------------------------------------------

TEST(Pages, OneLinePerRunWithUffdWpAndOptionalExtras)
{
    ObservedProcess p = makeProcess("main", { makeVma(0x10000, 0x15000, "rw-p") });
    p.pages = { makeRun(0x10000, 0x12000, PageState::Present), makeRun(0x12000, 0x13000, PageState::Guard),
        makeRun(0x13000, 0x14000, PageState::Swap, true), makeRun(0x14000, 0x15000, PageState::None) };
    p.pages[0].exclusive = true;
    p.pages[3].file = true;
    const std::string contract = "00010000-00012000 present\n"
                                 "00012000-00013000 guard\n"
                                 "00013000-00014000 swap,uffd-wp\n"
                                 "00014000-00015000 none\n";
    EXPECT_EQ(pagesBlock(p), contract);
    EXPECT_EQ(pagesBlock(p, true),
        "00010000-00012000 present,excl\n"
        "00012000-00013000 guard\n"
        "00013000-00014000 swap,uffd-wp\n"
        "00014000-00015000 none,file\n");
}

TEST(Vars, HexWithNegativeValuesAsTwosComplement)
{
    const std::vector<scenario::VarRecord> vars = { makeVar("arena", 0x7f0000000000), makeVar("err", -22),
        makeVar("zero", 0), makeVar("min", INT64_MIN) };
    EXPECT_EQ(varsBlock(vars),
        "# var arena = 0x7f0000000000\n"
        "# var err = 0xffffffffffffffea\n"
        "# var zero = 0x0\n"
        "# var min = 0x8000000000000000\n");
}

TEST(Stats, OneLinePerStat)
{
    ObservedProcess p;
    p.stats = { { "vmas", 7 }, { "pte_tables", 2 }, { "fork.vmas_pt_copied", 0 } };
    EXPECT_EQ(statsBlock(p), "# stat vmas = 7\n# stat pte_tables = 2\n# stat fork.vmas_pt_copied = 0\n");
}

// ---- --emit lists and the run layout ---------------------------------------------------

TEST(ParseEmitList, KnownKindsInAnyOrder)
{
    const Result<EmitOptions> r = parseEmitList("vars, maps,smaps,pages,stats,ascii");
    ASSERT_TRUE(r);
    for (EmitKind k :
        { EmitKind::Maps, EmitKind::Smaps, EmitKind::Pages, EmitKind::Stats, EmitKind::Ascii, EmitKind::Vars })
        EXPECT_TRUE(r->has(k)) << emitKindName(k);
    EXPECT_FALSE(r->has(EmitKind::Json));
}

TEST(ParseEmitList, UnknownAndEmptyKindsAreErrors)
{
    const Result<EmitOptions> r = parseEmitList("maps,mapz");
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(
        r.error()[0].message, "--emit: unknown kind 'mapz' (known: maps, smaps, pages, stats, ascii, vars, json)");
    const Result<EmitOptions> empty = parseEmitList("maps,,pages");
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error()[0].message.find("empty kind"), std::string::npos);
    EXPECT_FALSE(parseEmitList(""));
}

scenario::RunOutcome twoProcessRun()
{
    scenario::RunOutcome run;
    ObservedProcess main = makeProcess("main", { makeVma(0x10000, 0x12000, "rw-p") });
    main.stats = { { "vmas", 1 } };
    ObservedProcess child = makeProcess("child", { makeVma(0x10000, 0x12000, "r--p", "[anon:x]") });
    child.pages[0].state = PageState::Present;
    child.stats = { { "vmas", 1 } };
    run.processes = { main, child };
    run.vars = { makeVar("p", 0x10000), makeVar("child", 1234, scenario::VarKind::Pid) };
    return run;
}

TEST(EmitRun, ContractLayoutForTwoProcesses)
{
    const Result<EmitOptions> options = parseEmitList("vars,pages,maps,stats");
    ASSERT_TRUE(options);
    EXPECT_EQ(emitRun(twoProcessRun(), *options),
        "# process main\n"
        "## maps\n"
        "00010000-00012000 rw-p 00000000 00:00 0 \n"
        "## pages\n"
        "00010000-00012000 none\n"
        "## stats\n"
        "# stat vmas = 1\n"
        "# process child\n"
        "## maps\n"
            + std::string("00010000-00012000 r--p 00000000 00:00 0") + std::string(34, ' ')
            + "[anon:x]\n"
              "## pages\n"
              "00010000-00012000 present\n"
              "## stats\n"
              "# stat vmas = 1\n"
              "## vars\n"
              "# var p = 0x10000\n"
              "# var child = 0x4d2\n");
}

TEST(EmitRun, ReplayPrintsNothingForStats)
{
    Result<EmitOptions> options = parseEmitList("stats,vars");
    ASSERT_TRUE(options);
    options->modelRun = false;
    EXPECT_EQ(emitRun(twoProcessRun(), *options),
        "# process main\n"
        "# process child\n"
        "## vars\n"
        "# var p = 0x10000\n"
        "# var child = 0x4d2\n");
}

TEST(EmitRun, JsonReplacesTheTextBlocks)
{
    const Result<EmitOptions> options = parseEmitList("maps,json");
    ASSERT_TRUE(options);
    const std::string out = emitRun(twoProcessRun(), *options);
    EXPECT_EQ(out.rfind("{\n", 0), 0u);
    EXPECT_EQ(out.find("# process"), std::string::npos);
}

TEST(ExpectFailureLine, ContractFormatWithProcessPrefixOutsideMain)
{
    scenario::ExpectRecord e = testing::makeExpect(12, false);
    e.rhs = -22;
    EXPECT_EQ(expectFailureLine("a.vlab", e),
        "a.vlab:12: expect failed: touch(p, page_size, PROT_READ) == 0 (0xb vs 0xffffffffffffffea)");
    e.process = "child";
    e.equal = false;
    EXPECT_EQ(expectFailureLine("a.vlab", e),
        "child: a.vlab:12: expect failed: touch(p, page_size, PROT_READ) != 0 (0xb vs 0xffffffffffffffea)");
}

} // namespace
} // namespace vmalab::report
