// libFuzzer target: the model engine alone. The input bytes choose a sequence of calls —
// mmap, munmap, mprotect, mremap, madvise (guard install/remove included), mlock, munlock,
// touch, ftruncate, fork — in a 512-page window, the way core/host/differential.cpp's
// Generator does for the kernel, and run them through ModelBackend. After every call the
// world must pass validateWorld() (core/engine/validate.h); a violation aborts with the
// calls so far, which is the reproducer.
#include "core/engine/abi.h"
#include "core/engine/model_backend.h"
#include "core/engine/validate.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>
#include <vector>

namespace {

using namespace vmalab;

constexpr std::uint64_t windowPages = 512;
constexpr std::uint64_t busyPages = 48;

class Sequence
{
public:
    Sequence(FuzzedDataProvider& in, Profile profile)
        : m_in(in)
        , m_backend(std::move(profile))
    {
    }

    void run()
    {
        m_backend.start();
        m_arena = static_cast<Addr>(call(0, "mmap",
            { num(0), num(windowPages * pageSize), num(abi::PROT_NONE),
                num(abi::MAP_PRIVATE | abi::MAP_ANONYMOUS | abi::MAP_NORESERVE), num(-1), num(0) }));
        if (m_in.ConsumeBool())
            addFd(call(0, "memfd_create", { str("m"), num(0) }), true);
        if (m_in.ConsumeBool())
            addFd(call(0, "open_file", { str("f"), num((1 + m_in.ConsumeIntegralInRange(0, 63)) * pageSize) }), false);
        for (int step = 0; step < 64 && m_in.remaining_bytes() > 0; ++step)
            operation();
    }

private:
    template <typename T> static scenario::Value num(T v)
    {
        scenario::Value x;
        x.num = static_cast<std::int64_t>(v);
        return x;
    }
    static scenario::Value str(const char* s)
    {
        scenario::Value x;
        x.str = s;
        x.isString = true;
        return x;
    }

    void addFd(std::int64_t fd, bool shmem)
    {
        if (fd >= 0) {
            m_fds.push_back(fd);
            if (shmem)
                call(0, "ftruncate", { num(fd), num(m_in.ConsumeIntegralInRange(0, 64) * pageSize) });
        }
    }

    std::uint64_t pick(std::uint64_t lo, std::uint64_t hi) { return m_in.ConsumeIntegralInRange(lo, hi); }
    bool chance(unsigned percent) { return pick(0, 99) < percent; }

    Addr address(std::uint64_t* page)
    {
        *page = chance(90) ? pick(0, busyPages - 1) : pick(0, windowPages - 16);
        Addr a = m_arena + *page * pageSize;
        if (chance(3))
            a += pick(1, 4095);
        return a;
    }

    std::uint64_t length(std::uint64_t page)
    {
        const std::uint64_t room = windowPages - page - 1;
        const std::uint64_t pages = std::min<std::uint64_t>(room, chance(80) ? pick(1, 8) : pick(1, 24));
        if (chance(3))
            return 0;
        return chance(3) && pages > 1 ? (pages - 1) * pageSize + pick(1, 4095) : pages * pageSize;
    }

    std::int64_t prot()
    {
        static const std::int64_t prots[] = { abi::PROT_READ | abi::PROT_WRITE, abi::PROT_READ, abi::PROT_NONE,
            abi::PROT_READ | abi::PROT_EXEC, abi::PROT_WRITE, abi::PROT_READ | abi::PROT_WRITE | abi::PROT_EXEC };
        return prots[pick(0, std::size(prots) - 1)];
    }

    void operation()
    {
        const int proc = static_cast<int>(pick(0, m_procs - 1));
        std::uint64_t page = 0;
        const std::uint64_t which = pick(0, 99);
        if (which < 22) {
            const Addr a = address(&page);
            const std::uint64_t len = length(page);
            std::int64_t flags =
                chance(15) ? abi::MAP_SHARED | abi::MAP_ANONYMOUS : abi::MAP_PRIVATE | abi::MAP_ANONYMOUS;
            std::int64_t fd = -1;
            std::uint64_t off = 0;
            if (!m_fds.empty() && chance(40)) {
                fd = m_fds[pick(0, m_fds.size() - 1)];
                flags = chance(50) ? abi::MAP_SHARED : abi::MAP_PRIVATE;
                off = pick(0, 16) * pageSize;
            }
            flags |= chance(85) ? abi::MAP_FIXED : abi::MAP_FIXED_NOREPLACE;
            if (chance(8))
                flags |= abi::MAP_POPULATE;
            if (chance(8))
                flags |= abi::MAP_NORESERVE;
            if (chance(3))
                flags |= abi::MAP_LOCKED;
            if (chance(2))
                flags |= abi::MAP_GROWSDOWN;
            call(proc, "mmap", { num(a), num(len), num(prot()), num(flags), num(fd), num(off) });
        } else if (which < 34) {
            const Addr a = address(&page);
            call(proc, "mprotect", { num(a), num(length(page)), num(prot()) });
        } else if (which < 41) {
            const Addr a = address(&page);
            call(proc, "munmap", { num(a), num(length(page)) });
        } else if (which < 49) {
            mremap(proc);
        } else if (which < 63) {
            static const std::int64_t advice[] = { abi::MADV_NORMAL, abi::MADV_RANDOM, abi::MADV_SEQUENTIAL,
                abi::MADV_DONTFORK, abi::MADV_DOFORK, abi::MADV_WIPEONFORK, abi::MADV_KEEPONFORK, abi::MADV_DONTDUMP,
                abi::MADV_DODUMP, abi::MADV_HUGEPAGE, abi::MADV_NOHUGEPAGE, abi::MADV_MERGEABLE, abi::MADV_UNMERGEABLE,
                abi::MADV_DONTNEED, abi::MADV_DONTNEED_LOCKED, abi::MADV_FREE, abi::MADV_WILLNEED, abi::MADV_COLD,
                abi::MADV_PAGEOUT, abi::MADV_POPULATE_READ, abi::MADV_POPULATE_WRITE, abi::MADV_REMOVE,
                abi::MADV_COLLAPSE, abi::MADV_GUARD_INSTALL, abi::MADV_GUARD_INSTALL, abi::MADV_GUARD_INSTALL,
                abi::MADV_GUARD_REMOVE, abi::MADV_GUARD_REMOVE, 5, 26 };
            const Addr a = address(&page);
            call(proc, "madvise", { num(a), num(length(page)), num(advice[pick(0, std::size(advice) - 1)]) });
        } else if (which < 70) {
            const Addr a = address(&page);
            const std::uint64_t len = length(page);
            const std::uint64_t kind = pick(0, 9);
            if (kind < 4)
                call(proc, "mlock", { num(a), num(len) });
            else if (kind < 6)
                call(proc, "mlock2", { num(a), num(len), num(chance(90) ? abi::MLOCK_ONFAULT : 2) });
            else
                call(proc, "munlock", { num(a), num(len) });
        } else if (which < 90) {
            const Addr a = address(&page);
            call(proc, "touch", { num(a), num(length(page)), num(chance(60) ? abi::PROT_WRITE : abi::PROT_READ) });
        } else if (which < 94 && !m_fds.empty()) {
            call(0, "ftruncate", { num(m_fds[pick(0, m_fds.size() - 1)]), num(pick(0, 64) * pageSize) });
        } else if (which < 97 && m_procs < 4) {
            const scenario::CallResult r = m_backend.fork(proc, m_procs, {});
            m_log += "fork() in " + std::to_string(proc) + " = " + std::to_string(r.value) + "\n";
            if (!r.runtimeError && r.value >= 0)
                ++m_procs;
            validate();
        } else {
            const Addr a = address(&page);
            call(proc, "prctl", { num(0x53564d41), num(0), num(a), num(length(page)), str(chance(50) ? "x" : "y") });
        }
    }

    void mremap(int proc)
    {
        std::uint64_t page = 0;
        const Addr a = address(&page);
        const std::uint64_t oldPages = std::min<std::uint64_t>(pick(0, 8), windowPages - page - 1);
        std::uint64_t newPages = chance(50) ? oldPages : pick(1, 8);
        if (pick(0, 9) < 4) {
            newPages = std::min<std::uint64_t>(newPages, windowPages - page - 1);
            call(proc, "mremap", { num(a), num(oldPages * pageSize), num(newPages * pageSize), num(0), num(0) });
            return;
        }
        std::int64_t flags = abi::MREMAP_MAYMOVE | abi::MREMAP_FIXED;
        if (chance(20)) {
            flags |= abi::MREMAP_DONTUNMAP;
            newPages = oldPages;
        }
        newPages = std::max<std::uint64_t>(newPages, 1);
        const std::uint64_t target = chance(80) ? pick(0, busyPages + 16) : pick(0, windowPages - 16);
        newPages = std::min<std::uint64_t>(newPages, windowPages - target);
        call(proc, "mremap",
            { num(a), num(oldPages * pageSize), num(newPages * pageSize), num(flags),
                num(m_arena + target * pageSize) });
    }

    std::int64_t call(int proc, const std::string& name, const std::vector<scenario::Value>& args)
    {
        std::string text = name + "(";
        for (std::size_t i = 0; i < args.size(); ++i)
            text += (i ? ", " : "") + (args[i].isString ? "\"" + args[i].str + "\"" : std::to_string(args[i].num));
        const scenario::CallResult r = m_backend.call(proc, name, args, {});
        m_log += "in " + std::to_string(proc) + ": " + text
            + ") = " + (r.runtimeError ? "error: " + *r.runtimeError : std::to_string(r.value)) + "\n";
        validate();
        return r.runtimeError ? -1 : r.value;
    }

    void validate()
    {
        const std::vector<std::string> problems = validateWorld(m_backend.world());
        if (problems.empty())
            return;
        std::fprintf(stderr, "fuzz_engine: invariants broken after:\n%s", m_log.c_str());
        for (const std::string& p : problems)
            std::fprintf(stderr, "  %s\n", p.c_str());
        std::abort();
    }

    FuzzedDataProvider& m_in;
    ModelBackend m_backend;
    Addr m_arena = 0;
    int m_procs = 1;
    std::vector<std::int64_t> m_fds;
    std::string m_log;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    const std::vector<std::string> names = builtinProfileNames();
    const std::string name = names[in.ConsumeIntegralInRange<std::size_t>(0, names.size() - 1)];
    Sequence(in, *builtinProfile(name)).run();
    return 0;
}
