#include "core/host/host_facts.h"
#include "core/host/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

namespace vmalab::host {
namespace {

using scenario::CallResult;
using scenario::Value;

constexpr std::int64_t kPage = 4096;
constexpr std::int64_t kArenaLen = 512 * kPage; // 2 MiB: placed 2 MiB-aligned
constexpr int kProtRw = PROT_READ | PROT_WRITE;

Value num(std::int64_t v)
{
    Value x;
    x.num = v;
    return x;
}

Value str(std::string s)
{
    Value x;
    x.str = std::move(s);
    x.isString = true;
    return x;
}

// Drives a ReplayBackend the way the interpreter does, with a window reserved in main.
class Replay : public ::testing::Test
{
protected:
    void SetUp() override
    {
        auto err = m_backend.start();
        ASSERT_FALSE(err) << *err;
        m_arena = value(0, "mmap",
            { num(0), num(kArenaLen), num(PROT_NONE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE), num(-1),
                num(0) });
        ASSERT_GT(m_arena, 0);
    }
    void TearDown() override { m_backend.finish(); }

    CallResult call(int proc, const std::string& name, std::vector<Value> args)
    {
        return m_backend.call(proc, name, args, {});
    }
    std::int64_t value(int proc, const std::string& name, std::vector<Value> args)
    {
        CallResult r = call(proc, name, std::move(args));
        EXPECT_FALSE(r.runtimeError) << name << ": " << *r.runtimeError;
        return r.value;
    }
    std::int64_t mapFixed(std::int64_t at, std::int64_t len, int prot = kProtRw,
        int flags = MAP_PRIVATE | MAP_ANONYMOUS, std::int64_t fd = -1, int proc = 0)
    {
        return value(proc, "mmap", { num(at), num(len), num(prot), num(flags | MAP_FIXED), num(fd), num(0) });
    }
    // The VMAs of process `proc` inside the window, as "offset-offset perms name" in pages.
    std::vector<std::string> windowVmas(const ObservedProcess& p)
    {
        std::vector<std::string> out;
        for (const ObservedVma& v : p.vmas)
            if (Addr(m_arena) <= v.start && v.end <= Addr(m_arena + kArenaLen))
                out.push_back(std::to_string((v.start - Addr(m_arena)) / kPage) + "-"
                    + std::to_string((v.end - Addr(m_arena)) / kPage) + " " + v.perms
                    + (v.name.empty() ? "" : " " + v.name));
            else
                EXPECT_TRUE(v.end <= Addr(m_arena) || v.start >= Addr(m_arena + kArenaLen))
                    << "a VMA straddles the window: " << v.name;
        return out;
    }
    std::string windowPages(const ObservedProcess& p)
    {
        std::string out;
        for (const PageRun& r : p.pages)
            if (Addr(m_arena) <= r.start && r.end <= Addr(m_arena + kArenaLen))
                out += (out.empty() ? "" : ";") + std::to_string((r.start - Addr(m_arena)) / kPage) + "-"
                    + std::to_string((r.end - Addr(m_arena)) / kPage) + " " + pageStateName(r.state)
                    + (r.uffdWp ? ",uffd-wp" : "") + (r.exclusive ? ",excl" : "");
        return out;
    }
    static bool hasFlag(const ObservedProcess& p, Addr addr, const std::string& flag)
    {
        for (const ObservedVma& v : p.vmas)
            if (v.start <= addr && addr < v.end)
                return std::find(v.vmFlags.begin(), v.vmFlags.end(), flag) != v.vmFlags.end();
        return false;
    }

    ReplayBackend m_backend;
    std::int64_t m_arena = 0;
};

TEST_F(Replay, WindowHoldsOnlyTheScenarioMappingsAndTouchedPagesArePresent)
{
    EXPECT_EQ(m_arena % (2 << 20), 0) << "a 2 MiB window is placed 2 MiB-aligned";
    const std::int64_t a = m_arena + 16 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    EXPECT_EQ(value(0, "touch", { num(a + 5), num(kPage), num(PROT_WRITE) }), 0); // two pages: a+5 is unaligned
    const auto procs = m_backend.observe();
    ASSERT_EQ(procs.size(), 1u);
    EXPECT_EQ(procs[0].pid, m_backend.pidOf(0));
    const std::vector<std::string> vmas = { "0-16 ---p", "16-20 rw-p", "20-512 ---p" };
    EXPECT_EQ(windowVmas(procs[0]), vmas);
    EXPECT_EQ(windowPages(procs[0]), "0-16 none;16-18 present,excl;18-20 none;20-512 none");
    for (const ObservedVma& v : procs[0].vmas)
        if (v.start == Addr(a)) {
            EXPECT_EQ(v.kb("Rss"), 8u);
            EXPECT_EQ(v.kb("Anonymous"), 8u);
        }
}

TEST_F(Replay, TouchOfProtNoneIsSigsegv)
{
    EXPECT_EQ(value(0, "touch", { num(m_arena), num(kPage), num(PROT_READ) }), SIGSEGV);
    // The agent survives the fault and goes on.
    ASSERT_EQ(mapFixed(m_arena, kPage), m_arena);
    EXPECT_EQ(value(0, "touch", { num(m_arena), num(kPage), num(PROT_READ) }), 0);
}

TEST_F(Replay, TouchBeyondMemfdEndIsSigbus)
{
    const std::int64_t fd = value(0, "memfd_create", { str("data"), num(0) });
    ASSERT_GE(fd, 0);
    EXPECT_EQ(value(0, "ftruncate", { num(fd), num(kPage) }), 0);
    ASSERT_EQ(mapFixed(m_arena, 4 * kPage, kProtRw, MAP_SHARED, fd), m_arena);
    EXPECT_EQ(value(0, "touch", { num(m_arena), num(kPage), num(PROT_WRITE) }), 0);
    EXPECT_EQ(value(0, "touch", { num(m_arena + 2 * kPage), num(kPage), num(PROT_READ) }), SIGBUS);
    const auto procs = m_backend.observe();
    const std::vector<std::string> vmas = { "0-4 rw-s /memfd:data (deleted)", "4-512 ---p" };
    EXPECT_EQ(windowVmas(procs[0]), vmas);
}

TEST_F(Replay, ForkGivesASecondRealProcess)
{
    const std::int64_t a = m_arena + 8 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    EXPECT_EQ(value(0, "touch", { num(a), num(4 * kPage), num(PROT_WRITE) }), 0);
    CallResult f = m_backend.fork(0, 1, {});
    ASSERT_FALSE(f.runtimeError) << *f.runtimeError;
    ASSERT_GT(f.value, 0);
    EXPECT_EQ(f.value, m_backend.pidOf(1));
    EXPECT_NE(f.value, m_backend.pidOf(0));
    // Each process changes only its own address space.
    EXPECT_EQ(value(1, "munmap", { num(a), num(kPage) }), 0);
    EXPECT_EQ(value(0, "madvise", { num(a + kPage), num(kPage), num(MADV_DONTNEED) }), 0);
    const auto procs = m_backend.observe();
    ASSERT_EQ(procs.size(), 2u);
    EXPECT_EQ(procs[1].pid, f.value);
    // Pages mapped by one process only are exclusive; the others are shared COW pages.
    EXPECT_EQ(windowPages(procs[0]), "0-8 none;8-9 present,excl;9-10 none;10-12 present;12-512 none");
    EXPECT_EQ(windowPages(procs[1]), "0-8 none;9-10 present,excl;10-12 present;12-512 none");
}

TEST_F(Replay, GuardInstallGivesGuardPages)
{
    const std::int64_t a = m_arena + 8 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    const std::int64_t r = value(0, "madvise", { num(a + kPage), num(kPage), num(102) });
    if (r == -EINVAL)
        GTEST_SKIP() << "MADV_GUARD_INSTALL returned -EINVAL: " << m_backend.describe() << " < 6.13";
    ASSERT_EQ(r, 0);
    EXPECT_EQ(value(0, "touch", { num(a + kPage), num(kPage), num(PROT_READ) }), SIGSEGV);
    const auto procs = m_backend.observe();
    EXPECT_EQ(windowPages(procs[0]), "0-8 none;8-9 none;9-10 guard;10-12 none;12-512 none");
}

TEST_F(Replay, TouchWaitingForAUserfaultfdMonitorIsARuntimeError)
{
    const std::int64_t uffd = value(0, "userfaultfd", { num(O_CLOEXEC) });
    if (uffd < 0)
        GTEST_SKIP() << "userfaultfd returned " << uffd << ": " << m_backend.missingFeature("userfaultfd").value_or("");
    const std::int64_t a = m_arena + 8 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    EXPECT_EQ(value(0, "touch", { num(a), num(kPage), num(PROT_WRITE) }), 0);
    ASSERT_EQ(value(0, "uffdio_api", { num(uffd), num(0) }), 0);
    ASSERT_EQ(value(0, "uffdio_register", { num(uffd), num(a), num(4 * kPage), num(UFFDIO_REGISTER_MODE_MISSING) }), 0);
    const auto before = std::chrono::steady_clock::now();
    CallResult r = call(0, "touch", { num(a), num(4 * kPage), num(PROT_READ) });
    const auto waited = std::chrono::steady_clock::now() - before;
    ASSERT_TRUE(r.runtimeError);
    char expected[64];
    std::snprintf(expected, sizeof expected, "touch of 0x%llx waits", static_cast<unsigned long long>(a + kPage));
    EXPECT_NE(r.runtimeError->find(expected), std::string::npos) << *r.runtimeError;
    EXPECT_NE(r.runtimeError->find("UFFD_FEATURE_SIGBUS"), std::string::npos) << *r.runtimeError;
    EXPECT_GE(waited, std::chrono::milliseconds(1900));
    EXPECT_LT(waited, std::chrono::milliseconds(5000));
    // The process was ended: later calls in it are errors, not hangs.
    EXPECT_TRUE(call(0, "munmap", { num(a), num(kPage) }).runtimeError);
}

TEST_F(Replay, ForkWithEventForkIsReadAndKeepsTheChildRegistered)
{
    const std::int64_t uffd = value(0, "userfaultfd", { num(O_CLOEXEC) });
    if (uffd < 0)
        GTEST_SKIP() << "userfaultfd returned " << uffd << ": " << m_backend.missingFeature("userfaultfd").value_or("");
    const std::int64_t a = m_arena + 8 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    ASSERT_EQ(value(0, "uffdio_api", { num(uffd), num(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_UNMAP) }), 0);
    ASSERT_EQ(value(0, "uffdio_register", { num(uffd), num(a), num(4 * kPage), num(UFFDIO_REGISTER_MODE_MISSING) }), 0);
    CallResult f = m_backend.fork(0, 1, {});
    ASSERT_FALSE(f.runtimeError) << *f.runtimeError;
    ASSERT_GT(f.value, 0);
    // munmap raises UFFD_EVENT_UNMAP and blocks until it is read.
    EXPECT_EQ(value(0, "munmap", { num(a + 3 * kPage), num(kPage) }), 0);
    const auto procs = m_backend.observe();
    ASSERT_EQ(procs.size(), 2u);
    EXPECT_TRUE(hasFlag(procs[0], Addr(a), "um"));
    EXPECT_TRUE(hasFlag(procs[1], Addr(a), "um")) << "the child's new uffd must stay open";
}

TEST_F(Replay, ForkWithoutEventForkDropsTheChildRegistration)
{
    const std::int64_t uffd = value(0, "userfaultfd", { num(O_CLOEXEC) });
    if (uffd < 0)
        GTEST_SKIP() << "userfaultfd returned " << uffd;
    const std::int64_t a = m_arena + 8 * kPage;
    ASSERT_EQ(mapFixed(a, 4 * kPage), a);
    ASSERT_EQ(value(0, "uffdio_api", { num(uffd), num(0) }), 0);
    ASSERT_EQ(value(0, "uffdio_register", { num(uffd), num(a), num(4 * kPage), num(UFFDIO_REGISTER_MODE_MISSING) }), 0);
    ASSERT_FALSE(m_backend.fork(0, 1, {}).runtimeError);
    const auto procs = m_backend.observe();
    EXPECT_TRUE(hasFlag(procs[0], Addr(a), "um"));
    EXPECT_FALSE(hasFlag(procs[1], Addr(a), "um"));
}

TEST_F(Replay, OpenFileLivesInATemporaryDirectoryRemovedByFinish)
{
    const std::int64_t fd = value(0, "open_file", { str("data.bin"), num(4 * kPage) });
    ASSERT_GE(fd, 0);
    ASSERT_EQ(mapFixed(m_arena, 4 * kPage, kProtRw, MAP_SHARED, fd), m_arena);
    EXPECT_EQ(value(0, "touch", { num(m_arena), num(4 * kPage), num(PROT_READ) }), 0);
    const auto procs = m_backend.observe();
    std::string path;
    for (const ObservedVma& v : procs[0].vmas)
        if (v.start == Addr(m_arena))
            path = v.name;
    ASSERT_GT(path.size(), 9u);
    EXPECT_EQ(path.substr(path.size() - 9), "/data.bin");
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 4 * kPage);
    const std::string dir = path.substr(0, path.rfind('/'));
    m_backend.finish();
    EXPECT_NE(::stat(dir.c_str(), &st), 0) << dir << " should be gone";
}

TEST_F(Replay, AgentThatDiesIsARuntimeErrorNotAHang)
{
    // Unmapping the agent's own code kills it with SIGSEGV on return from munmap.
    CallResult r = call(0, "munmap", { num(0x10000), num(0x7fff00000000) });
    ASSERT_TRUE(r.runtimeError);
    EXPECT_NE(r.runtimeError->find("signal 11"), std::string::npos) << *r.runtimeError;
    EXPECT_TRUE(call(0, "touch", { num(m_arena), num(kPage), num(PROT_READ) }).runtimeError);
}

TEST_F(Replay, WrongArgumentKindsAreRuntimeErrors)
{
    EXPECT_TRUE(call(0, "memfd_create", { num(1), num(0) }).runtimeError);
    EXPECT_TRUE(call(0, "munmap", { str("x"), num(0) }).runtimeError);
    EXPECT_TRUE(call(0, "open_file", { str("../escape"), num(0) }).runtimeError);
    EXPECT_TRUE(call(0, "no_such_call", {}).runtimeError);
}

TEST(ReplayFeatures, AgreeWithTheKernelConfig)
{
    ReplayBackend b;
    const MachineConfig m = readMachineConfig();
    EXPECT_EQ(b.describe(), "kernel " + m.kernelRelease);
    EXPECT_EQ(b.missingFeature("anon-vma-name").has_value(), !m.anonVmaName)
        << b.missingFeature("anon-vma-name").value_or("");
    EXPECT_EQ(b.missingFeature("soft-dirty").has_value(), !m.softDirty);
    EXPECT_EQ(b.missingFeature("guard-regions").has_value(), !m.guardRegions);
    EXPECT_EQ(b.missingFeature("swap").has_value(), !m.swap);
    EXPECT_EQ(b.missingFeature("thp").has_value(), m.thp == MachineConfig::Thp::Never);
    if (m.userfaultfd && ::geteuid() == 0) {
        EXPECT_EQ(b.missingFeature("userfaultfd"), std::nullopt);
    }
    EXPECT_TRUE(b.missingFeature("no-such-feature").has_value());
}

} // namespace
} // namespace vmalab::host
