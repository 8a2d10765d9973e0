// vmalab-cli: run scenarios on the model, replay them on the running kernel, compare both,
// and hunt for differences at random. Wiring only: the work happens in core/ and core/host/.
#include "core/engine/trace.h"
#include "core/host/differential.h"
#include "core/host/probe.h"
#include "core/host/runner.h"
#include "core/report/check.h"
#include "core/report/emit.h"
#include "core/scenario/interpreter.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace vmalab;

constexpr const char* kUsage = R"(usage: vmalab-cli COMMAND [OPTIONS]

Commands:
  run FILE [--profile P] [--machine host|reference] [--emit KINDS] [--trace]
                      run a scenario on the model (default profile: host); --machine
                      reference models the documented reference machine instead of this one
  replay FILE [--emit KINDS]
                      run a scenario for real on the running kernel
  check FILE          run both and compare them inside the scenario's window
  fuzz [--seed S] [--count N] [--ops N] [--out DIR] [--profile P] [--show] [--max-shrink N]
                      random differential testing of the model against the kernel;
                      --show prints sequence S instead of running it
  probe               which kernel behaviour profile the running kernel shows
  profiles            list the behaviour profiles

KINDS is a comma-separated list of maps, smaps, pages, stats, vars, ascii, json.
Exit status: 0 all well, 1 a failed expect or a difference, 2 a malformed scenario or a
run-time error, 77 skipped (the kernel or profile lacks what the scenario requires).
)";

struct Args
{
    std::string command;
    std::string file;
    std::optional<std::string> profile;
    std::string emit;
    bool trace = false;
    std::uint64_t seed = 1;
    std::uint64_t count = 100;
    unsigned ops = 12;
    std::string outDir = "fuzz-failures";
    bool show = false;
    unsigned maxShrink = 3;
    bool referenceMachine = false;
};

[[noreturn]] void usageError(const std::string& message)
{
    std::fprintf(stderr, "vmalab-cli: %s\n\n%s", message.c_str(), kUsage);
    std::exit(2);
}

std::uint64_t parseNumber(const std::string& flag, const char* text)
{
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 0);
    if (errno || !end || *end || !*text)
        usageError(flag + " needs a number, not \"" + text + "\"");
    return v;
}

Args parseArgs(int argc, char** argv)
{
    Args a;
    if (argc < 2)
        usageError("no command");
    a.command = argv[1];
    if (a.command == "--help" || a.command == "-h" || a.command == "help") {
        std::fputs(kUsage, stdout);
        std::exit(0);
    }
    if (a.command == "--version") {
        std::printf("vmalab-cli 0.1\nprofiles: host");
        for (const std::string& n : builtinProfileNames())
            std::printf(", %s", n.c_str());
        std::printf("\n");
        std::exit(0);
    }
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc)
                usageError(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--profile")
            a.profile = value();
        else if (arg == "--emit")
            a.emit = value();
        else if (arg == "--trace")
            a.trace = true;
        else if (arg == "--seed")
            a.seed = parseNumber(arg, value());
        else if (arg == "--count")
            a.count = parseNumber(arg, value());
        else if (arg == "--ops")
            a.ops = static_cast<unsigned>(parseNumber(arg, value()));
        else if (arg == "--out")
            a.outDir = value();
        else if (arg == "--show")
            a.show = true;
        else if (arg == "--max-shrink")
            a.maxShrink = static_cast<unsigned>(parseNumber(arg, value()));
        else if (arg == "--machine") {
            const std::string m = value();
            if (m != "reference" && m != "host")
                usageError("--machine takes host or reference");
            a.referenceMachine = m == "reference";
        }
        else if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else if (a.file.empty())
            a.file = arg;
        else
            usageError("more than one scenario file given");
    }
    return a;
}

void printLines(const std::vector<std::string>& lines, FILE* to)
{
    for (const std::string& l : lines)
        std::fprintf(to, "%s\n", l.c_str());
}

// Diagnostics, failed expects, notes and `skipped:` go to stderr, as the contract says.
void reportOutcome(const scenario::RunOutcome& o, const std::string& file)
{
    printLines(o.notes, stderr);
    for (const Diagnostic& d : o.errors)
        std::fprintf(stderr, "%s\n", d.format().c_str());
    for (const scenario::ExpectRecord& e : o.expects)
        if (!e.passed)
            std::fprintf(stderr, "%s\n", scenario::formatExpectFailure(e, file).c_str());
    if (o.exitStatus == 77)
        std::fprintf(stderr, "skipped: %s\n", o.skipReason.c_str());
}

report::EmitOptions emitOptions(const Args& a, bool model)
{
    report::EmitOptions opts;
    if (!a.emit.empty()) {
        auto parsed = report::parseEmitList(a.emit);
        if (!parsed) {
            for (const Diagnostic& d : parsed.error())
                std::fprintf(stderr, "vmalab-cli: --emit: %s\n", d.message.c_str());
            std::exit(2);
        }
        opts = *parsed;
    }
    opts.modelRun = model;
    return opts;
}

scenario::Scenario loadOrExit(const std::string& file)
{
    if (file.empty())
        usageError("no scenario file given");
    auto s = host::loadScenarioFile(file);
    if (!s) {
        for (const Diagnostic& d : s.error())
            std::fprintf(stderr, "%s\n", d.format().c_str());
        std::exit(2);
    }
    return std::move(*s);
}

Profile profileOrExit(const std::string& name, bool referenceMachine = false)
{
    if (referenceMachine) {
        if (auto p = builtinProfile(name))
            return *p;
        usageError("--machine reference needs a built-in behaviour profile, not \"" + name + "\"");
    }
    std::vector<std::string> notes;
    auto p = host::resolveProfile(name, &notes);
    if (!p) {
        std::fprintf(stderr, "vmalab-cli: %s\n", p.error().front().message.c_str());
        std::exit(2);
    }
    return *p;
}

int cmdRun(const Args& a)
{
    const scenario::Scenario s = loadOrExit(a.file);
    const std::string profileName = a.profile ? *a.profile : scenario::scenarioProfile(s).value_or("host");
    const Profile profile = profileOrExit(profileName, a.referenceMachine);
    const report::EmitOptions opts = emitOptions(a, true);
    host::ModelRun run = host::runOnModel(s, profile);
    if (a.trace) {
        for (const OpTrace& t : run.traces) {
            const auto idx = static_cast<std::size_t>(t.process);
            const std::string name = idx < run.outcome.processes.size() ? run.outcome.processes[idx].name : "main";
            std::fputs(formatTrace(t, name, a.file).c_str(), stdout);
        }
    }
    if (run.outcome.ran && opts.kinds)
        std::fputs(report::emitRun(run.outcome, opts).c_str(), stdout);
    reportOutcome(run.outcome, a.file);
    return run.outcome.exitStatus;
}

int cmdReplay(const Args& a)
{
    const scenario::Scenario s = loadOrExit(a.file);
    const report::EmitOptions opts = emitOptions(a, false);
    const scenario::RunOutcome o = host::runOnKernel(s);
    if (o.ran && opts.kinds)
        std::fputs(report::emitRun(o, opts).c_str(), stdout);
    reportOutcome(o, a.file);
    return o.exitStatus;
}

int cmdCheck(const Args& a)
{
    const scenario::Scenario s = loadOrExit(a.file);
    if (auto named = scenario::scenarioProfile(s))
        std::fprintf(stderr, "note: check models the running kernel: profile \"%s\" in %s is ignored\n", named->c_str(),
                     a.file.c_str());
    const Profile profile = profileOrExit("host");
    const host::ModelRun model = host::runOnModel(s, profile);
    const scenario::RunOutcome kernel = host::runOnKernel(s);
    report::CheckOptions opts;
    opts.file = a.file;
    const report::CheckResult r = report::compareRuns(model.outcome, kernel, opts);
    printLines(r.notes, stderr);
    for (const report::Difference& d : r.differences)
        std::printf("%s\n", d.line.c_str());
    return r.exitStatus;
}

int cmdFuzz(const Args& a)
{
    if (a.show) {
        std::fputs(host::generateSequence(a.seed, a.ops).c_str(), stdout);
        return 0;
    }
    host::FuzzOptions opts;
    opts.firstSeed = a.seed;
    opts.count = a.count;
    opts.opsPerSequence = a.ops;
    opts.outDir = a.outDir;
    opts.maxShrink = a.maxShrink;
    opts.profile = profileOrExit(a.profile.value_or("host"));
    const host::FuzzSummary sum = host::runDifferential(opts, [](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
    });
    std::printf("fuzz: %llu sequences from seed %llu: %llu clean, %llu with differences, %llu skipped\n",
                static_cast<unsigned long long>(sum.ran), static_cast<unsigned long long>(a.seed),
                static_cast<unsigned long long>(sum.clean), static_cast<unsigned long long>(sum.failed),
                static_cast<unsigned long long>(sum.skipped));
    for (const std::string& f : sum.failureFiles)
        std::printf("  shrunk failure: %s\n", f.c_str());
    return sum.failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv)
{
    const Args a = parseArgs(argc, argv);
    if (a.command == "run")
        return cmdRun(a);
    if (a.command == "replay")
        return cmdReplay(a);
    if (a.command == "check")
        return cmdCheck(a);
    if (a.command == "fuzz")
        return cmdFuzz(a);
    if (a.command == "probe") {
        std::fputs(host::probeReport().c_str(), stdout);
        return 0;
    }
    if (a.command == "profiles") {
        std::printf("host               the running kernel: its configuration, and the behaviour `probe` finds\n");
        for (const std::string& n : builtinProfileNames())
            std::printf("%-18s %s\n", n.c_str(), builtinProfile(n)->description.c_str());
        return 0;
    }
    usageError("unknown command \"" + a.command + "\"");
}
