// The language extension for recordings (docs/recording.md): start_from, recorded_end,
// `-> RESULT`, observe, open_mapped, brk, exec, spawn.

#include "core/engine/model_backend.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/printer.h"
#include "core/scenario/recording_files.h"
#include "core/snapshot/snapshot.h"
#include "core/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include <map>

#include "scenario_test_util.h"

namespace vmalab::scenario::test {
namespace {

const char* const kHeader = "profile \"v6.18\"\nstart_from \"a.start.vsnap\"\nrecorded_end \"a.end.vsnap\"\n";

TEST(RecordingLanguage, ParsesHeaderAndRecordedResults)
{
    const Scenario s = parseOk(std::string(kHeader)
        + "brk(0) -> 0x5000\n"
          "x = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) -> 0x7f0000000000\n"
          "munmap(x, 4096) -> -EINVAL\n");
    ASSERT_EQ(s.stmts.size(), 6u);
    EXPECT_EQ(s.stmts[1].kind, Stmt::Kind::StartFrom);
    EXPECT_EQ(s.stmts[1].name, "a.start.vsnap");
    EXPECT_EQ(s.stmts[2].kind, Stmt::Kind::RecordedEnd);
    ASSERT_TRUE(s.stmts[3].recorded);
    EXPECT_EQ(s.stmts[3].recorded->value, 0x5000);
    EXPECT_EQ(s.stmts[4].kind, Stmt::Kind::Assign);
    ASSERT_TRUE(s.stmts[4].recorded);
    EXPECT_EQ(sexpr(*s.stmts[5].recorded), "(- EINVAL)");
    EXPECT_EQ(startFromPath(s), "a.start.vsnap");
    EXPECT_EQ(recordedEndPath(s), "a.end.vsnap");
}

TEST(RecordingLanguage, PrintsWhatItParses)
{
    const std::string text = std::string(kHeader) + "brk(0) -> 20480\n";
    const Scenario s = parseOk(text);
    EXPECT_NE(printScenario(s).find("start_from \"a.start.vsnap\""), std::string::npos);
    EXPECT_NE(printScenario(s).find("brk(0) -> 0x5000"), std::string::npos) << printScenario(s);
}

TEST(RecordingLanguage, NewCallsAndProcesses)
{
    const Scenario s = parseOk(std::string(kHeader)
        + "f = open_mapped(\"/usr/lib/libc.so.6\", \"08:03\", 1835102, 1922136, O_RDONLY)\n"
          "observe(0x7ffd3b2f0000, 0x2000, \"anon\")\n"
          "exec(\"a.exec-42.vsnap\")\n"
          "child = spawn(\"a.exec-43.vsnap\")\n"
          "in child { brk(0) }\n"
          "p4243 = fork() -> 4243\n"
          "in p4243 { munmap(0x7f0000000000, 8192) -> 0 }\n"
          "in p77 { brk(0) }\n");
    EXPECT_EQ(s.stmts.size(), 11u);
}

TEST(RecordingLanguage, ErrorsSayWhere)
{
    EXPECT_EQ(parseErrors("x = 1 -> 2\n"),
        "t.vlab:1:7: error: '->' gives the result a call returned; it must follow a call\n");
    EXPECT_EQ(parseErrors("brk(0)\nstart_from \"a.vsnap\"\n"),
        "t.vlab:2:1: error: 'start_from' belongs to the header: before every statement but 'profile', 'require' and "
        "each other\n");
    EXPECT_EQ(parseErrors("start_from \"a\"\nstart_from \"b\"\n"),
        "t.vlab:2:1: error: a scenario starts from one snapshot: 'start_from' is given twice\n");
    EXPECT_EQ(parseErrors("start_from a\n"), "t.vlab:1:12: error: expected a string after 'start_from', found 'a'\n");
    EXPECT_EQ(parseErrors("observe(0, 4096, \"dirty\")\n"),
        "t.vlab:1:18: error: unknown page state 'dirty' (known: none, anon, file, swap, guard)\n");
    EXPECT_EQ(parseErrors("spawn(\"a.vsnap\")\n"),
        "t.vlab:1:1: error: spawn() must be bound to a name, as in 'child = spawn(\"FILE.vsnap\")'\n");
    EXPECT_EQ(parseErrors("in p77 { brk(0) }\n"),
        "t.vlab:1:4: error: no process named 'p77' exists here; create it first with 'p77 = fork()'\n");
    EXPECT_EQ(parseErrors("brk(0) ->\n"), "t.vlab:1:10: error: expected an expression, found end of line\n");
}

// Snapshot files served from memory.
struct Files
{
    std::map<std::string, std::string> bytes;
    FileReader reader()
    {
        return [this](const std::string& path, std::string* error) -> std::optional<std::string> {
            const auto it = bytes.find(path);
            if (it == bytes.end()) {
                *error = "No such file or directory";
                return std::nullopt;
            }
            return it->second;
        };
    }
};

snapshot::Snapshot heapProcess(std::int64_t pid, Addr heapEnd)
{
    snapshot::Snapshot snap;
    snapshot::SnapshotProcess p;
    p.pid = pid;
    p.start_brk = 0x555555559000;
    snapshot::SnapshotVma heap;
    heap.vma.start = 0x555555559000;
    heap.vma.end = heapEnd;
    heap.vma.perms = "rw-p";
    heap.vma.name = "[heap]";
    heap.vma.vmFlags = { "rd", "wr", "mr", "mw", "me", "ac" };
    heap.vma.smapsKb = { { "Size", (heapEnd - heap.vma.start) >> 10 }, { "Rss", 0 }, { "Anonymous", 0 } };
    p.vmas.push_back(heap);
    p.pages.push_back({ PageRun { heap.vma.start, heapEnd, PageState::None }, 0 });
    snap.processes.push_back(p);
    return snap;
}

TEST(RecordingLanguage, SnapshotFilesKeepStartBrk)
{
    const auto parsed = snapshot::parseSnapshots(snapshot::writeSnapshots({ heapProcess(5, 0x55555557a000) }));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->front().processes.front().start_brk, 0x555555559000u);
    snapshot::Snapshot unknown = heapProcess(5, 0x55555557a000);
    unknown.processes[0].start_brk = 0;
    const std::string bytes = snapshot::writeSnapshots({ unknown });
    EXPECT_EQ(snapshot::parseSnapshots(bytes)->front().processes.front().start_brk, 0u) << "optional: 0 is unknown";
}

TEST(RecordingLanguage, LoaderReportsMissingAndBadFiles)
{
    Scenario s = parseOk(std::string(kHeader) + "exec(\"gone.vsnap\")\n");
    Files files;
    files.bytes["dir/a.start.vsnap"] = "not a snapshot";
    const Diagnostics d = loadRecordingFiles(s, "dir", files.reader());
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].line, 2);
    EXPECT_NE(d[0].message.find("dir/a.start.vsnap is not a snapshot file"), std::string::npos) << d[0].message;
    EXPECT_EQ(d[1].line, 3);
    EXPECT_NE(d[1].message.find("cannot read the snapshot file dir/a.end.vsnap: No such file"), std::string::npos);
    EXPECT_EQ(d[2].line, 4);
    EXPECT_EQ(d[2].col, 6);
}

class RecordingRun : public ::testing::Test
{
protected:
    RunOutcome run(const std::string& body, const snapshot::Snapshot& start)
    {
        Scenario s = parseOk(std::string(kHeader) + body);
        Files files;
        files.bytes["/r/a.start.vsnap"] = snapshot::writeSnapshots({ start });
        files.bytes["/r/a.end.vsnap"] = snapshot::writeSnapshots({ start });
        files.bytes["/r/exec.vsnap"] = snapshot::writeSnapshots({ heapProcess(99, 0x555555600000) });
        const Diagnostics d = loadRecordingFiles(s, "/r", files.reader());
        EXPECT_TRUE(d.empty()) << (d.empty() ? "" : d.front().format());
        ModelBackend backend(*builtinProfile("v6.18"));
        RunOutcome o = runScenario(s, backend);
        world = backend.world();
        return o;
    }
    World world;
};

TEST_F(RecordingRun, StartsFromTheSnapshotAndBrkGrowsItsHeap)
{
    const RunOutcome o =
        run("brk(0) -> 0x55555557a000\nbrk(0x55555559b000) -> 0x55555559b000\n", heapProcess(42, 0x55555557a000));
    EXPECT_EQ(o.exitStatus, 0);
    EXPECT_TRUE(o.divergences.empty());
    ASSERT_EQ(o.processes.size(), 1u);
    EXPECT_EQ(o.processes[0].name, "main");
    EXPECT_EQ(o.processes[0].pid, 42);
    ASSERT_EQ(o.processes[0].vmas.size(), 1u);
    EXPECT_EQ(o.processes[0].vmas[0].end, 0x55555559b000u);
    EXPECT_EQ(o.processes[0].vmas[0].name, "[heap]");
}

TEST_F(RecordingRun, ADifferentResultIsADivergenceAndTheRunGoesOn)
{
    const RunOutcome o = run("brk(0) -> 0x1000\nbrk(0) -> 0x55555557a000\n", heapProcess(42, 0x55555557a000));
    EXPECT_EQ(o.exitStatus, 0);
    ASSERT_EQ(o.divergences.size(), 1u);
    EXPECT_EQ(formatDivergence(o.divergences[0]),
        "t.vlab:4:1: divergence: model returned 0x55555557a000, the kernel returned 4096");
    ASSERT_FALSE(o.notes.empty());
    EXPECT_EQ(o.notes.back(), formatDivergence(o.divergences[0]));
}

TEST_F(RecordingRun, PlacesAtTheRecordedAddress)
{
    const RunOutcome o = run("x = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) -> 0x7f1c2a400000\n"
                             "y = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) -> 0x7f1c2a400000\n",
        heapProcess(42, 0x55555557a000));
    ASSERT_EQ(o.vars.size(), 2u);
    EXPECT_EQ(o.vars[0].value, 0x7f1c2a400000);
    EXPECT_NE(o.vars[1].value, 0x7f1c2a400000) << "taken: the model places it itself";
    EXPECT_EQ(o.divergences.size(), 1u);
}

TEST_F(RecordingRun, ForkTakesTheRecordedPidAndExecReplacesTheAddressSpace)
{
    const RunOutcome o =
        run("p4243 = fork() -> 4243\nin p4243 { exec(\"exec.vsnap\") }\n", heapProcess(42, 0x55555557a000));
    EXPECT_EQ(o.exitStatus, 0) << (o.errors.empty() ? "" : o.errors.front().format());
    EXPECT_TRUE(o.divergences.empty());
    ASSERT_EQ(o.processes.size(), 2u);
    EXPECT_EQ(o.processes[1].name, "p4243");
    EXPECT_EQ(o.processes[1].pid, 4243);
    ASSERT_EQ(o.processes[1].vmas.size(), 1u);
    EXPECT_EQ(o.processes[1].vmas[0].end, 0x555555600000u);
}

TEST_F(RecordingRun, SpawnMakesAProcessOfTheSnapshot)
{
    const RunOutcome o =
        run("c = spawn(\"exec.vsnap\")\nin c { brk(0) -> 0x555555600000 }\n", heapProcess(42, 0x55555557a000));
    EXPECT_EQ(o.exitStatus, 0) << (o.errors.empty() ? "" : o.errors.front().format());
    ASSERT_EQ(o.processes.size(), 2u);
    EXPECT_EQ(o.processes[1].pid, 99);
    EXPECT_TRUE(o.divergences.empty());
}

TEST_F(RecordingRun, OpenMappedSharesTheSnapshotsFile)
{
    snapshot::Snapshot start = heapProcess(42, 0x55555557a000);
    snapshot::SnapshotVma lib;
    lib.vma.start = 0x7f0000000000;
    lib.vma.end = 0x7f0000002000;
    lib.vma.perms = "r--p";
    lib.vma.devMajor = 8;
    lib.vma.devMinor = 3;
    lib.vma.inode = 1835102;
    lib.vma.name = "/usr/lib/libc.so.6";
    lib.vma.vmFlags = { "rd", "mr", "mw", "me" };
    start.processes[0].vmas.push_back(lib);
    start.processes[0].pages.push_back({ PageRun { lib.vma.start, lib.vma.end, PageState::None }, 0 });
    const RunOutcome o =
        run("f = open_mapped(\"/usr/lib/libc.so.6\", \"08:03\", 1835102, 1922136, O_RDONLY)\n"
            "mmap(0x7f0000002000, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 8192) -> 0x7f0000002000\n",
            start);
    EXPECT_TRUE(o.divergences.empty());
    ASSERT_EQ(o.processes[0].vmas.size(), 2u);
    EXPECT_EQ(o.processes[0].vmas[1].end, 0x7f0000003000u) << "merged with the snapshot's libc mapping";
}

TEST(RecordingRunReplay, TheDefaultBackendRefusesStartFrom)
{
    struct Refusing : Backend
    {
        std::string describe() const override { return "kernel"; }
        std::optional<std::string> missingFeature(const std::string&) const override { return std::nullopt; }
        std::optional<std::string> start() override { return std::nullopt; }
        CallResult call(ProcIndex, const std::string&, const std::vector<Value>&, SourceLoc) override { return {}; }
        CallResult fork(ProcIndex, ProcIndex, SourceLoc) override { return {}; }
        std::vector<ObservedProcess> observe() override { return {}; }
        void finish() override { }
    } backend;
    Scenario s = parseOk(std::string(kHeader));
    s.snapshotFiles["a.start.vsnap"] = std::make_shared<const std::vector<snapshot::Snapshot>>(
        std::vector<snapshot::Snapshot> { heapProcess(1, 0x55555557a000) });
    const RunOutcome o = runScenario(s, backend);
    EXPECT_EQ(o.exitStatus, 2);
    ASSERT_EQ(o.errors.size(), 1u);
    EXPECT_EQ(o.errors[0].line, 2);
    EXPECT_NE(o.errors[0].message.find("check-recording"), std::string::npos);
}

} // namespace
} // namespace vmalab::scenario::test
