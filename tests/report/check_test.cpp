#include "core/report/check.h"

#include <gtest/gtest.h>

#include <functional>

#include "report_fixtures.h"

namespace vmalab::report {
namespace {

using testing::makeExpect;
using testing::makeProcess;
using testing::makeRun;
using testing::makeVar;
using testing::makeVma;

constexpr Addr kModelArena = 0x7f0000000000;
constexpr Addr kKernelArena = 0x7fa000200000;
constexpr Addr kLen = 512 * 4096;

// A checked run, drawn relative to its arena (one column = 16 pages):
//   ...[reservation][p: rw-p, 2 present + 2 none][reservation]...   plus [heap] far below
scenario::RunOutcome checkedRun(Addr arena)
{
    scenario::RunOutcome run;
    run.ran = true;
    run.vars = { makeVar("arena_len", kLen), makeVar("arena", static_cast<std::int64_t>(arena)),
        makeVar("p", static_cast<std::int64_t>(arena + 0x10000)), makeVar("r", 0) };
    ObservedProcess main = makeProcess("main",
        { makeVma(0x555555554000, 0x555555575000, "rw-p", "[heap]"),
            makeVma(arena, arena + 0x10000, "---p", "", { "mr", "mw", "me", "nr" }),
            makeVma(arena + 0x10000, arena + 0x14000, "rw-p"),
            makeVma(arena + 0x14000, arena + kLen, "---p", "", { "mr", "mw", "me", "nr" }) });
    main.pages[2] = makeRun(arena + 0x10000, arena + 0x12000, PageState::Present);
    main.pages.insert(main.pages.begin() + 3, makeRun(arena + 0x12000, arena + 0x14000, PageState::None));
    testing::setKb(main.vmas[2], "Rss", 8);
    testing::setKb(main.vmas[2], "Anonymous", 8);
    run.processes = { main };
    run.expects = { makeExpect(5, true) };
    return run;
}

CheckOptions opts()
{
    CheckOptions o;
    o.file = "a.vlab";
    return o;
}

TEST(Check, IdenticalRunsAreEqual)
{
    const CheckResult r = compareRuns(checkedRun(kModelArena), checkedRun(kModelArena), opts());
    EXPECT_EQ(r.exitStatus, 0);
    EXPECT_TRUE(r.differences.empty());
    EXPECT_EQ(differenceSignature(r.differences), "");
}

TEST(Check, SameLayoutAtDifferentArenasIsEqual)
{
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    // The runtime's own mappings outside the window never count.
    kernel.processes[0].vmas.insert(kernel.processes[0].vmas.begin() + 1,
        makeVma(0x7f9000000000, 0x7f9000001000, "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    kernel.vars.push_back(makeVar("far", 0x7f9000000000));
    const CheckResult r = compareRuns(checkedRun(kModelArena), kernel, opts());
    EXPECT_EQ(r.exitStatus, 0);
    EXPECT_TRUE(r.lines().empty()) << r.lines().front();
}

struct FieldCase
{
    const char* name;
    std::function<void(ObservedProcess&, Addr arena)> mutateKernel;
    const char* line;
    const char* field;
};

const FieldCase kFieldCases[] = {
    { "perms", [](ObservedProcess& p, Addr) { p.vmas[2].perms = "r--p"; },
        "main +0x10000: vma perms: model rw-p, kernel r--p", "vma perms" },
    { "offset", [](ObservedProcess& p, Addr) { p.vmas[2].offset = 0x3000; },
        "main +0x10000: vma offset: model 0x0, kernel 0x3000", "vma offset" },
    { "name", [](ObservedProcess& p, Addr) { p.vmas[2].name = "[anon:buf]"; },
        "main +0x10000: vma name: model (none), kernel [anon:buf]", "vma name" },
    { "flags", [](ObservedProcess& p, Addr) { p.vmas[2].vmFlags.push_back("gu"); },
        "main +0x10000: vma flags: model rd wr mr mw me ac, kernel rd wr mr mw me ac gu (kernel only: gu)",
        "vma flags" },
    { "rss", [](ObservedProcess& p, Addr) { testing::setKb(p.vmas[2], "Rss", 12); },
        "main +0x10000: vma Rss: model 8 kB, kernel 12 kB", "vma Rss" },
    { "anonymous", [](ObservedProcess& p, Addr) { testing::setKb(p.vmas[2], "Anonymous", 4); },
        "main +0x10000: vma Anonymous: model 8 kB, kernel 4 kB", "vma Anonymous" },
    { "locked", [](ObservedProcess& p, Addr) { testing::setKb(p.vmas[2], "Locked", 16); },
        "main +0x10000: vma Locked: model 0 kB, kernel 16 kB", "vma Locked" },
    { "page_state",
        [](ObservedProcess& p, Addr a) {
            p.pages[3] = makeRun(a + 0x12000, a + 0x13000, PageState::Present);
            p.pages.insert(p.pages.begin() + 4, makeRun(a + 0x13000, a + 0x14000, PageState::None));
        },
        "main +0x12000: page state: model none, kernel present (1 page, to +0x13000)", "page state" },
    { "uffd_wp",
        [](ObservedProcess& p, Addr) {
            for (PageRun& r : p.pages)
                if (r.state == PageState::Present)
                    r.uffdWp = true;
        },
        "main +0x10000: page state: model present, kernel present,uffd-wp (2 pages, to +0x12000)", "page state" },
    { "range",
        [](ObservedProcess& p, Addr a) {
            // A one-page hole where the model still has the VMA's last page.
            p.vmas[2].end = a + 0x13000;
            p.pages[3].end = a + 0x13000;
        },
        "main +0x10000: vma range: model 0x10000-0x14000, kernel 0x10000-0x13000", "vma range" },
};

class CheckField : public ::testing::TestWithParam<FieldCase>
{
};

TEST_P(CheckField, OneDifferenceIsOneLine)
{
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    GetParam().mutateKernel(kernel.processes[0], kKernelArena);
    const CheckResult r = compareRuns(checkedRun(kModelArena), kernel, opts());
    EXPECT_EQ(r.exitStatus, 1);
    ASSERT_EQ(r.lines().size(), 1u) << ::testing::PrintToString(r.lines());
    EXPECT_EQ(r.lines()[0], GetParam().line);
    EXPECT_EQ(r.differences[0].field, GetParam().field);
    EXPECT_EQ(r.differences[0].process, "main");
}

INSTANTIATE_TEST_SUITE_P(Fields, CheckField, ::testing::ValuesIn(kFieldCases),
    [](const auto& testInfo) { return std::string(testInfo.param.name); });

TEST(Check, SplitOnOneSideOnlyReportsBothRangesButNoAttributes)
{
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    ObservedProcess& p = kernel.processes[0];
    ObservedVma second = p.vmas[2];
    p.vmas[2].end = kKernelArena + 0x12000;
    second.start = kKernelArena + 0x12000;
    p.vmas.insert(p.vmas.begin() + 3, second);
    const CheckResult r = compareRuns(checkedRun(kModelArena), kernel, opts());
    EXPECT_EQ(r.exitStatus, 1);
    EXPECT_EQ(r.lines(),
        (std::vector<std::string> { "main +0x10000: vma range: model 0x10000-0x14000, kernel 0x10000-0x12000",
            "main +0x12000: vma range: model 0x10000-0x14000, kernel 0x12000-0x14000" }));
    EXPECT_EQ(differenceSignature(r.differences), "vma range");
}

TEST(Check, RegularFilesCompareTheirBaseName)
{
    EXPECT_EQ(comparableName("/tmp/vmalab-x1/data"), "data");
    EXPECT_EQ(comparableName("/memfd:data (deleted)"), "/memfd:data (deleted)");
    EXPECT_EQ(comparableName("/dev/zero (deleted)"), "/dev/zero (deleted)");
    EXPECT_EQ(comparableName("/SYSV00000000 (deleted)"), "/SYSV00000000 (deleted)");
    EXPECT_EQ(comparableName("[anon:x]"), "[anon:x]");

    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    model.processes[0].vmas[2].name = "/tmp/vmalab-model/data";
    kernel.processes[0].vmas[2].name = "/tmp/vmalab-4711/data";
    EXPECT_EQ(compareRuns(model, kernel, opts()).exitStatus, 0);
    kernel.processes[0].vmas[2].name = "/tmp/vmalab-4711/other";
    EXPECT_EQ(compareRuns(model, kernel, opts()).lines(),
        std::vector<std::string> { "main +0x10000: vma name: model data, kernel other" });
    model.processes[0].vmas[2].name = "/memfd:a (deleted)";
    kernel.processes[0].vmas[2].name = "/memfd:b (deleted)";
    EXPECT_EQ(compareRuns(model, kernel, opts()).lines(),
        std::vector<std::string> { "main +0x10000: vma name: model /memfd:a (deleted), kernel /memfd:b (deleted)" });
}

// A VMA crossing the window's start, differently far on each side, with different Rss:
// clipped it is the same VMA, and its counters are not compared.
TEST(Check, VmasCrossingTheWindowEdgeAreClippedAndTheirCountersIgnored)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    model.processes[0].vmas[1].start = kModelArena - 0x1000;
    model.processes[0].pages[1].start = kModelArena - 0x1000;
    kernel.processes[0].vmas[1].start = kKernelArena - 0x5000;
    kernel.processes[0].pages[1].start = kKernelArena - 0x5000;
    testing::setKb(kernel.processes[0].vmas[1], "Rss", 20);
    EXPECT_EQ(compareRuns(model, kernel, opts()).exitStatus, 0);

    // Inside the window the same Rss difference counts.
    testing::setKb(kernel.processes[0].vmas[2], "Rss", 20);
    EXPECT_EQ(compareRuns(model, kernel, opts()).lines(),
        std::vector<std::string> { "main +0x10000: vma Rss: model 8 kB, kernel 20 kB" });
}

TEST(Check, FileOffsetsOfClippedVmasAreComparedAtTheWindowEdge)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    ObservedVma& m = model.processes[0].vmas[1];
    ObservedVma& k = kernel.processes[0].vmas[1];
    m.start = kModelArena - 0x1000; // offset 0x1000 at the window start
    m.inode = 7;
    k.start = kKernelArena - 0x2000;
    k.offset = 0x0; // offset 0x2000 at the window start
    k.inode = 7;
    model.processes[0].pages[1].start = m.start;
    kernel.processes[0].pages[1].start = k.start;
    EXPECT_EQ(compareRuns(model, kernel, opts()).lines(),
        std::vector<std::string> { "main +0x0: vma offset: model 0x1000, kernel 0x2000" });
    k.offset = 0xfffffffffffff000; // wraps: -0x1000 + 0x2000 at the window start
    EXPECT_EQ(compareRuns(model, kernel, opts()).exitStatus, 0);
}

struct VarCase
{
    const char* name;
    std::int64_t modelValue; // relative to the arena when `address`
    std::int64_t kernelValue;
    scenario::VarKind kind;
    bool address;
    const char* line; // "" when equal or not compared
};

const VarCase kVarCases[] = {
    { "error", -22, -12, scenario::VarKind::Plain, false, "vars: var v: model -22, kernel -12" },
    { "error_vs_zero", 0, -1, scenario::VarKind::Plain, false, "vars: var v: model 0, kernel -1" },
    { "small", 7, 4095, scenario::VarKind::Plain, false, "vars: var v: model 7, kernel 4095" },
    { "small_equal", 4095, 4095, scenario::VarKind::Plain, false, "" },
    { "in_window", 0x10000, 0x20000, scenario::VarKind::Plain, true,
        "vars: var v: model arena+0x10000, kernel arena+0x20000" },
    { "in_window_equal", 0x1ff000, 0x1ff000, scenario::VarKind::Plain, true, "" },
    { "outside_window", -0x100000, static_cast<std::int64_t>(kLen) + 0x5000, scenario::VarKind::Plain, true, "" },
    { "in_vs_outside", 0x1000, static_cast<std::int64_t>(kLen), scenario::VarKind::Plain, true,
        "vars: var v: model arena+0x1000, kernel 0x7fa000400000 (outside the window)" },
    { "handle_values", 3, 4, scenario::VarKind::Handle, false, "" },
    { "handle_error", 3, -24, scenario::VarKind::Handle, false, "vars: var v: model 3 (handle), kernel -24" },
    { "pid_values", 100, 4711, scenario::VarKind::Pid, false, "" },
    { "pid_error", -11, 4711, scenario::VarKind::Pid, false, "vars: var v: model -11, kernel 4711 (pid)" },
};

class CheckVar : public ::testing::TestWithParam<VarCase>
{
};

TEST_P(CheckVar, ComparedByTheContractsRules)
{
    const VarCase& c = GetParam();
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    const auto value = [&](std::int64_t v, Addr arena) { return c.address ? static_cast<std::int64_t>(arena) + v : v; };
    model.vars.push_back(makeVar("v", value(c.modelValue, kModelArena), c.kind));
    kernel.vars.push_back(makeVar("v", value(c.kernelValue, kKernelArena), c.kind));
    const CheckResult r = compareRuns(model, kernel, opts());
    if (*c.line == '\0') {
        EXPECT_EQ(r.exitStatus, 0);
        EXPECT_TRUE(r.lines().empty()) << r.lines().front();
    } else {
        EXPECT_EQ(r.exitStatus, 1);
        EXPECT_EQ(r.lines(), std::vector<std::string> { c.line });
        EXPECT_EQ(differenceSignature(r.differences), "var v");
    }
}

INSTANTIATE_TEST_SUITE_P(Vars, CheckVar, ::testing::ValuesIn(kVarCases),
    [](const auto& testInfo) { return std::string(testInfo.param.name); });

TEST(Check, ExpectVerdictsMustAgree)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    kernel.expects[0] = makeExpect(5, false);
    kernel.exitStatus = 1;
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 1);
    EXPECT_EQ(r.lines(),
        std::vector<std::string> {
            "main 5:1: expect: model passed, kernel failed (touch(p, page_size, PROT_READ) == 0; "
            "model 0x0 vs 0x0, kernel 0xb vs 0x0)" });
    EXPECT_EQ(differenceSignature(r.differences), "expect");
    EXPECT_NE(std::find(r.notes.begin(), r.notes.end(),
                  "kernel: a.vlab:5: expect failed: touch(p, page_size, PROT_READ) == 0 (0xb vs 0x0)"),
        r.notes.end());
}

TEST(Check, AnExpectFailingOnBothSidesIsNoDifferenceButExitsOne)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    model.expects[0] = makeExpect(5, false);
    kernel.expects[0] = makeExpect(5, false);
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 1);
    EXPECT_TRUE(r.differences.empty());
}

TEST(Check, ExpectsRunOnOneSideOnlyAreMatchedByLocation)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    model.expects.push_back(makeExpect(9, true, "child"));
    kernel.expects.insert(kernel.expects.begin(), makeExpect(3, true));
    EXPECT_EQ(differenceSignature(compareRuns(model, kernel, opts()).differences), "expect");
    const std::vector<std::string> lines = compareRuns(model, kernel, opts()).lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].rfind("child 9:1: expect: model passed, kernel not run", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("main 3:1: expect: model not run, kernel passed", 0), 0u) << lines[1];
}

TEST(Check, RunTimeErrorWinsOverDifferences)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    kernel.processes[0].vmas[2].perms = "r--p";
    kernel.exitStatus = 2;
    kernel.errors = { Diagnostic { "a.vlab", 4, 1, "touch would wait for a userfaultfd monitor" } };
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 2);
    EXPECT_EQ(
        r.notes, std::vector<std::string> { "kernel: a.vlab:4:1: error: touch would wait for a userfaultfd monitor" });
}

TEST(Check, MalformedScenarioErrorsArePrintedOnce)
{
    scenario::RunOutcome model, kernel;
    model.exitStatus = kernel.exitStatus = 2;
    model.errors = kernel.errors = { Diagnostic { "a.vlab", 1, 3, "unknown name 'foo'" } };
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 2);
    EXPECT_EQ(r.notes, std::vector<std::string> { "a.vlab:1:3: error: unknown name 'foo'" });
}

TEST(Check, MissingArenaIsExitTwo)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    model.vars.erase(model.vars.begin()); // arena_len
    kernel.vars.erase(kernel.vars.begin());
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 2);
    EXPECT_EQ(r.notes, std::vector<std::string> { "a.vlab has no arena/arena_len: check needs a window" });
}

TEST(Check, FailedArenaReservationIsExitTwo)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    kernel.vars[1].value = -12;
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 2);
    EXPECT_EQ(r.notes, std::vector<std::string> { "a.vlab: kernel: arena is -12: the window could not be reserved" });
}

TEST(Check, SkippedSideIsSeventySeven)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel;
    kernel.exitStatus = 77;
    kernel.skipReason = "userfaultfd is not permitted";
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 77);
    EXPECT_EQ(r.notes.back(), "skipped: userfaultfd is not permitted");
}

TEST(Check, ExtraProcessesAreReportedNotFatal)
{
    scenario::RunOutcome model = checkedRun(kModelArena);
    scenario::RunOutcome kernel = checkedRun(kKernelArena);
    ObservedProcess child = kernel.processes[0];
    child.name = "child";
    child.vmas.pop_back(); // fewer VMAs than anything on the other side
    kernel.processes.push_back(child);
    const CheckResult r = compareRuns(model, kernel, opts());
    EXPECT_EQ(r.exitStatus, 1);
    EXPECT_EQ(r.lines(), std::vector<std::string> { "child: process: model missing, kernel present" });

    model.processes.push_back(child);
    model.processes.back().vmas.clear();
    model.processes.back().pages.clear();
    const CheckResult r2 = compareRuns(model, kernel, opts());
    ASSERT_FALSE(r2.lines().empty());
    EXPECT_EQ(differenceSignature(r2.differences), "vma range");
    EXPECT_EQ(r2.lines()[0], "child +0x0: vma range: model none, kernel 0x0-0x10000");
}

TEST(Check, LabelsNameTheSides)
{
    scenario::RunOutcome a = checkedRun(kModelArena);
    scenario::RunOutcome b = checkedRun(kModelArena);
    b.processes[0].vmas[2].perms = "rwxp";
    CheckOptions o = opts();
    o.firstLabel = "v6.18";
    o.secondLabel = "maybe-guard";
    const auto diffs = windowDifferences(a, Window { kModelArena, kLen }, b, Window { kModelArena, kLen }, o);
    ASSERT_EQ(diffs.size(), 1u);
    EXPECT_EQ(diffs[0].line, "main +0x10000: vma perms: v6.18 rw-p, maybe-guard rwxp");
    EXPECT_EQ(diffs[0].offset, std::optional<Addr>(0x10000));
    EXPECT_EQ(diffs[0].first, "rw-p");
    EXPECT_EQ(diffs[0].second, "rwxp");
}

TEST(Check, SignatureIsSortedAndDistinct)
{
    std::vector<Difference> d(4);
    d[0].field = "vma perms";
    d[1].field = "page state";
    d[2].field = "vma perms";
    d[3].field = "expect";
    EXPECT_EQ(differenceSignature(d), "expect;page state;vma perms");
}

} // namespace
} // namespace vmalab::report
