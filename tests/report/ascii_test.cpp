#include "core/report/ascii.h"
#include "core/report/emit.h"

#include <gtest/gtest.h>

#include "report_fixtures.h"

namespace vmalab::report {
namespace {

using testing::makeProcess;
using testing::makeRun;
using testing::makeVar;
using testing::makeVma;

// One column per page, as the kernel's VMA tests draw:
//   0123456789012345
//    AAA  BBCCCC        three VMAs and a gap in a 16-page window
TEST(Ascii, SmallWindowWithThreeVmasAndAGap)
{
    scenario::RunOutcome run;
    run.vars = { makeVar("arena_len", 16 * 4096), makeVar("arena", 0x100000) };
    ObservedProcess p = makeProcess("main",
        { makeVma(0x101000, 0x104000, "rw-p"), makeVma(0x106000, 0x108000, "r--p", "", { "rd", "mr", "mw", "me" }),
            makeVma(0x108000, 0x10c000, "rw-p", "[anon:c]") });
    p.pages = { makeRun(0x101000, 0x103000, PageState::Present), makeRun(0x103000, 0x104000, PageState::None),
        makeRun(0x106000, 0x107000, PageState::Guard), makeRun(0x107000, 0x108000, PageState::None),
        makeRun(0x108000, 0x109000, PageState::Swap, true), makeRun(0x109000, 0x10a000, PageState::Present),
        makeRun(0x10a000, 0x10b000, PageState::Present, true), makeRun(0x10b000, 0x10c000, PageState::Swap) };
    EXPECT_EQ(asciiBlock(run, p),
        "# window 00100000-00110000 (16 pages, arena)\n"
        "0123456789012345\n"
        " AAA  BBCCCC\n"
        " PP.  G.WPwS\n"
        "A 00101000-00104000 rw-p rd,wr,mr,mw,me,ac\n"
        "B 00106000-00108000 r--p rd,mr,mw,me\n"
        "C 00108000-0010c000 rw-p rd,wr,mr,mw,me,ac [anon:c]\n");
}

TEST(Ascii, VmasCrossingTheWindowAreClippedButListedWhole)
{
    scenario::RunOutcome run;
    run.vars = { makeVar("arena", 0x100000), makeVar("arena_len", 4 * 4096) };
    const ObservedProcess p = makeProcess("main", { makeVma(0xfe000, 0x102000, "---p", "", {}) });
    EXPECT_EQ(asciiBlock(run, p),
        "# window 00100000-00104000 (4 pages, arena)\n"
        "0123\n"
        "AA\n"
        "..\n"
        "A 000fe000-00102000 ---p -\n");
}

// 512 pages: rows of 64 prefixed by their address; rows repeating inside one VMA
// collapse into a `*` line.
TEST(Ascii, LargeWindowDrawsRowsAndCollapsesRepeats)
{
    scenario::RunOutcome run;
    run.vars = { makeVar("arena_len", 512 * 4096), makeVar("arena", 0x200000) };
    ObservedProcess p = makeProcess("main",
        { makeVma(0x200000, 0x210000, "---p", "", { "mr", "mw", "me", "nr" }), makeVma(0x210000, 0x214000, "rw-p"),
            makeVma(0x214000, 0x400000, "---p", "", { "mr", "mw", "me", "nr" }) });
    p.pages[1].state = PageState::Present;
    const std::string indent(9, ' ');
    const std::string ruler = "0123456789012345678901234567890123456789012345678901234567890123";
    EXPECT_EQ(asciiBlock(run, p),
        "# window 00200000-00400000 (512 pages, arena)\n" + indent + ruler + "\n" + "00200000 " + std::string(16, 'A')
            + "BBBB" + std::string(44, 'C') + "\n" + indent + std::string(16, '.') + "PPPP" + std::string(44, '.')
            + "\n" + "00240000 " + std::string(64, 'C') + "\n" + indent + std::string(64, '.') + "\n" + "*\n"
            + "A 00200000-00210000 ---p mr,mw,me,nr\n" + "B 00210000-00214000 rw-p rd,wr,mr,mw,me,ac\n"
            + "C 00214000-00400000 ---p mr,mw,me,nr\n");
}

TEST(Ascii, RowsAfterACollapsedStretchCarryTheirAddress)
{
    scenario::RunOutcome run;
    run.vars = { makeVar("arena", 0x200000), makeVar("arena_len", 256 * 4096) };
    const ObservedProcess p = makeProcess(
        "main", { makeVma(0x200000, 0x2c0000, "---p", "", {}), makeVma(0x2c0000, 0x300000, "rw-p", "", {}) });
    const std::string indent(9, ' ');
    const std::string out = asciiBlock(run, p);
    EXPECT_NE(out.find("00200000 " + std::string(64, 'A') + "\n" + indent + std::string(64, '.') + "\n*\n002c0000 "
                  + std::string(64, 'B') + "\n"),
        std::string::npos)
        << out;
}

TEST(Ascii, WithoutArenaDrawsTheVmasOutsideTheDefaultLayout)
{
    scenario::RunOutcome run;
    const ObservedProcess p = makeProcess("main",
        { makeVma(0x400000, 0x401000, "r--p", "/usr/bin/true"), makeVma(0x500000, 0x600000, "rw-p", "[heap]"),
            makeVma(0x7f0000001000, 0x7f0000002000, "rw-p"), makeVma(0x7f0000003000, 0x7f0000004000, "r--p"),
            makeVma(0x7ffff0000000, 0x7ffff0021000, "rw-p", "[stack]") });
    EXPECT_EQ(asciiBlock(run, p),
        "# window 7f0000001000-7f0000004000 (3 pages, span of the VMAs outside the default layout)\n"
        "012\n"
        "A B\n"
        ". .\n"
        "A 7f0000001000-7f0000002000 rw-p rd,wr,mr,mw,me,ac\n"
        "B 7f0000003000-7f0000004000 r--p rd,wr,mr,mw,me,ac\n");
}

// Without an arena the span can cover terabytes; the picture stays a few lines per VMA.
TEST(Ascii, HugeFallbackSpanStaysShort)
{
    scenario::RunOutcome run;
    ObservedProcess p = makeProcess(
        "main", { makeVma(0x10000, 0x11000, "rw-p", "", {}), makeVma(0x7f0000000000, 0x7f0000001000, "rw-p", "", {}) });
    const std::string out = asciiBlock(run, p);
    EXPECT_EQ(out,
        "# window 00010000-7f0000001000 (34091302897 pages, span of the VMAs outside the default layout)\n"
        "             0123456789012345678901234567890123456789012345678901234567890123\n"
        "000000010000 A\n"
        "             .\n"
        "000000050000\n"
        "*\n"
        "7efffffd0000                                                 B\n"
        "                                                             .\n"
        "A 00010000-00011000 rw-p -\n"
        "B 7f0000000000-7f0000001000 rw-p -\n");
}

TEST(Ascii, NothingToDraw)
{
    scenario::RunOutcome run;
    const ObservedProcess p = makeProcess("main", { makeVma(0x500000, 0x600000, "rw-p", "[heap]") });
    EXPECT_EQ(asciiBlock(run, p), "# no window: no arena/arena_len and no VMA outside the default layout\n");
}

TEST(Ascii, EmitRunPutsAsciiAfterTheContractBlocks)
{
    scenario::RunOutcome run;
    run.vars = { makeVar("arena", 0x100000), makeVar("arena_len", 2 * 4096) };
    run.processes = { makeProcess("main", { makeVma(0x100000, 0x101000, "rw-p", "", {}) }) };
    const Result<EmitOptions> options = parseEmitList("ascii,maps");
    ASSERT_TRUE(options);
    EXPECT_EQ(emitRun(run, *options),
        "# process main\n"
        "## maps\n"
        "00100000-00101000 rw-p 00000000 00:00 0 \n"
        "## ascii\n"
        "# window 00100000-00102000 (2 pages, arena)\n"
        "01\n"
        "A\n"
        ".\n"
        "A 00100000-00101000 rw-p -\n");
}

} // namespace
} // namespace vmalab::report
