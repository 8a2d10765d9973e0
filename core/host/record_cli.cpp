#include "core/host/record_cli.h"

#include "core/host/capture.h"
#include "core/host/record.h"
#include "core/host/record_writer.h"
#include "core/host/strace_import.h"
#include "core/host/sys_util.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace vmalab::host {

namespace {

std::atomic<bool> g_stop { false };

void onInterrupt(int)
{
    g_stop = true;
}

int usage(const std::string& message)
{
    std::fprintf(stderr, "vmalab-cli record: %s (see vmalab-cli record --help)\n", message.c_str());
    return 2;
}

std::string baseName(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stemOf(const std::string& out)
{
    std::string b = baseName(out);
    if (b.size() > 5 && b.compare(b.size() - 5, 5, ".vlab") == 0)
        b.resize(b.size() - 5);
    return b;
}

void printErrors(const Diagnostics& ds)
{
    for (const Diagnostic& d : ds)
        std::fprintf(stderr, "%s\n", d.file.empty() ? ("vmalab-cli: " + d.message).c_str() : d.format().c_str());
}

void printSummary(const Recording& r, const std::vector<std::string>& files)
{
    std::size_t calls = 0, observes = 0;
    for (const RecordedEvent& e : r.events) {
        calls += e.kind == RecordedKind::Call;
        observes += e.kind == RecordedKind::Observe;
    }
    std::printf("recorded %zu memory calls and %zu page observations of %s\n", calls, observes, r.program.c_str());
    for (const std::string& f : files)
        std::printf("wrote %s\n", f.c_str());
}

} // namespace

int recordCommandLine(int argc, char** argv, const char* help)
{
    std::string out, pidText, straceLog;
    RecordOptions options;
    std::vector<std::string> program;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--") {
            for (++i; i < argc; ++i)
                program.emplace_back(argv[i]);
        } else if (arg == "-o" || arg == "--out" || arg == "--pid" || arg == "--from-strace") {
            const char* v = value();
            if (!v)
                return usage(arg + " needs a value");
            (arg == "--pid" ? pidText : arg == "--from-strace" ? straceLog : out) = v;
        } else if (arg == "--no-pages")
            options.samplePages = false;
        else if (arg == "--help" || arg == "-h") {
            std::fputs(help, stdout);
            return 0;
        } else if (!arg.empty() && arg[0] == '-')
            return usage("unknown option " + arg);
        else {
            for (; i < argc; ++i)
                program.emplace_back(argv[i]);
        }
    }
    const int modes = !program.empty() + !pidText.empty() + !straceLog.empty();
    if (modes != 1)
        return usage("give exactly one of -- PROG ARGS..., --pid PID or --from-strace LOG");
    if (out.empty())
        out = (!program.empty()          ? baseName(program[0])
                      : !pidText.empty() ? "pid-" + pidText
                                         : stemOf(straceLog))
            + ".vlab";
    options.stem = stemOf(out);

    if (!straceLog.empty()) {
        auto rec = importStraceFile(straceLog);
        if (!rec) {
            printErrors(rec.error());
            return 2;
        }
        FILE* f = std::fopen(out.c_str(), "wb");
        const std::string text = writeRecording(*rec);
        if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
            std::fprintf(stderr, "vmalab-cli: cannot write %s: %s\n", out.c_str(), errnoText(errno).c_str());
            if (f)
                std::fclose(f);
            return 2;
        }
        std::fclose(f);
        printSummary(*rec, { out });
        return 0;
    }

    struct sigaction sa
    {
    };
    sa.sa_handler = onInterrupt; // no SA_RESTART: waitpid returns so the recorder can detach
    sigaction(SIGINT, &sa, nullptr);
    options.stopRequested = &g_stop;
    const snapshot::HostInfo hostInfo = readHostInfo();
    Result<RecordSession> session = Diagnostic {};
    if (!pidText.empty()) {
        char* end = nullptr;
        const long pid = std::strtol(pidText.c_str(), &end, 10);
        if (!end || *end || pid <= 0)
            return usage("PID must be a positive number, not \"" + pidText + "\"");
        session = recordPid(pid_t(pid), hostInfo, options);
    } else
        session = recordCommand(program, hostInfo, options);
    if (!session) {
        printErrors(session.error());
        return 2;
    }
    auto files = writeRecordingFiles(*session, out);
    if (!files) {
        printErrors(files.error());
        return 2;
    }
    for (const std::string& n : session->notes)
        std::fprintf(stderr, "note: %s\n", n.c_str());
    printSummary(session->recording, *files);
    const int st = session->exitStatus;
    if (program.size() && WIFEXITED(st) && WEXITSTATUS(st) != 0)
        std::printf("%s exited with status %d\n", program[0].c_str(), WEXITSTATUS(st));
    else if (program.size() && WIFSIGNALED(st))
        std::printf("%s was killed by signal %d\n", program[0].c_str(), WTERMSIG(st));
    return 0;
}

} // namespace vmalab::host
