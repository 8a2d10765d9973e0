// check-recording: a recording's model run against its recorded end state.

#include "core/engine/model_backend.h"
#include "core/report/recording_check.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"
#include "core/snapshot/snapshot.h"

#include <gtest/gtest.h>

namespace vmalab::report {
namespace {

snapshot::SnapshotVma anonVma(Addr start, Addr end, const std::string& name, std::vector<std::string> flags)
{
    snapshot::SnapshotVma v;
    v.vma.start = start;
    v.vma.end = end;
    v.vma.perms = "rw-p";
    v.vma.name = name;
    v.vma.vmFlags = std::move(flags);
    v.vma.smapsKb = { { "Size", (end - start) >> 10 }, { "Rss", 0 }, { "Anonymous", 0 } };
    return v;
}

snapshot::Snapshot process(std::int64_t pid, std::vector<snapshot::SnapshotVma> vmas, PageState state = PageState::None)
{
    snapshot::Snapshot snap;
    snapshot::SnapshotProcess p;
    p.pid = pid;
    p.start_brk = 0x555555559000;
    p.vmas = std::move(vmas);
    for (const snapshot::SnapshotVma& v : p.vmas)
        p.pages.push_back({ PageRun { v.vma.start, v.vma.end, state }, 0 });
    snap.processes.push_back(std::move(p));
    return snap;
}

const std::vector<std::string> heapFlags = { "rd", "wr", "mr", "mw", "me", "ac" };

class CheckRecording : public ::testing::Test
{
protected:
    RecordingCheck check(const std::string& body, const snapshot::Snapshot& start, const snapshot::Snapshot& end)
    {
        const std::string text = "start_from \"s.vsnap\"\nrecorded_end \"e.vsnap\"\n" + body;
        auto parsed = scenario::parseScenario(text, "r.vlab");
        EXPECT_TRUE(parsed.has_value());
        scenario::Scenario s = std::move(*parsed);
        s.snapshotFiles["s.vsnap"] = std::make_shared<const std::vector<snapshot::Snapshot>>(std::vector { start });
        s.snapshotFiles["e.vsnap"] = std::make_shared<const std::vector<snapshot::Snapshot>>(std::vector { end });
        ModelBackend backend(*builtinProfile("v6.18"));
        const scenario::RunOutcome o = scenario::runScenario(s, backend);
        EXPECT_EQ(o.exitStatus, 0);
        return checkRecording(s, text, o);
    }
};

TEST_F(CheckRecording, AllRightIsExitZero)
{
    const auto start = process(42, { anonVma(0x555555559000, 0x55555557a000, "[heap]", heapFlags) });
    const auto end = process(42, { anonVma(0x555555559000, 0x55555559b000, "[heap]", heapFlags) });
    const RecordingCheck r =
        check("brk(0x55555559b000) -> 0x55555559b000\n// not modelled: mbind(0x1, 2) = 0\n", start, end);
    EXPECT_EQ(r.exitStatus, 0) << formatRecordingCheck(r);
    ASSERT_EQ(r.processes.size(), 1u);
    EXPECT_EQ(r.processes[0].pid, 42);
    EXPECT_EQ(r.processes[0].kernelVmas, 1u);
    EXPECT_EQ(r.processes[0].exact, 1u);
    EXPECT_EQ(r.notModelled, 1u);
    EXPECT_NE(
        formatRecordingCheck(r).find("VMAs: 1 in the kernel, 1 in the model, 1 exactly right"), std::string::npos);
}

TEST_F(CheckRecording, DifferencesAreGroupedByKind)
{
    const auto start = process(42, { anonVma(0x555555559000, 0x55555557a000, "[heap]", heapFlags) });
    auto end = process(42,
        { anonVma(0x555555559000, 0x55555557a000, "[heap]", { "rd", "wr", "mr", "mw", "me", "ac", "dd" }),
            anonVma(0x7f0000000000, 0x7f0000001000, "", heapFlags) });
    const RecordingCheck r = check(
        "mmap(0x7f0000010000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) -> 0\n", start, end);
    EXPECT_EQ(r.exitStatus, 1);
    ASSERT_EQ(r.processes.size(), 1u);
    std::vector<std::string> kinds;
    for (const RecordingDifference& d : r.processes[0].differences)
        kinds.push_back(d.kind);
    EXPECT_EQ(kinds, (std::vector<std::string> { "missing", "extra", "flags" })) << formatRecordingCheck(r);
    EXPECT_NE(r.processes[0].differences[2].line.find("the model lacks dd"), std::string::npos);
    EXPECT_EQ(r.divergences.size(), 1u) << "mmap returned the address, not 0";
    EXPECT_NE(recordingCheckJson(r).find("\"kind\": \"flags\""), std::string::npos);
}

TEST_F(CheckRecording, PagesAreComparedOnlyWhereObserved)
{
    const auto start = process(42, { anonVma(0x7f0000000000, 0x7f0000004000, "", heapFlags) });
    const auto end = process(42, { anonVma(0x7f0000000000, 0x7f0000004000, "", heapFlags) }, PageState::Present);
    const RecordingCheck unobserved = check("", start, end);
    EXPECT_EQ(unobserved.exitStatus, 0) << formatRecordingCheck(unobserved);
    const RecordingCheck observed =
        check("observe(0x7f0000000000, 0x1000, \"anon\")\nobserve(0x7f0000001000, 0x2000, \"none\")\n", start, end);
    ASSERT_EQ(observed.processes[0].differences.size(), 1u) << formatRecordingCheck(observed);
    EXPECT_EQ(observed.processes[0].differences[0].kind, "pages");
    EXPECT_EQ(observed.processes[0].differences[0].line, "0x7f0000001000-0x7f0000003000: model none, kernel present");
}

} // namespace
} // namespace vmalab::report
