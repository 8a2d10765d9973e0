// The model's page-table levels against the running kernel: VmPTE in /proc/PID/status counts
// the PTE, PMD and PUD tables a process holds, so the same calls, made by a child far from
// everything else it maps, must change VmPTE by 4 kB per table the model allocates or frees.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::test {
namespace {

// An empty 1 GiB inside PGD entry 0, below where programs and libraries are loaded.
constexpr Addr spot = 0x5000000000;
constexpr Addr mib = 1 << 20;

// The steps, each made natively and in the model; VmPTE is read after each.
enum Step { MapA, TouchA, MapQ, MapS, TouchS, UnmapS, UnmapA, UnmapQ, StepCount };

long readVmPteKb()
{
    const int fd = ::open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char* p = std::strstr(buf, "VmPTE:");
    return p ? std::strtol(p + 6, nullptr, 10) : -1;
}

// Runs the steps in a child (its address space holds nothing else that moves) and returns
// VmPTE after each, or an empty array with `why` set.
std::array<long, StepCount> kernelVmPte(std::string& why)
{
    int fds[2];
    if (::pipe(fds) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        return {};
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::array<long, StepCount> kb {};
        auto map = [](Addr a, std::size_t len) {
            return ::mmap(reinterpret_cast<void*>(a), len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
                == reinterpret_cast<void*>(a);
        };
        bool ok = map(spot, 2 * pageSize);
        kb[MapA] = readVmPteKb();
        *reinterpret_cast<volatile char*>(spot) = 1;
        kb[TouchA] = readVmPteKb();
        ok = ok && map(spot + 4 * mib, pageSize);
        kb[MapQ] = readVmPteKb();
        ok = ok && map(spot + 8 * mib, pageSize);
        kb[MapS] = readVmPteKb();
        if (ok)
            *reinterpret_cast<volatile char*>(spot + 8 * mib) = 1;
        kb[TouchS] = readVmPteKb();
        ::munmap(reinterpret_cast<void*>(spot + 8 * mib), pageSize);
        kb[UnmapS] = readVmPteKb();
        ::munmap(reinterpret_cast<void*>(spot), 2 * pageSize);
        kb[UnmapA] = readVmPteKb();
        ::munmap(reinterpret_cast<void*>(spot + 4 * mib), pageSize);
        kb[UnmapQ] = readVmPteKb();
        if (!ok)
            kb[0] = -2;
        (void)!::write(fds[1], kb.data(), sizeof kb);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::array<long, StepCount> kb {};
    const ssize_t n = ::read(fds[0], kb.data(), sizeof kb);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (n != static_cast<ssize_t>(sizeof kb))
        why = "the child reported nothing";
    else if (kb[0] == -2)
        why = "0x5000000000 is already mapped in this process (a sanitizer's shadow memory?)";
    else if (kb[0] < 0)
        why = "no VmPTE in /proc/self/status";
    return kb;
}

std::size_t tables(const Mm& mm)
{
    std::size_t n = 0;
    for (const RunMap<bool>* level : { &mm.pteTables, &mm.pmdTables, &mm.pudTables })
        level->forEachAll([&](std::uint64_t s, std::uint64_t e, bool) { n += e - s; });
    return n;
}

TEST(PageTableLevels, ModelTablesChangeAsVmPteDoes)
{
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "ASan's shadow memory allocates page tables of its own, so VmPTE moves with it";
#endif
    std::string why;
    const std::array<long, StepCount> kernel = kernelVmPte(why);
    if (!why.empty())
        GTEST_SKIP() << why;

    EngineFixture f;
    const auto page = [](Addr a) { return (a - EngineFixture::window) / pageSize; };
    std::array<std::size_t, StepCount> model {};
    f.mmap(page(spot), 2);
    model[MapA] = tables(f.mm());
    f.touch(page(spot), 1, true);
    model[TouchA] = tables(f.mm());
    f.mmap(page(spot + 4 * mib), 1);
    model[MapQ] = tables(f.mm());
    f.mmap(page(spot + 8 * mib), 1);
    model[MapS] = tables(f.mm());
    f.touch(page(spot + 8 * mib), 1, true);
    model[TouchS] = tables(f.mm());
    f.munmap(page(spot + 8 * mib), 1);
    model[UnmapS] = tables(f.mm());
    f.munmap(page(spot), 2);
    model[UnmapA] = tables(f.mm());
    f.munmap(page(spot + 4 * mib), 1);
    model[UnmapQ] = tables(f.mm());

    // The first touch allocates a PUD, a PMD and a PTE table; the untouched VMA keeps the PMD
    // table alive after both PTE tables go; the last munmap frees the PMD and PUD tables.
    const std::array<long, StepCount> expectedModel { 0, 3, 3, 3, 4, 3, 2, 0 };
    for (int s = 0; s < StepCount; ++s) {
        EXPECT_EQ(static_cast<long>(model[s]), expectedModel[s]) << "model, step " << s;
        EXPECT_EQ(kernel[s] - kernel[MapA], static_cast<long>(model[s] * pageSize / 1024))
            << "VmPTE after step " << s << " (kB above the start) against the model's tables";
    }
}

} // namespace
} // namespace vmalab::test
