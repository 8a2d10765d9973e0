// The model against the real kernel doing the same work, measured in one run
// (vmalab issue "Foundation II", §3). Prints time per operation for both, their ratio,
// and the memory the model's history takes per step. Not a test: numbers are reported.
//
//   build:   one mapping of N pages; mprotect every other page read-only -> N VMAs
//   toggles: a read-only page between two read-write VMAs goes read-write (three VMAs
//            merge into one) and back (one splits into three)
#include "bench/bench_util.h"
#include "core/engine/model_backend.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace vmalab;
using Clock = std::chrono::steady_clock;
using scenario::Value;

// The model takes the same uapi values the kernel does (<sys/mman.h> macros, as numbers).
constexpr std::int64_t modelRead = PROT_READ, modelWrite = PROT_WRITE;
constexpr std::int64_t modelAnonFixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;

using bench::rssBytes;
using bench::seconds;

// CPU time of this thread, user and system (the kernel's work in mprotect counts): unlike
// wall time it does not grow when other jobs share the machine's cores.
double cpuSeconds()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Workload
{
    std::uint64_t pages;
    std::uint64_t toggles;
    std::vector<std::uint64_t> targets; // odd page numbers: read-only pages between two read-write VMAs
};

Workload makeWorkload(std::uint64_t pages, std::uint64_t toggles)
{
    Workload w { pages, toggles, {} };
    std::mt19937_64 rng(42);
    for (std::uint64_t i = 0; i < toggles; ++i)
        w.targets.push_back(1 + 2 * (rng() % ((pages - 2) / 2)));
    return w;
}

struct Timing
{
    double build = 0; // wall seconds
    double toggles = 0;
    double buildCpu = 0; // CPU seconds
    double togglesCpu = 0;
};

Timing runKernel(const Workload& w)
{
    const std::size_t len = w.pages * 4096;
    auto* base = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (base == MAP_FAILED) {
        std::perror("mmap");
        std::exit(1);
    }
    Timing t;
    const double c0 = cpuSeconds();
    auto t0 = Clock::now();
    for (std::uint64_t p = 1; p < w.pages; p += 2)
        if (mprotect(base + p * 4096, 4096, PROT_READ)) {
            std::perror("mprotect (raise vm.max_map_count?)");
            std::exit(1);
        }
    auto t1 = Clock::now();
    const double c1 = cpuSeconds();
    for (std::uint64_t p : w.targets) {
        mprotect(base + p * 4096, 4096, PROT_READ | PROT_WRITE);
        mprotect(base + p * 4096, 4096, PROT_READ);
    }
    auto t2 = Clock::now();
    const double c2 = cpuSeconds();
    munmap(base, len);
    t.build = seconds(t0, t1);
    t.toggles = seconds(t1, t2);
    t.buildCpu = c1 - c0;
    t.togglesCpu = c2 - c1;
    return t;
}

struct ModelResult
{
    Timing timing;
    std::uint64_t rssGrowth = 0;
    std::uint64_t ops = 0;
    std::uint64_t steps = 0; // trace steps of all operations
    std::uint64_t vmas = 0;
};

ModelResult runModelHere(const Workload& w, bool history);

// Each model measurement runs in a child of its own, so its RSS growth is its own.
ModelResult runModel(const Workload& w, bool history)
{
    int fds[2];
    if (pipe(fds)) {
        std::perror("pipe");
        std::exit(1);
    }
    const pid_t pid = fork();
    if (pid == 0) {
        const ModelResult r = runModelHere(w, history);
        if (write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r))
            _exit(1);
        _exit(0);
    }
    ModelResult r;
    if (read(fds[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
        std::fprintf(stderr, "model measurement failed\n");
        std::exit(1);
    }
    waitpid(pid, nullptr, 0);
    close(fds[0]);
    close(fds[1]);
    return r;
}

ModelResult runModelHere(const Workload& w, bool history)
{
    const std::uint64_t before = rssBytes();
    ModelResult r;
    {
        // Never freed: this runs in a child that exits right after, and freeing a large
        // history would only add noise to profiles.
        ModelBackend& m = *new ModelBackend(*builtinProfile("maybe-guard-fixed"));
        m.keepHistory(history);
        m.start();
        const std::int64_t base = 0x100000000;
        auto call = [&](const char* name, std::vector<Value> args) { m.call(0, name, args, {}); };
        auto num = [](std::int64_t v) { return Value { v, {}, false }; };
        call("mmap", { num(base), num(static_cast<std::int64_t>(w.pages * 4096)), num(modelRead | modelWrite),
                       num(modelAnonFixed), num(-1), num(0) });
        const double c0 = cpuSeconds();
        auto t0 = Clock::now();
        for (std::uint64_t p = 1; p < w.pages; p += 2)
            call("mprotect", { num(base + static_cast<std::int64_t>(p * 4096)), num(4096), num(modelRead) });
        auto t1 = Clock::now();
        const double c1 = cpuSeconds();
        for (std::uint64_t p : w.targets) {
            call("mprotect", { num(base + static_cast<std::int64_t>(p * 4096)), num(4096), num(modelRead | modelWrite) });
            call("mprotect", { num(base + static_cast<std::int64_t>(p * 4096)), num(4096), num(modelRead) });
        }
        auto t2 = Clock::now();
        const double c2 = cpuSeconds();
        r.timing = { seconds(t0, t1), seconds(t1, t2), c1 - c0, c2 - c1 };
        r.rssGrowth = rssBytes() - before; // the model, its history and traces, before they are freed
        r.ops = m.traces().size();
        for (const OpTrace& t : m.traces())
            r.steps += t.steps.size();
        r.vmas = m.world().procs[0].mapCount();
    }
    return r;
}

void report(const char* title, const Workload& w, bool kernelToo)
{
    std::printf("== %s: %llu pages, %llu toggles (%llu mprotect calls)\n", title, static_cast<unsigned long long>(w.pages),
                static_cast<unsigned long long>(w.toggles), static_cast<unsigned long long>(2 * w.toggles));
    const double builds = static_cast<double>(w.pages / 2) / 1e6, toggles = static_cast<double>(2 * w.toggles) / 1e6;
    const ModelResult model = runModel(w, true);
    const Timing& m = model.timing;
    std::printf("model (trace + history): build %.3f us/op, toggles %.3f us/op (CPU time: %.3f, %.3f); %llu VMAs at the "
                "end\n",
                m.build / builds, m.toggles / toggles, m.buildCpu / builds, m.togglesCpu / toggles,
                static_cast<unsigned long long>(model.vmas));
    std::printf("model history: %.1f MB for %llu operations = %.0f bytes per operation (process RSS growth); %.2f "
                "trace steps per operation\n",
                static_cast<double>(model.rssGrowth) / 1e6, static_cast<unsigned long long>(model.ops),
                static_cast<double>(model.rssGrowth) / static_cast<double>(model.ops),
                static_cast<double>(model.steps) / static_cast<double>(model.ops));
    if (!kernelToo)
        return;
    const Timing k = runKernel(w);
    std::printf("kernel:                  build %.3f us/op, toggles %.3f us/op (CPU time: %.3f, %.3f)\n", k.build / builds,
                k.toggles / toggles, k.buildCpu / builds, k.togglesCpu / toggles);
    std::printf("ratio model/kernel:      build %.2fx, toggles %.2fx (CPU time: %.2fx, %.2fx; target <= 0.5x)\n",
                m.build / k.build, m.toggles / k.toggles, m.buildCpu / k.buildCpu, m.togglesCpu / k.togglesCpu);
}

} // namespace

// `model` runs the model of the first workload only, in this process (for perf and callgrind);
// `model-no-history` the same without History, to see what keeping every state costs.
int main(int argc, char** argv)
{
    if (argc > 1 && (std::string(argv[1]) == "model" || std::string(argv[1]) == "model-no-history")) {
        const ModelResult r = runModelHere(makeWorkload(60000, 50000), std::string(argv[1]) == "model");
        std::printf("model: build %.3f s, toggles %.3f s, %llu VMAs\n", r.timing.build, r.timing.toggles,
                    static_cast<unsigned long long>(r.vmas));
        return 0;
    }
    report("60,000 VMAs, model vs kernel", makeWorkload(60000, 50000), true);
    report("10,000 VMAs, 100,000 steps with history", makeWorkload(10000, 50000), false);
    return 0;
}
