// vmalab-cli: run scenarios on the model, replay them on the running kernel, compare both,
// and hunt for differences at random. Wiring only: the work happens in core/ and core/host/.
// The help text, man page and completion come from the table in app/cli_help.cpp.
#include "app/cli_help.h"
#include "core/engine/model_backend.h"
#include "core/engine/snapshot_world.h"
#include "core/engine/trace.h"
#include "core/host/capture.h"
#include "core/host/record_cli.h"
#include "core/host/differential.h"
#include "core/host/probe.h"
#include "core/host/profile_match.h"
#include "core/report/profile_diff.h"
#include "core/host/runner.h"
#include "core/report/check.h"
#include "core/report/emit.h"
#include "core/scenario/interpreter.h"
#include "core/report/recording_check.h"
#include "core/scenario/recording_files.h"
#include "core/snapshot/snapshot_diff.h"
#include "core/snapshot/snapshot_format.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace {

using namespace vmalab;

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
    bool collapse = true; // MADV_COLLAPSE stream of fuzz; --no-collapse turns it off
    bool referenceMachine = false;
    std::string snapshotFile; // run --snapshot FILE: start from a captured process
    std::string limits; // --limit NAME=VALUE, comma-joined in command-line order
};

[[noreturn]] void usageError(const std::string& message)
{
    std::fprintf(stderr, "vmalab-cli: %s\n\n%s", message.c_str(), cli::usageText().c_str());
    std::exit(2);
}

// The value after option argv[i]; moves i onto it.
const char* optionValue(int argc, char** argv, int& i)
{
    if (i + 1 >= argc)
        usageError(std::string(argv[i]) + " needs a value");
    return argv[++i];
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

// --limit and VMALAB_LIMITS (flags win) are checked here and handed to the run through the
// environment, which scenario::defaultRunLimits() reads: one path for every kind of run.
void applyLimits(const std::string& flags)
{
    const char* env = std::getenv("VMALAB_LIMITS");
    const std::string spec = std::string(env ? env : "") + (env && *env && !flags.empty() ? "," : "") + flags;
    if (spec.empty())
        return;
    auto parsed = scenario::parseLimits(spec);
    if (!parsed) {
        std::fprintf(stderr, "vmalab-cli: %s%s\n", flags.empty() ? "VMALAB_LIMITS: " : "",
                     parsed.error().front().message.c_str());
        std::exit(2);
    }
    ::setenv("VMALAB_LIMITS", spec.c_str(), 1);
}

Args parseArgs(int argc, char** argv)
{
    Args a;
    if (argc < 2)
        usageError("no command");
    a.command = argv[1];
    if (a.command == "--help" || a.command == "-h" || a.command == "help") {
        const cli::Command* c = argc > 2 ? cli::findCommand(argv[2]) : nullptr;
        std::fputs(c ? cli::commandHelp(*c).c_str() : cli::usageText().c_str(), stdout);
        std::exit(0);
    }
    if (a.command == "--version" || a.command == "-V") {
        std::fputs(cli::versionText("vmalab-cli").c_str(), stdout);
        std::exit(0);
    }
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&] { return optionValue(argc, argv, i); };
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
        else if (arg == "--collapse")
            a.collapse = true;
        else if (arg == "--no-collapse")
            a.collapse = false;
        else if (arg == "--machine") {
            const std::string m = value();
            if (m != "reference" && m != "host")
                usageError("--machine takes host or reference");
            a.referenceMachine = m == "reference";
        }
        else if (arg == "--snapshot")
            a.snapshotFile = value();
        else if (arg == "--limit")
            a.limits += (a.limits.empty() ? "" : ",") + std::string(value());
        else if (arg == "--help" || arg == "-h") {
            const cli::Command* c = cli::findCommand(a.command);
            std::fputs(c ? cli::commandHelp(*c).c_str() : cli::usageText().c_str(), stdout);
            std::exit(0);
        } else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else if (a.file.empty())
            a.file = arg;
        else
            usageError("more than one scenario file given");
    }
    applyLimits(a.limits);
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
    // Refused before reading: the parser holds the whole text and its syntax tree in memory.
    struct stat st {};
    const std::uint64_t maxBytes = scenario::defaultRunLimits().maxFileBytes;
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > maxBytes) {
        std::fprintf(stderr, "%s:1:1: error: the file is %llu bytes, more than %llu (limit max-file-bytes; raise it "
                     "with --limit max-file-bytes=N or VMALAB_LIMITS, see docs/limits.md)\n", file.c_str(),
                     static_cast<unsigned long long>(st.st_size), static_cast<unsigned long long>(maxBytes));
        std::exit(2);
    }
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

// --- Live process snapshots (docs/snapshots.md) ---

volatile std::sig_atomic_t g_interrupted = 0; // watch mode ends cleanly on Ctrl-C

std::optional<std::string> readWholeFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        return std::nullopt;
    return bytes;
}

std::vector<snapshot::Snapshot> loadSnapshotsOrExit(const std::string& path)
{
    const auto bytes = readWholeFile(path);
    if (!bytes) {
        std::fprintf(stderr, "%s: error: cannot read: %s\n", path.c_str(), std::strerror(errno));
        std::exit(2);
    }
    auto parsed = snapshot::parseSnapshots(*bytes, path);
    if (!parsed) {
        for (const Diagnostic& d : parsed.error())
            std::fprintf(stderr, "%s\n", d.format().c_str());
        std::exit(2);
    }
    if (parsed->empty()) {
        std::fprintf(stderr, "%s: error: the file holds no snapshot\n", path.c_str());
        std::exit(2);
    }
    return std::move(*parsed);
}

void printTraces(const host::ModelRun& run, const std::string& file)
{
    for (const OpTrace& t : run.traces) {
        const auto idx = static_cast<std::size_t>(t.process);
        const std::string name = idx < run.outcome.processes.size() ? run.outcome.processes[idx].name : "main";
        std::fputs(formatTrace(t, name, file).c_str(), stdout);
    }
}

// run --snapshot FILE SCENARIO: the scenario's calls applied to the captured process. The
// profile is the snapshot machine's (its configuration and the behaviour its probe found)
// unless --profile names another behaviour.
int cmdRunOnSnapshot(const Args& a)
{
    const scenario::Scenario s = loadOrExit(a.file);
    std::vector<snapshot::Snapshot> timeline = loadSnapshotsOrExit(a.snapshotFile);
    if (timeline.size() > 1)
        std::fprintf(stderr, "note: %s holds %zu snapshots; starting from the last\n", a.snapshotFile.c_str(),
                     timeline.size());
    const snapshot::Snapshot& snap = timeline.back();
    const std::string behaviour = a.profile ? *a.profile : snap.host.behaviour.empty() ? "host" : snap.host.behaviour;
    const auto builtin = builtinProfile(behaviour, snap.host.config);
    const Profile profile = builtin ? *builtin : profileOrExit(behaviour, a.referenceMachine);
    std::vector<SnapshotAssumption> assumptions;
    auto world = worldFromSnapshot(snap, profile, &assumptions);
    if (!world) {
        for (const Diagnostic& d : world.error())
            std::fprintf(stderr, "%s: error: %s\n", a.snapshotFile.c_str(), d.message.c_str());
        return 2;
    }
    const World initial = *world;
    ModelBackend backend(profile);
    backend.startFrom(std::move(*world));
    host::ModelRun run;
    run.outcome = scenario::runScenario(s, backend);
    run.traces = backend.traces();
    if (a.trace)
        printTraces(run, a.file);
    const report::EmitOptions opts = emitOptions(a, true);
    if (run.outcome.ran && opts.kinds)
        std::fputs(report::emitRun(run.outcome, opts).c_str(), stdout);
    reportOutcome(run.outcome, a.file);
    const auto used = assumptionsUsed(assumptions, initial, backend.world());
    std::fprintf(stderr, "prediction for process %lld of %s (profile %s); procfs does not show everything, so it "
                 "rests on %zu assumption%s:\n",
                 static_cast<long long>(snap.processes.front().pid), a.snapshotFile.c_str(), profile.name.c_str(),
                 used.size(), used.size() == 1 ? "" : "s");
    for (const SnapshotAssumption* u : used)
        std::fprintf(stderr, "  - %s\n", u->text.c_str());
    if (used.size() < assumptions.size())
        std::fprintf(stderr, "  (%zu more assumption%s concern only VMAs the scenario left unchanged)\n",
                     assumptions.size() - used.size(), assumptions.size() - used.size() == 1 ? "" : "s");
    return run.outcome.exitStatus;
}

bool writeFileAtomically(const std::string& path, const std::string& bytes)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out || !out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
            return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// snapshot PID [-o FILE|DIR] [--freeze] [--watch MS [--count N]] [--no-scan]
int cmdSnapshot(int argc, char** argv)
{
    std::string pidText, out;
    host::CaptureOptions opts;
    std::optional<unsigned> watchMs;
    std::uint64_t count = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&] { return optionValue(argc, argv, i); };
        if (arg == "-o" || arg == "--out")
            out = value();
        else if (arg == "--freeze")
            opts.freeze = true;
        else if (arg == "--watch")
            watchMs = static_cast<unsigned>(parseNumber(arg, value()));
        else if (arg == "--count")
            count = parseNumber(arg, value());
        else if (arg == "--no-scan")
            opts.usePagemapScan = false;
        else if (arg == "--help" || arg == "-h") {
            const cli::Command* c = cli::findCommand("snapshot");
            std::fputs(c ? cli::commandHelp(*c).c_str() : cli::usageText().c_str(), stdout);
            return 0;
        } else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else if (pidText.empty())
            pidText = arg;
        else
            usageError("snapshot takes one PID");
    }
    if (pidText.empty())
        usageError("snapshot needs a PID");
    const auto pid = static_cast<pid_t>(parseNumber("PID", pidText.c_str()));
    if (pid <= 0)
        usageError("PID must be a positive number");
    if (count && !watchMs)
        usageError("--count needs --watch MS");
    struct stat st {};
    const std::string defaultName = "pid-" + std::to_string(pid) + snapshot::kFileExtension;
    if (out.empty())
        out = defaultName;
    else if (::stat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        out += (out.back() == '/' ? "" : "/") + defaultName;

    const snapshot::HostInfo hostInfo = host::readHostInfo();
    std::vector<snapshot::Snapshot> timeline;
    if (watchMs) {
        std::signal(SIGINT, [](int) { g_interrupted = 1; });
        auto t = host::watchProcess(pid, opts, hostInfo, *watchMs, count, [] { return g_interrupted == 0; });
        if (!t) {
            std::fprintf(stderr, "vmalab-cli: %s\n", t.error().front().message.c_str());
            return 2;
        }
        timeline = std::move(*t);
    } else {
        auto s = host::captureSnapshot(pid, opts, hostInfo);
        if (!s) {
            std::fprintf(stderr, "vmalab-cli: %s\n", s.error().front().message.c_str());
            return 2;
        }
        timeline.push_back(std::move(*s));
    }
    if (!writeFileAtomically(out, snapshot::writeSnapshots(timeline))) {
        std::fprintf(stderr, "vmalab-cli: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
        return 2;
    }
    const snapshot::Snapshot& last = timeline.back();
    for (const std::string& n : last.notes)
        std::fprintf(stderr, "note: %s\n", n.c_str());
    const snapshot::SnapshotProcess& p = last.processes.front();
    std::uint64_t present = 0;
    for (const snapshot::SnapshotPageRun& r : p.pages)
        if (r.run.state == PageState::Present)
            present += (r.run.end - r.run.start) >> pageShift;
    std::printf("wrote %s: %zu snapshot%s of process %lld (%s): %zu VMAs, %zu page runs, %llu present pages "
                "(pagemap via %s%s%s)\n",
                out.c_str(), timeline.size(), timeline.size() == 1 ? "" : "s", static_cast<long long>(p.pid),
                p.name.c_str(), p.vmas.size(), p.pages.size(), static_cast<unsigned long long>(present),
                last.pagemapMethod.c_str(), last.kpageflags ? ", kpageflags" : "", last.frozen ? ", frozen" : "");
    return 0;
}

// diff A [B] [--json]: A and B are single snapshots (the last entry of each file is used);
// A alone diffs each pair of consecutive entries of a watch timeline. Exit status as diff(1).
int cmdDiff(int argc, char** argv)
{
    std::vector<std::string> files;
    bool json = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--json")
            json = true;
        else if (arg == "--help" || arg == "-h") {
            const cli::Command* c = cli::findCommand("diff");
            std::fputs(c ? cli::commandHelp(*c).c_str() : cli::usageText().c_str(), stdout);
            return 0;
        } else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else
            files.push_back(arg);
    }
    if (files.empty() || files.size() > 2)
        usageError("diff takes two snapshot files, or one watch timeline");
    struct Step
    {
        const snapshot::Snapshot* from;
        const snapshot::Snapshot* to;
        std::size_t index;
    };
    const std::vector<snapshot::Snapshot> a = loadSnapshotsOrExit(files[0]);
    const std::vector<snapshot::Snapshot> b = files.size() > 1 ? loadSnapshotsOrExit(files[1]) : a;
    std::vector<Step> steps;
    if (files.size() > 1)
        steps.push_back({ &a.back(), &b.back(), 0 });
    else
        for (std::size_t i = 0; i + 1 < a.size(); ++i)
            steps.push_back({ &a[i], &a[i + 1], i });
    if (steps.empty())
        usageError(files[0] + " holds one snapshot: give a second file to compare it with");
    bool changed = false;
    std::string jsonOut = "{\"steps\": [";
    for (const Step& st : steps) {
        const std::vector<snapshot::DiffEvent> events = snapshot::diffSnapshots(*st.from, *st.to);
        changed = changed || !events.empty();
        const long long ms = static_cast<long long>((st.to->monotonicNs - st.from->monotonicNs) / 1000000);
        if (json) {
            jsonOut += std::string(&st == &steps.front() ? "" : ",") + "\n{\"from\": " + std::to_string(st.index)
                + ", \"to\": " + std::to_string(st.index + 1) + ", \"elapsed_ms\": " + std::to_string(ms)
                + ", \"diff\": " + snapshot::diffToJson(events) + "}";
            continue;
        }
        if (files.size() == 1)
            std::printf("== %zu -> %zu (+%lld ms) ==\n", st.index, st.index + 1, ms);
        std::fputs(snapshot::formatDiff(events).c_str(), stdout);
    }
    if (json)
        std::fputs((jsonOut + "]}\n").c_str(), stdout);
    return changed ? 1 : 0;
}

int cmdRun(const Args& a)
{
    if (!a.snapshotFile.empty())
        return cmdRunOnSnapshot(a);
    const scenario::Scenario s = loadOrExit(a.file);
    const std::string profileName = a.profile ? *a.profile : scenario::scenarioProfile(s).value_or("host");
    const Profile profile = profileOrExit(profileName, a.referenceMachine);
    const report::EmitOptions opts = emitOptions(a, true);
    host::ModelRun run = host::runOnModel(s, profile);
    if (a.trace)
        printTraces(run, a.file);
    if (run.outcome.ran && opts.kinds)
        std::fputs(report::emitRun(run.outcome, opts).c_str(), stdout);
    reportOutcome(run.outcome, a.file);
    return run.outcome.exitStatus;
}

// A recording runs on the model only: the kernel cannot be put back into its start state.
void refuseRecordingOrExit(const scenario::Scenario& s, const char* command)
{
    if (!scenario::startFromPath(s))
        return;
    std::fprintf(stderr, "%s: error: %s cannot run a recording (it starts from a snapshot with start_from); "
                 "compare it with its recorded end state with 'vmalab-cli check-recording %s'\n",
                 s.file.c_str(), command, s.file.c_str());
    std::exit(2);
}

// check-recording FILE [--json] [--limit N=V]: docs/recording.md.
int cmdCheckRecording(int argc, char** argv)
{
    std::string file;
    bool json = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(cli::commandHelp(*cli::findCommand("check-recording")).c_str(), stdout);
            return 0;
        }
        if (arg == "--json")
            json = true;
        else if (arg == "--limit" && i + 1 < argc)
            applyLimits(argv[++i]);
        else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else if (file.empty())
            file = arg;
        else
            usageError("check-recording takes one recording");
    }
    const scenario::Scenario s = loadOrExit(file);
    const Profile profile = profileOrExit(scenario::scenarioProfile(s).value_or("host"));
    const host::ModelRun run = host::runOnModel(s, profile);
    if (run.outcome.exitStatus == 2 || !run.outcome.ran) {
        reportOutcome(run.outcome, file);
        return 2;
    }
    const report::RecordingCheck r = report::checkRecording(s, readWholeFile(file).value_or(""), run.outcome);
    for (const Diagnostic& d : r.errors)
        std::fprintf(stderr, "%s\n", d.format().c_str());
    if (r.exitStatus == 2)
        return 2;
    std::fputs(json ? report::recordingCheckJson(r).c_str() : report::formatRecordingCheck(r).c_str(), stdout);
    return r.exitStatus;
}

int cmdReplay(const Args& a)
{
    const scenario::Scenario s = loadOrExit(a.file);
    refuseRecordingOrExit(s, "replay");
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
    refuseRecordingOrExit(s, "check");
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
        std::fputs(host::generateSequence(a.seed, a.ops, a.collapse).c_str(), stdout);
        return 0;
    }
    host::FuzzOptions opts;
    opts.firstSeed = a.seed;
    opts.count = a.count;
    opts.opsPerSequence = a.ops;
    opts.outDir = a.outDir;
    opts.maxShrink = a.maxShrink;
    opts.collapse = a.collapse;
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

// diff-profiles FILE P1 P2: the scenario under two profiles, compared after every operation.
int cmdDiffProfiles(int argc, char** argv)
{
    std::vector<std::string> operands;
    bool reference = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(cli::commandHelp(*cli::findCommand("diff-profiles")).c_str(), stdout);
            return 0;
        }
        if (arg == "--machine" && i + 1 < argc && (std::strcmp(argv[i + 1], "reference") == 0 || std::strcmp(argv[i + 1], "host") == 0))
            reference = std::strcmp(argv[++i], "reference") == 0;
        else if (!arg.empty() && arg[0] == '-')
            usageError("unknown option " + arg);
        else
            operands.push_back(arg);
    }
    if (operands.size() != 3)
        usageError("diff-profiles takes a scenario file and two profiles");
    const scenario::Scenario s = loadOrExit(operands[0]);
    Profile profiles[2];
    for (int k = 0; k < 2; ++k) {
        const std::string& name = operands[static_cast<std::size_t>(k) + 1];
        if (reference) {
            auto p = builtinProfile(name);
            if (!p)
                usageError("--machine reference needs a built-in profile, not \"" + name + "\"");
            profiles[k] = *p;
            continue;
        }
        auto p = host::resolveProfile(name);
        if (!p) {
            std::fprintf(stderr, "vmalab-cli: %s\n", p.error().front().message.c_str());
            return 2;
        }
        profiles[k] = *p;
    }
    const report::ProfileDiff diff = report::diffProfiles(s, profiles[0], profiles[1]);
    std::fputs(report::formatProfileDiff(diff).c_str(), stdout);
    return diff.divergences.empty() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    // snapshot and diff parse their own operands (a PID, two snapshot files).
    if (argc > 1 && std::strcmp(argv[1], "snapshot") == 0)
        return cmdSnapshot(argc, argv);
    if (argc > 1 && std::strcmp(argv[1], "diff") == 0)
        return cmdDiff(argc, argv);
    if (argc > 1 && std::strcmp(argv[1], "record") == 0) {
        const cli::Command* c = cli::findCommand("record");
        return host::recordCommandLine(argc, argv, (c ? cli::commandHelp(*c) : cli::usageText()).c_str());
    }
    if (argc > 1 && std::strcmp(argv[1], "check-recording") == 0)
        return cmdCheckRecording(argc, argv);
    if (argc > 1 && std::strcmp(argv[1], "diff-profiles") == 0)
        return cmdDiffProfiles(argc, argv);
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
        std::fputs(host::profileMatchReport().c_str(), stdout);
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
