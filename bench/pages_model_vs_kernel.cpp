// Page tables in the model against the kernel, in one run (vmalab issue "Page tables, faults,
// guard regions", §Proof). Not a test: numbers are reported.
//
//   memory:  one 64 GiB private anonymous MAP_NORESERVE mapping, every page write-touched in
//            order, in the model only (no history): the model's RSS growth (target <= 16 MB)
//   guards:  MADV_GUARD_INSTALL on every other page of 1 GiB (8 KiB stride), model vs kernel
//   faults:  write fault-in of 1 GiB in 4 KiB pages, model vs kernel
// Each measurement runs in a process of its own, so RSS growth and page tables are its own.
#include "bench/bench_util.h"
#include "core/engine/model_backend.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace vmalab;
using Clock = std::chrono::steady_clock;
using scenario::Value;

constexpr int kMadvGuardInstall = 102;
constexpr std::uint64_t gib = 1ull << 30;

using bench::rssBytes;
using bench::seconds;

// Runs f in a child process and returns the double it writes back.
template <typename F>
double inChild(F f)
{
    int fds[2];
    if (pipe(fds))
        std::exit(1);
    const pid_t pid = fork();
    if (pid == 0) {
        const double v = f();
        if (write(fds[1], &v, sizeof v) != ssize_t(sizeof v))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    double v = -1;
    if (read(fds[0], &v, sizeof v) != ssize_t(sizeof v))
        std::fprintf(stderr, "a measurement failed\n");
    waitpid(pid, nullptr, 0);
    close(fds[0]);
    return v;
}

Value num(std::int64_t v)
{
    return Value { v, {}, false };
}

struct Model
{
    ModelBackend m { *builtinProfile("maybe-guard-fixed") };
    Model() { m.start(); }
    std::int64_t call(const char* name, std::vector<Value> args) { return m.call(0, name, args, {}).value; }
    std::int64_t mapAnon(std::uint64_t len, std::int64_t extraFlags = 0)
    {
        const std::int64_t base = call("mmap", { num(0), num(static_cast<std::int64_t>(len)), num(PROT_READ | PROT_WRITE),
                                                 num(MAP_PRIVATE | MAP_ANONYMOUS | extraFlags), num(-1), num(0) });
        call("madvise", { num(base), num(static_cast<std::int64_t>(len)), num(MADV_NOHUGEPAGE) });
        return base;
    }
};

double modelMemory64G()
{
    const std::uint64_t before = rssBytes();
    Model model;
    const std::uint64_t len = 64 * gib;
    const std::int64_t base = model.mapAnon(len, MAP_NORESERVE);
    model.call("touch", { num(base), num(static_cast<std::int64_t>(len)), num(PROT_WRITE) });
    return double(rssBytes() - before) / (1 << 20);
}

double modelGuards()
{
    Model model;
    const std::int64_t base = model.mapAnon(gib);
    const auto t0 = Clock::now();
    for (std::uint64_t off = 0; off < gib; off += 8192)
        model.call("madvise", { num(base + static_cast<std::int64_t>(off)), num(4096), num(kMadvGuardInstall) });
    return seconds(t0, Clock::now());
}

double kernelGuards()
{
    auto* p = static_cast<char*>(mmap(nullptr, gib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED)
        return -1;
    madvise(p, gib, MADV_NOHUGEPAGE);
    const auto t0 = Clock::now();
    for (std::uint64_t off = 0; off < gib; off += 8192)
        if (madvise(p + off, 4096, kMadvGuardInstall))
            return -1;
    return seconds(t0, Clock::now());
}

double modelFaults()
{
    Model model;
    const std::int64_t base = model.mapAnon(gib);
    const auto t0 = Clock::now();
    model.call("touch", { num(base), num(static_cast<std::int64_t>(gib)), num(PROT_WRITE) });
    return seconds(t0, Clock::now());
}

double kernelFaults()
{
    auto* p = static_cast<char*>(mmap(nullptr, gib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED)
        return -1;
    madvise(p, gib, MADV_NOHUGEPAGE);
    const auto t0 = Clock::now();
    for (std::uint64_t off = 0; off < gib; off += 4096)
        p[off] = 1;
    return seconds(t0, Clock::now());
}

} // namespace

int main()
{
    std::printf("64 GiB written page by page, model only: %.1f MB of model memory (target <= 16 MB)\n",
                inChild(modelMemory64G));
    const double kg = inChild(kernelGuards), mg = inChild(modelGuards);
    std::printf("guard install, 1 GiB at 8 KiB stride (131072 calls): kernel %.3f s, model %.3f s, ratio %.2f\n", kg, mg,
                mg / kg);
    const double kf = inChild(kernelFaults), mf = inChild(modelFaults);
    std::printf("write fault-in of 1 GiB (262144 pages): kernel %.3f s, model %.3f s, ratio %.2f\n", kf, mf, mf / kf);
    return 0;
}
