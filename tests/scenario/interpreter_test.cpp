#include "core/scenario/interpreter.h"

#include <gtest/gtest.h>

#include <deque>
#include <gmock/gmock.h>
#include <map>

#include "scenario_test_util.h"

namespace vmalab::scenario {
namespace {

using test::parseOk;
using ::testing::ElementsAre;

// Records every call and answers from a script (0 where nothing is scripted).
class FakeBackend : public Backend
{
public:
    struct Call
    {
        ProcIndex proc = 0;
        std::string name;
        std::vector<Value> args;
        SourceLoc site;
        ProcIndex child = -1; // fork only
    };

    std::string describe() const override { return "fake"; }

    std::optional<std::string> missingFeature(const std::string& feature) const override
    {
        const auto it = missing.find(feature);
        return it == missing.end() ? std::nullopt : std::optional(it->second);
    }

    std::optional<std::string> start() override
    {
        ++started;
        return startError;
    }

    CallResult call(ProcIndex proc, const std::string& name, const std::vector<Value>& args, SourceLoc site) override
    {
        calls.push_back(Call { proc, name, args, site, -1 });
        return next(name, 0);
    }

    CallResult fork(ProcIndex parent, ProcIndex child, SourceLoc site) override
    {
        calls.push_back(Call { parent, "fork", {}, site, child });
        const CallResult r = next("fork", 1000 + child);
        if (r.value >= 0 && !r.runtimeError)
            ++processes;
        return r;
    }

    std::vector<ObservedProcess> observe() override
    {
        ++observed;
        std::vector<ObservedProcess> out(static_cast<std::size_t>(processes));
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i].pid = 100 + static_cast<std::int64_t>(i);
        return out;
    }

    void finish() override { ++finished; }

    std::vector<std::string> callNames() const
    {
        std::vector<std::string> names;
        for (const Call& c : calls)
            names.push_back(c.name);
        return names;
    }

    std::map<std::string, std::deque<CallResult>> script;
    std::map<std::string, std::string> missing;
    std::optional<std::string> startError;
    std::vector<Call> calls;
    int started = 0;
    int observed = 0;
    int finished = 0;
    int processes = 1;

private:
    CallResult next(const std::string& name, std::int64_t fallback)
    {
        auto& queue = script[name];
        if (queue.empty())
            return CallResult { fallback, std::nullopt };
        CallResult r = queue.front();
        queue.pop_front();
        return r;
    }
};

RunOutcome run(const std::string& source, FakeBackend& backend, StepListener* listener = nullptr)
{
    return runScenario(parseOk(source), backend, listener);
}

const VarRecord* findVar(const RunOutcome& out, const std::string& name)
{
    for (const VarRecord& v : out.vars) {
        if (v.name == name)
            return &v;
    }
    return nullptr;
}

TEST(Interpreter, RunsTheContractExample)
{
    FakeBackend b;
    b.script["touch"] = { { 0, {} }, { 11, {} }, { 11, {} }, { 0, {} } };
    const RunOutcome out = run(test::kContractExample, b);
    EXPECT_EQ(out.exitStatus, 0);
    EXPECT_TRUE(out.ran);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_THAT(b.callNames(),
        ElementsAre("mmap", "mmap", "touch", "madvise", "touch", "fork", "touch", "touch", "mprotect", "mprotect"));
    EXPECT_EQ(b.calls[5].proc, 0);
    EXPECT_EQ(b.calls[5].child, 1);
    EXPECT_EQ(b.calls[6].proc, 1);
    EXPECT_EQ(b.calls[7].proc, 1);
    EXPECT_EQ(b.calls[8].proc, 0);
    EXPECT_EQ(b.calls[8].site.line, 13);
    EXPECT_EQ(b.calls[0].args[1].num, 512 * 4096);
    EXPECT_EQ(b.calls[0].args[4].num, -1);
    ASSERT_EQ(out.vars.size(), 4u);
    EXPECT_EQ(out.vars[0].name, "arena_len");
    EXPECT_EQ(out.vars[3].name, "child");
    EXPECT_EQ(out.vars[3].kind, VarKind::Pid);
    EXPECT_EQ(out.vars[3].value, 1001);
    ASSERT_EQ(out.expects.size(), 4u);
    EXPECT_EQ(out.expects[2].process, "child");
    EXPECT_EQ(out.expects[2].lhsText, "touch(ptr + 3 * page_size, page_size, PROT_WRITE)");
    EXPECT_EQ(out.expects[2].rhs, 11);
    EXPECT_TRUE(out.expects[2].passed);
    ASSERT_EQ(out.processes.size(), 2u);
    EXPECT_EQ(out.processes[0].name, "main");
    EXPECT_EQ(out.processes[1].name, "child");
    EXPECT_EQ(out.processes[1].pid, 101);
    EXPECT_EQ(b.started, 1);
    EXPECT_EQ(b.observed, 1);
    EXPECT_EQ(b.finished, 1);
}

TEST(Interpreter, VarsInOrderOfFirstAssignmentLastValueWins)
{
    FakeBackend b;
    b.script["memfd_create"] = { { 3, {} } };
    b.script["open_file"] = { { 4, {} } };
    b.script["userfaultfd"] = { { -1, {} } };
    const RunOutcome out = run("a = 1\n"
                               "fd = memfd_create(\"x\", 0)\n"
                               "b = 2\n"
                               "a = 3\n"
                               "u = userfaultfd(0)\n"
                               "h = fd + 0\n"
                               "f = open_file(\"file\", page_size)\n"
                               "f = f\n",
        b);
    ASSERT_EQ(out.vars.size(), 6u);
    const std::pair<const char*, std::int64_t> order[] = { { "a", 3 }, { "fd", 3 }, { "b", 2 }, { "u", -1 }, { "h", 3 },
        { "f", 4 } };
    for (std::size_t i = 0; i < out.vars.size(); ++i) {
        EXPECT_EQ(out.vars[i].name, order[i].first);
        EXPECT_EQ(out.vars[i].value, order[i].second) << order[i].first;
    }
    EXPECT_EQ(findVar(out, "a")->kind, VarKind::Plain);
    EXPECT_EQ(findVar(out, "fd")->kind, VarKind::Handle);
    EXPECT_EQ(findVar(out, "u")->kind, VarKind::Handle);
    EXPECT_EQ(findVar(out, "h")->kind, VarKind::Plain);
    EXPECT_EQ(findVar(out, "f")->kind, VarKind::Plain); // the last assignment was not a call
    EXPECT_EQ(b.calls[0].args[0].isString, true);
    EXPECT_EQ(b.calls[0].args[0].str, "x");
    EXPECT_EQ(b.calls[2].args[1].num, 4096);
}

TEST(Interpreter, CallArgumentsLeftToRight)
{
    FakeBackend b;
    b.script["mprotect"] = { { 7, {} } };
    b.script["madvise"] = { { -22, {} } };
    b.script["munmap"] = { { 5, {} } };
    const RunOutcome out = run("x = munmap(mprotect(1, 2, 3), madvise(4, 5, 6)) + 1\n"
                               "prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, x, 1, \"n\")\n"
                               "prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, x, 1, NULL)\n",
        b);
    EXPECT_THAT(b.callNames(), ElementsAre("mprotect", "madvise", "munmap", "prctl", "prctl"));
    EXPECT_EQ(b.calls[2].args[0].num, 7);
    EXPECT_EQ(b.calls[2].args[1].num, -22);
    EXPECT_EQ(findVar(out, "x")->value, 6);
    EXPECT_EQ(b.calls[3].args[0].num, 0x53564d41);
    EXPECT_TRUE(b.calls[3].args[4].isString);
    EXPECT_FALSE(b.calls[4].args[4].isString);
    EXPECT_EQ(b.calls[4].args[4].num, 0);
}

struct ArithCase
{
    const char* expr;
    std::int64_t value;
};

const ArithCase kArith[] = {
    { "7 / 2", 3 },
    { "-7 / 2", -3 },
    { "7 / -2", -3 },
    { "-7 % 2", -1 },
    { "7 % -2", 1 },
    { "-9223372036854775807 - 1", INT64_MIN },
    { "-9223372036854775808", INT64_MIN },
    { "(-9223372036854775807 - 1) / -1", INT64_MIN },
    { "(-9223372036854775807 - 1) % -1", 0 },
    { "9223372036854775807 + 1", INT64_MIN },
    { "0x7fffffffffffffff * 2", -2 },
    { "-(-9223372036854775807 - 1)", INT64_MIN },
    { "-1 >> 1", -1 },
    { "-16 >> 2", -4 },
    { "0xffffffffffffffff >> 60", -1 },
    { "1 << 63", INT64_MIN },
    { "1 << 64", 1 },
    { "1 << 65", 2 },
    { "1 << -1", INT64_MIN },
    { "256 >> 68", 16 },
    { "~0", -1 },
    { "+5", 5 },
    { "6 & 3 | 8 ^ 1", 11 },
    { "2M / page_size", 512 },
    { "-EINVAL", -22 },
};

class Arithmetic : public ::testing::TestWithParam<ArithCase>
{
};

TEST_P(Arithmetic, Int64Semantics)
{
    FakeBackend b;
    const RunOutcome out = run(std::string("x = ") + GetParam().expr + "\n", b);
    ASSERT_EQ(out.exitStatus, 0);
    ASSERT_EQ(out.vars.size(), 1u);
    EXPECT_EQ(out.vars[0].value, GetParam().value) << GetParam().expr;
}

INSTANTIATE_TEST_SUITE_P(Table, Arithmetic, ::testing::ValuesIn(kArith));

TEST(Interpreter, DivisionByZeroStopsTheRun)
{
    FakeBackend b;
    const RunOutcome out = run("a = 0\nb = 7 /  a\nmunmap(1, 1)\n", b);
    EXPECT_EQ(out.exitStatus, 2);
    EXPECT_TRUE(out.ran);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab:2:7: error: division by zero");
    EXPECT_TRUE(b.calls.empty());
    EXPECT_EQ(out.vars.size(), 1u);
    EXPECT_EQ(b.observed, 1);
    EXPECT_EQ(b.finished, 1);
}

TEST(Interpreter, ModuloByZero)
{
    FakeBackend b;
    const RunOutcome out = run("expect 1 == 5 % (2 - 2)\n", b);
    EXPECT_EQ(out.exitStatus, 2);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab:1:15: error: modulo by zero");
    EXPECT_TRUE(out.expects.empty());
}

TEST(Interpreter, FailedExpectSetsExitOneAndRunGoesOn)
{
    FakeBackend b;
    b.script["munmap"] = { { -22, {} } };
    const RunOutcome out = run("expect munmap(4096, 1) == 0\nexpect 1 != 2\nmprotect(0, 0, 0)\n", b);
    EXPECT_EQ(out.exitStatus, 1);
    ASSERT_EQ(out.expects.size(), 2u);
    EXPECT_FALSE(out.expects[0].passed);
    EXPECT_EQ(out.expects[0].lhs, -22);
    EXPECT_EQ(out.expects[0].loc.line, 1);
    EXPECT_TRUE(out.expects[1].passed);
    EXPECT_FALSE(out.expects[1].equal);
    EXPECT_EQ(b.callNames().back(), "mprotect");
    EXPECT_EQ(formatExpectFailure(out.expects[0], "t.vlab"),
        "t.vlab:1: expect failed: munmap(4096, 1) == 0 (0xffffffffffffffea vs 0x0)");
}

TEST(Interpreter, BackendRuntimeErrorStopsAndWinsOverFailedExpect)
{
    FakeBackend b;
    b.script["touch"] = { { 0, std::string("touch would wait for a userfaultfd monitor") } };
    const RunOutcome out =
        run("expect 1 == 2\nc = fork()\nin c {\n  x = 1 + touch(0, 1, PROT_READ)\n}\nmunmap(1, 1)\n", b);
    EXPECT_EQ(out.exitStatus, 2);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab:4:11: error: touch would wait for a userfaultfd monitor");
    EXPECT_THAT(b.callNames(), ElementsAre("fork", "touch"));
    EXPECT_EQ(findVar(out, "x"), nullptr);
    ASSERT_EQ(out.processes.size(), 2u);
    EXPECT_EQ(out.processes[1].name, "c");
    EXPECT_EQ(b.finished, 1);
}

TEST(Interpreter, FailingCallIsJustAValue)
{
    FakeBackend b;
    b.script["mmap"] = { { -12, {} } };
    const RunOutcome out = run("mmap(0, 1, 0, 0, -1, 0)\np = mmap(0, 1, 0, 0, -1, 0)\n", b);
    EXPECT_EQ(out.exitStatus, 0);
    EXPECT_EQ(findVar(out, "p")->value, 0);
    EXPECT_EQ(b.calls.size(), 2u);
}

TEST(Interpreter, ForkAndInSwitchProcesses)
{
    FakeBackend b;
    const RunOutcome out = run("c = fork()\n"
                               "in c {\n"
                               "    munmap(1, 1)\n"
                               "    g = fork()\n"
                               "    in g { munmap(2, 2) }\n"
                               "    in main { munmap(3, 3) }\n"
                               "    munmap(4, 4)\n"
                               "}\n"
                               "munmap(5, 5)\n",
        b);
    EXPECT_EQ(out.exitStatus, 0);
    ASSERT_EQ(b.calls.size(), 7u);
    EXPECT_EQ(b.calls[0].child, 1);
    EXPECT_EQ(b.calls[0].proc, 0);
    EXPECT_EQ(b.calls[1].proc, 1);
    EXPECT_EQ(b.calls[2].name, "fork");
    EXPECT_EQ(b.calls[2].proc, 1);
    EXPECT_EQ(b.calls[2].child, 2);
    EXPECT_EQ(b.calls[3].proc, 2);
    EXPECT_EQ(b.calls[4].proc, 0);
    EXPECT_EQ(b.calls[5].proc, 1);
    EXPECT_EQ(b.calls[6].proc, 0);
    ASSERT_EQ(out.processes.size(), 3u);
    EXPECT_EQ(out.processes[2].name, "g");
    EXPECT_EQ(findVar(out, "g")->kind, VarKind::Pid);
}

TEST(Interpreter, FailedForkCreatesNoProcess)
{
    FakeBackend b;
    b.script["fork"] = { { -12, {} } };
    const RunOutcome out = run("c = fork()\nexpect c == -ENOMEM\nin c { munmap(1, 1) }\n", b);
    EXPECT_EQ(out.exitStatus, 2);
    EXPECT_EQ(findVar(out, "c")->value, -12);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab:3:1: error: process 'c' does not exist: its fork() returned -ENOMEM");
    EXPECT_EQ(out.expects.size(), 1u);
    EXPECT_EQ(out.processes.size(), 1u);
}

TEST(Interpreter, MissingRequireSkipsEverything)
{
    FakeBackend b;
    b.missing["swap"] = "no swap space";
    const RunOutcome out = run("profile \"v6.18\"\nrequire \"thp\"\nrequire \"swap\"\nmunmap(1, 1)\n", b);
    EXPECT_EQ(out.exitStatus, 77);
    EXPECT_EQ(out.skipReason, "no swap space");
    EXPECT_FALSE(out.ran);
    EXPECT_EQ(b.started, 0);
    EXPECT_EQ(b.finished, 0);
    EXPECT_TRUE(b.calls.empty());
}

TEST(Interpreter, PresentRequiresRun)
{
    FakeBackend b;
    b.missing["swap"] = "no swap space";
    const RunOutcome out = run("require \"thp\"\nmunmap(1, 1)\n", b);
    EXPECT_EQ(out.exitStatus, 0);
    EXPECT_TRUE(out.ran);
    EXPECT_EQ(b.calls.size(), 1u);
}

TEST(Interpreter, StartErrorIsARuntimeError)
{
    FakeBackend b;
    b.startError = "cannot create the temporary directory";
    const RunOutcome out = run("munmap(1, 1)\n", b);
    EXPECT_EQ(out.exitStatus, 2);
    EXPECT_FALSE(out.ran);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab: error: cannot create the temporary directory");
    EXPECT_TRUE(b.calls.empty());
    EXPECT_EQ(b.finished, 1);
}

TEST(Interpreter, MalformedScenarioNeverStarts)
{
    FakeBackend b;
    Scenario s = parseOk("a = 1\nb = a\n");
    s.stmts.erase(s.stmts.begin());
    const RunOutcome out = runScenario(s, b);
    EXPECT_EQ(out.exitStatus, 2);
    EXPECT_FALSE(out.ran);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].format(), "t.vlab:2:5: error: unknown name 'a'");
    EXPECT_EQ(b.started, 0);
}

class RecordingListener : public StepListener
{
public:
    void beforeStatement(const Stmt& s, ProcIndex proc) override
    {
        events.push_back("stmt " + std::to_string(s.loc.line) + " in " + std::to_string(proc));
    }
    void afterCall(const Stmt& s, const std::string& call, std::int64_t value) override
    {
        events.push_back(call + " = " + std::to_string(value) + " at " + std::to_string(s.loc.line));
    }
    std::vector<std::string> events;
};

TEST(Interpreter, ListenerSeesStatementsAndCalls)
{
    FakeBackend b;
    b.script["munmap"] = { { -22, {} } };
    RecordingListener l;
    run("profile \"v6.18\"\nc = fork()\nin c { expect munmap(1, 1) == -EINVAL }\n", b, &l);
    EXPECT_THAT(
        l.events, ElementsAre("stmt 2 in 0", "fork = 1001 at 2", "stmt 3 in 0", "stmt 3 in 1", "munmap = -22 at 3"));
}

TEST(Interpreter, ProfileAndRequires)
{
    const Scenario s = parseOk("profile \"maybe-guard\"\nrequire \"thp\"\nrequire \"userfaultfd\"\na = 1\n");
    EXPECT_EQ(scenarioProfile(s), std::optional<std::string>("maybe-guard"));
    EXPECT_THAT(scenarioRequires(s), ElementsAre("thp", "userfaultfd"));
    EXPECT_EQ(scenarioProfile(parseOk("a = 1\n")), std::nullopt);
}

TEST(Interpreter, FormatHex)
{
    EXPECT_EQ(formatHex(0), "0x0");
    EXPECT_EQ(formatHex(4096), "0x1000");
    EXPECT_EQ(formatHex(0xABCDEF), "0xabcdef");
    EXPECT_EQ(formatHex(-22), "0xffffffffffffffea");
    EXPECT_EQ(formatHex(INT64_MIN), "0x8000000000000000");
}

TEST(Interpreter, FormatExpectFailureInChild)
{
    ExpectRecord r;
    r.loc = SourceLoc { 10, 5 };
    r.process = "child";
    r.lhsText = "touch(ptr + 3 * page_size, page_size, PROT_WRITE)";
    r.rhsText = "SIGSEGV";
    r.lhs = 0;
    r.rhs = 11;
    r.equal = true;
    EXPECT_EQ(formatExpectFailure(r, "g.vlab"),
        "child: g.vlab:10: expect failed: touch(ptr + 3 * page_size, page_size, PROT_WRITE) == SIGSEGV (0x0 vs 0xb)");
    r.process = "main";
    r.equal = false;
    r.lhsText = "a";
    r.rhsText = "b";
    r.lhs = r.rhs = -1;
    EXPECT_EQ(formatExpectFailure(r, "g.vlab"),
        "g.vlab:10: expect failed: a != b (0xffffffffffffffff vs 0xffffffffffffffff)");
}

} // namespace
} // namespace vmalab::scenario
