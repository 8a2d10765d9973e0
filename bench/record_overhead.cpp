// Recording overhead (issue 9): a program's wall time under `record` against its time alone,
// median of 5 runs each. Default program: python3 -c 'import json'; or give PROG ARGS...
// Also prints the memory calls recorded and the syscall stops the tracer handled.
#include "core/host/record.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "bench/bench_util.h"

namespace {

double runAlone(const std::vector<std::string>& argv)
{
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return vmalab::bench::seconds(t0, std::chrono::steady_clock::now());
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> program = { "python3", "-c", "import json" };
    if (argc > 1)
        program.assign(argv + 1, argv + argc);
    constexpr int kRuns = 5;
    vmalab::snapshot::HostInfo host; // the probe's results only label snapshots: skipped here
    std::vector<double> alone, recorded, unsampled;
    std::size_t calls = 0, stops = 0;
    for (int i = 0; i < kRuns; ++i) {
        alone.push_back(runAlone(program));
        for (bool pages : { true, false }) {
            vmalab::host::RecordOptions options;
            options.samplePages = pages;
            const auto t0 = std::chrono::steady_clock::now();
            auto s = vmalab::host::recordCommand(program, host, options);
            (pages ? recorded : unsampled).push_back(vmalab::bench::seconds(t0, std::chrono::steady_clock::now()));
            if (!s) {
                std::fprintf(stderr, "record: %s\n", s.error().front().message.c_str());
                return 2;
            }
            calls = 0;
            for (const auto& e : s->recording.events)
                calls += e.kind == vmalab::host::RecordedKind::Call;
            stops = s->syscallStops;
        }
    }
    std::string cmd;
    for (const std::string& a : program)
        cmd += (cmd.empty() ? "" : " ") + a;
    std::printf("program: %s\n", cmd.c_str());
    std::printf("memory calls recorded: %zu (%zu syscall stops)\n", calls, stops);
    std::printf(
        "alone: %.1f ms, recorded: %.1f ms (ratio %.2f), recorded without page sampling: %.1f ms (ratio %.2f)\n",
        median(alone) * 1e3, median(recorded) * 1e3, median(recorded) / median(alone), median(unsampled) * 1e3,
        median(unsampled) / median(alone));
    return 0;
}
