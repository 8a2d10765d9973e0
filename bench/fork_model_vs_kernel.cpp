// fork() of a big address space, the model against the real kernel in one run (vmalab issue
// "fork, copy-on-write and userfaultfd", §Proof). Not a test: numbers are reported.
//
//   setup: one private anonymous mapping of 1 GiB, every page written, then every other
//          chunk of 26 pages made read-only -> about 10,000 VMAs, all with an anon_vma
//   timed: fork(), the parent's side (dup_mmap(): every VMA and every present PTE copied,
//          anonymous pages shared copy-on-write)
// The kernel's fork runs in a process of its own so the benchmark's own memory is not forked
// with it; the model runs with history and trace on, as the GUI uses it.
#include "core/engine/model_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace vmalab;
using Clock = std::chrono::steady_clock;
using scenario::Value;

constexpr std::uint64_t totalPages = 262144; // 1 GiB
constexpr std::uint64_t chunkPages = 26;     // ~10,000 VMAs
constexpr int rounds = 5;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double micros(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// Builds the address space, forks `rounds` times and writes the parent-side times (µs) to fd.
void kernelSide(int out)
{
    const std::size_t len = totalPages * 4096;
    auto* base = static_cast<char*>(mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base == MAP_FAILED)
        _exit(1);
    madvise(base, len, MADV_NOHUGEPAGE); // 4 KiB pages, as the model maps them
    std::memset(base, 1, len);
    for (std::uint64_t p = chunkPages; p + chunkPages <= totalPages; p += 2 * chunkPages)
        if (mprotect(base + p * 4096, chunkPages * 4096, PROT_READ))
            _exit(2);
    double times[rounds];
    for (double& t : times) {
        const auto t0 = Clock::now();
        const pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        t = micros(t0, Clock::now());
        waitpid(pid, nullptr, 0);
    }
    if (write(out, times, sizeof times) != ssize_t(sizeof times))
        _exit(3);
    _exit(0);
}

std::vector<double> kernelForks()
{
    int fds[2];
    if (pipe(fds))
        std::exit(1);
    const pid_t pid = fork();
    if (pid == 0)
        kernelSide(fds[1]);
    close(fds[1]);
    double times[rounds] = {};
    const ssize_t got = read(fds[0], times, sizeof times);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != ssize_t(sizeof times)) {
        std::fprintf(stderr, "kernel side failed (status %d)\n", status);
        std::exit(1);
    }
    return { times, times + rounds };
}

std::vector<double> modelForks(std::size_t& vmas)
{
    std::vector<double> times;
    for (int r = 0; r < rounds; ++r) {
        ModelBackend m(*builtinProfile("maybe-guard-fixed"));
        m.keepHistory(true);
        m.start();
        auto num = [](std::int64_t v) { return Value { v, {}, false }; };
        auto call = [&](const char* name, std::vector<Value> args) { return m.call(0, name, args, {}).value; };
        const std::int64_t len = static_cast<std::int64_t>(totalPages * 4096);
        const std::int64_t base = call("mmap", { num(0), num(len), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS),
                                                 num(-1), num(0) });
        call("madvise", { num(base), num(len), num(MADV_NOHUGEPAGE) });
        call("touch", { num(base), num(len), num(PROT_WRITE) });
        for (std::uint64_t p = chunkPages; p + chunkPages <= totalPages; p += 2 * chunkPages)
            call("mprotect", { num(base + static_cast<std::int64_t>(p * 4096)), num(chunkPages * 4096), num(PROT_READ) });
        vmas = m.world().procs[0].mapCount();
        const auto t0 = Clock::now();
        m.fork(0, 1, {});
        times.push_back(micros(t0, Clock::now()));
    }
    return times;
}

} // namespace

int main()
{
    std::size_t vmas = 0;
    const double kernel = median(kernelForks());
    const double model = median(modelForks(vmas));
    std::printf("fork of %zu VMAs with 1 GiB written (median of %d)\n", vmas, rounds);
    std::printf("  kernel fork (parent side): %10.0f us\n", kernel);
    std::printf("  model fork, history+trace: %10.0f us\n", model);
    std::printf("  ratio model/kernel:        %10.2f\n", model / kernel);
    return 0;
}
