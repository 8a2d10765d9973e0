// Proof of capture (issue 8): helper processes of our own are captured and every VMA and page
// run is compared with what the kernel reports, read here independently of the capture code:
// /proc/PID/maps parsed with sscanf, the VmFlags lines of smaps, pagemap and kpageflags
// entries read with pread and decoded here.
#include "core/host/capture.h"
#include "core/snapshot/smaps_text.h"
#include "core/snapshot/snapshot_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <linux/userfaultfd.h>
#include <sstream>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "tests/snapshot/helper_process.h"

namespace vmalab::host {
namespace {

using testing::Helper;
using testing::Outcome;

using snapshot::SnapshotPageRun;
using snapshot::SnapshotProcess;

constexpr Addr P = pageSize;
constexpr int kMadvGuardInstall = 102; // MADV_GUARD_INSTALL (6.13)
constexpr std::uint64_t kUffdFeatureWpUnpopulated = 1 << 13; // 6.4; Debian 12's headers predate it
constexpr std::size_t kManyVmas = 60000;

std::string slurp(const std::string& path)
{
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[1 << 16];
    for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, std::size_t(n));
    if (fd >= 0)
        ::close(fd);
    return out;
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

struct MapsLine
{
    std::uint64_t start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[5] = {};
    std::string name;
};

// /proc/PID/maps with sscanf; the name is what follows the blanks after the inode.
std::vector<MapsLine> readMaps(pid_t pid)
{
    std::vector<MapsLine> out;
    for (const std::string& l : lines(slurp("/proc/" + std::to_string(pid) + "/maps"))) {
        MapsLine m;
        int used = 0;
        if (std::sscanf(l.c_str(), "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &m.start, &m.end,
                m.perms, &m.offset, &m.major, &m.minor, &m.inode, &used)
            != 7)
            ADD_FAILURE() << "maps line did not scan: " << l;
        const std::size_t name = l.find_first_not_of(' ', std::size_t(used));
        m.name = name == std::string::npos ? "" : l.substr(name);
        out.push_back(m);
    }
    return out;
}

// The VmFlags line of every VMA in smaps, split at blanks.
std::vector<std::vector<std::string>> readVmFlags(pid_t pid)
{
    std::vector<std::vector<std::string>> out;
    for (const std::string& l : lines(slurp("/proc/" + std::to_string(pid) + "/smaps"))) {
        if (l.rfind("VmFlags:", 0) != 0)
            continue;
        std::istringstream words(l.substr(8));
        out.emplace_back();
        for (std::string w; words >> w;)
            out.back().push_back(w);
    }
    return out;
}

// A pagemap entry decoded (Documentation/admin-guide/mm/pagemap.rst): guard regions are
// reported as swap entries with bit 58, uffd-wp markers as swap entries with bit 57.
struct Entry
{
    PageState state = PageState::None;
    bool uffdWp = false, exclusive = false, file = false;
    std::uint64_t pfn = 0;
};

Entry decode(std::uint64_t e)
{
    Entry d;
    if (e >> 58 & 1)
        d.state = PageState::Guard;
    else if (e >> 63 & 1)
        d.state = PageState::Present;
    else if (e >> 62 & 1)
        d.state = PageState::Swap;
    d.uffdWp = e >> 57 & 1;
    d.exclusive = e >> 56 & 1;
    d.file = e >> 61 & 1;
    d.pfn = (e >> 63 & 1) ? e & ((std::uint64_t { 1 } << 55) - 1) : 0;
    return d;
}

std::string describe(const SnapshotPageRun& r)
{
    char buf[160];
    std::snprintf(buf, sizeof buf, "run [0x%" PRIx64 ", 0x%" PRIx64 ") %s w%d x%d f%d kpf 0x%" PRIx64, r.run.start,
        r.run.end, pageStateName(r.run.state), r.run.uffdWp, r.run.exclusive, r.run.file, r.kpageflags);
    return buf;
}

// Collects mismatches: the count and the first few, so that 60,000 VMAs do not flood the log.
struct Mismatches
{
    std::size_t count = 0;
    std::string first;
    void add(const std::string& what)
    {
        if (count++ < 10)
            first += "  " + what + "\n";
    }
};

// Every VMA against maps and VmFlags; the runs cover each VMA exactly, neighbours differ.
void expectVmasMatchKernel(pid_t pid, const SnapshotProcess& p)
{
    const std::vector<MapsLine> maps = readMaps(pid);
    const auto flags = readVmFlags(pid);
    ASSERT_EQ(p.vmas.size(), maps.size());
    ASSERT_EQ(p.vmas.size(), flags.size());
    Mismatches bad;
    for (std::size_t i = 0; i < maps.size(); ++i) {
        const ObservedVma& v = p.vmas[i].vma;
        const MapsLine& m = maps[i];
        if (v.start != m.start || v.end != m.end || v.perms != m.perms || v.offset != m.offset || v.devMajor != m.major
            || v.devMinor != m.minor || v.inode != m.inode || v.name != m.name)
            bad.add("VMA " + std::to_string(i) + " differs from maps: " + v.perms + " " + v.name + " vs " + m.perms
                + " " + m.name);
        if (v.vmFlags != flags[i])
            bad.add("VMA " + std::to_string(i) + " VmFlags differ");
    }
    std::size_t r = 0;
    for (const auto& s : p.vmas) {
        Addr cursor = s.vma.start;
        const SnapshotPageRun* prev = nullptr;
        for (; r < p.pages.size() && p.pages[r].run.start < s.vma.end; ++r) {
            const SnapshotPageRun& run = p.pages[r];
            if (run.run.start != cursor || run.run.end > s.vma.end)
                bad.add(describe(run) + " does not continue the runs of its VMA");
            PageRun same = run.run;
            if (prev) {
                same.start = prev->run.start;
                same.end = prev->run.end;
                if (same == prev->run && run.kpageflags == prev->kpageflags)
                    bad.add(describe(run) + " could join the run before it");
            }
            cursor = run.run.end;
            prev = &run;
        }
        if (cursor != s.vma.end)
            bad.add("the runs of VMA at " + std::to_string(s.vma.start) + " stop short of its end");
    }
    EXPECT_EQ(r, p.pages.size()) << "runs outside every VMA";
    EXPECT_EQ(bad.count, 0u) << bad.first;
}

// Pages of every run read from pagemap (all of a short run; the ends and the middle of a
// long one) and compared; `exclusive` only inside [ownStart, ownEnd), since this process's
// own writes break the copy-on-write sharing of the rest while the test runs.
void expectRunsMatchPagemap(pid_t pid, const snapshot::Snapshot& s, Addr ownStart, Addr ownEnd)
{
    const SnapshotProcess& p = s.processes.front();
    const int pm = ::open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(pm, 0);
    const int kpf = s.kpageflags && ::geteuid() == 0 ? ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC) : -1;
    Mismatches bad;
    std::size_t checked = 0;
    auto check = [&](const SnapshotPageRun& run, Addr page) {
        std::uint64_t e = 0;
        if (::pread(pm, &e, 8, off_t(page / P * 8)) != 8)
            e = 0; // beyond the user address space ([vsyscall]): none
        const Entry d = decode(e);
        ++checked;
        const bool own = page >= ownStart && page < ownEnd;
        if (d.state != run.run.state || d.uffdWp != run.run.uffdWp || d.file != run.run.file
            || (own && d.exclusive != run.run.exclusive)) {
            char at[40];
            std::snprintf(at, sizeof at, "0x%" PRIx64, page);
            bad.add(std::string("page ") + at + ": pagemap says " + pageStateName(d.state) + " w"
                + std::to_string(d.uffdWp) + " x" + std::to_string(d.exclusive) + " f" + std::to_string(d.file) + ", "
                + describe(run));
        }
        std::uint64_t flags = 0;
        if (kpf >= 0 && d.pfn && ::pread(kpf, &flags, 8, off_t(d.pfn * 8)) == 8
            && (flags & snapshot::kKpfKept) != run.kpageflags)
            bad.add("kpageflags of page " + std::to_string(page) + " differ: " + describe(run));
    };
    for (const SnapshotPageRun& run : p.pages) {
        const Addr n = (run.run.end - run.run.start) / P;
        for (Addr i = 0; i < n; ++i)
            if (n <= 64 || i < 16 || i == n / 2 || i >= n - 16)
                check(run, run.run.start + i * P);
    }
    if (kpf >= 0)
        ::close(kpf);
    ::close(pm);
    EXPECT_GE(checked, p.pages.size());
    EXPECT_EQ(bad.count, 0u) << bad.first;
}

// A frozen capture, compared with the kernel, then saved and read back unchanged.
snapshot::Snapshot captureAndCompare(const Helper& h, Addr ownStart, Addr ownEnd)
{
    CaptureOptions opts;
    opts.freeze = true;
    auto s = captureSnapshot(h.pid(), opts, {});
    EXPECT_TRUE(s) << s.error().front().message;
    if (!s)
        return {};
    EXPECT_EQ(s->processes.size(), 1u);
    expectVmasMatchKernel(h.pid(), s->processes.front());
    expectRunsMatchPagemap(h.pid(), *s, ownStart, ownEnd);
    auto back = snapshot::parseSnapshots(snapshot::writeSnapshots({ *s }));
    EXPECT_TRUE(back);
    if (back) {
        EXPECT_EQ(back->front().processes, s->processes);
    }
    return *s;
}

const snapshot::SnapshotVma* vmaAt(const SnapshotProcess& p, Addr a)
{
    for (const snapshot::SnapshotVma& v : p.vmas)
        if (v.vma.start <= a && a < v.vma.end)
            return &v;
    return nullptr;
}

bool hasFlag(const ObservedVma& v, const std::string& m)
{
    return std::find(v.vmFlags.begin(), v.vmFlags.end(), m) != v.vmFlags.end();
}

char* mapAnon(Addr at, Addr len)
{
    void* p = ::mmap(reinterpret_cast<void*>(at), len, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == reinterpret_cast<void*>(at) ? static_cast<char*>(p) : nullptr;
}

TEST(CaptureProof, SixtyThousandVmas)
{
    // One page per VMA, alternately rw-p and r--p (mprotect splits them apart), every
    // fourth page written: 60,000 VMAs of the helper's own besides its image and libraries.
    constexpr Addr base = 0x500000000000;
    Helper h([] {
        char* p = mapAnon(base, kManyVmas * P);
        if (!p)
            return Outcome::Failed;
        for (std::size_t i = 1; i < kManyVmas; i += 2)
            if (::mprotect(p + i * P, P, PROT_READ) != 0)
                return Outcome::Unsupported; // vm.max_map_count below 60,000
        for (std::size_t i = 0; i < kManyVmas; i += 4)
            p[i * P] = 1;
        return Outcome::Ready;
    });
    if (h.outcome() == Outcome::Unsupported)
        GTEST_SKIP() << "vm.max_map_count does not allow 60,000 VMAs";
    ASSERT_EQ(h.outcome(), Outcome::Ready);
    const snapshot::Snapshot s = captureAndCompare(h, base, base + kManyVmas * P);
    ASSERT_EQ(s.processes.size(), 1u);
    const SnapshotProcess& p = s.processes.front();
    EXPECT_GE(p.vmas.size(), kManyVmas);
    const snapshot::PageCounts own = snapshot::countPages(p.pages, base, base + kManyVmas * P);
    EXPECT_EQ(own.present, kManyVmas / 4);
    EXPECT_EQ(own.none, kManyVmas - kManyVmas / 4);

    // pread of every entry finds the same runs as PAGEMAP_SCAN.
    CaptureOptions pread;
    pread.usePagemapScan = false;
    pread.freeze = true;
    auto b = captureSnapshot(h.pid(), pread, {});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->pagemapMethod, "pread");
    auto ownRuns = [&](const SnapshotProcess& q) {
        std::vector<SnapshotPageRun> out;
        for (const SnapshotPageRun& r : q.pages)
            if (r.run.start >= base && r.run.end <= base + kManyVmas * P)
                out.push_back(r);
        return out;
    };
    EXPECT_EQ(ownRuns(p), ownRuns(b->processes.front()));
}

TEST(CaptureProof, GuardRegions)
{
    constexpr Addr base = 0x510000000000;
    // 64 pages: pages 0-7 written; guards on 0, 3-5, 20 and 63. A second VMA of 8 pages
    // without guards stays without `gu`.
    Helper h([] {
        char* p = mapAnon(base, 64 * P);
        char* q = mapAnon(base + 128 * P, 8 * P);
        if (!p || !q)
            return Outcome::Failed;
        for (int i = 0; i < 8; ++i)
            p[i * P] = 1;
        q[0] = 1;
        if (::madvise(p, P, kMadvGuardInstall) != 0)
            return errno == EINVAL ? Outcome::Unsupported : Outcome::Failed;
        if (::madvise(p + 3 * P, 3 * P, kMadvGuardInstall) != 0 || ::madvise(p + 20 * P, P, kMadvGuardInstall) != 0
            || ::madvise(p + 63 * P, P, kMadvGuardInstall) != 0)
            return Outcome::Failed;
        return Outcome::Ready;
    });
    if (h.outcome() == Outcome::Unsupported)
        GTEST_SKIP() << "the kernel has no MADV_GUARD_INSTALL (Linux 6.13)";
    ASSERT_EQ(h.outcome(), Outcome::Ready);
    const snapshot::Snapshot s = captureAndCompare(h, base, base + 136 * P);
    ASSERT_EQ(s.processes.size(), 1u);
    const SnapshotProcess& p = s.processes.front();
    const auto* guarded = vmaAt(p, base);
    const auto* plain = vmaAt(p, base + 128 * P);
    ASSERT_TRUE(guarded && plain);
    EXPECT_TRUE(hasFlag(guarded->vma, "gu"));
    EXPECT_FALSE(hasFlag(plain->vma, "gu"));
    for (const Addr page : std::initializer_list<Addr> { 0, 3, 4, 5, 20, 63 })
        EXPECT_EQ(snapshot::countPages(p.pages, base + page * P, base + (page + 1) * P).guard, 1u) << page;
    const snapshot::PageCounts all = snapshot::countPages(p.pages, base, base + 64 * P);
    EXPECT_EQ(all.guard, 6u);
    EXPECT_EQ(all.present, 4u); // 1, 2, 6, 7: a guard zaps the page it replaces
}

TEST(CaptureProof, UffdWpPagesAndMarkers)
{
    constexpr Addr base = 0x520000000000;
    // 32 registered pages: 0-7 written then write-protected (present, uffd-wp); 8-15
    // write-protected while empty, which with WP_UNPOPULATED leaves markers; 16-31 untouched.
    Helper h([] {
        char* p = mapAnon(base, 32 * P);
        if (!p)
            return Outcome::Failed;
        for (int i = 0; i < 8; ++i)
            p[i * P] = 1;
        const int uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
        if (uffd < 0)
            return Outcome::Unsupported;
        uffdio_api api {};
        api.api = UFFD_API;
        api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | kUffdFeatureWpUnpopulated;
        if (::ioctl(uffd, UFFDIO_API, &api) != 0)
            return Outcome::Unsupported;
        uffdio_register reg {};
        reg.range = { base, 32 * P };
        reg.mode = UFFDIO_REGISTER_MODE_WP;
        if (::ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
            return Outcome::Unsupported;
        uffdio_writeprotect wp {};
        wp.range = { base, 16 * P };
        wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
        return ::ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) == 0 ? Outcome::Ready : Outcome::Failed;
    });
    if (h.outcome() == Outcome::Unsupported)
        GTEST_SKIP() << "userfaultfd with write-protect of unpopulated pages (Linux 6.4) is not available";
    ASSERT_EQ(h.outcome(), Outcome::Ready);
    const snapshot::Snapshot s = captureAndCompare(h, base, base + 32 * P);
    ASSERT_EQ(s.processes.size(), 1u);
    const SnapshotProcess& p = s.processes.front();
    const auto* v = vmaAt(p, base);
    ASSERT_TRUE(v);
    EXPECT_TRUE(hasFlag(v->vma, "uw"));
    // The format: a present page "present" with flag w; a marker "swap" with flag w.
    std::vector<SnapshotPageRun> runs;
    for (const SnapshotPageRun& r : p.pages)
        if (r.run.start >= base && r.run.end <= base + 32 * P)
            runs.push_back(r);
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].run, (PageRun { base, base + 8 * P, PageState::Present, true, true, false }));
    EXPECT_EQ(runs[1].run, (PageRun { base + 8 * P, base + 16 * P, PageState::Swap, true, false, false }));
    EXPECT_EQ(runs[2].run, (PageRun { base + 16 * P, base + 32 * P, PageState::None, false, false, false }));
}

TEST(CaptureProof, MemfdDeletedFilesAndOddNames)
{
    constexpr Addr base = 0x530000000000;
    const std::string dir = "/tmp/vmalab proof " + std::to_string(::getpid());
    const std::string kept = dir + "/kept with spaces\nand a newline";
    const std::string gone = dir + "/deleted file";
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    bool anonNamed = false;
    {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        Helper h([&] {
            // memfd shared (2 pages, page 0 written) and private (page 1 written: anonymous COW).
            const int mfd = static_cast<int>(::syscall(SYS_memfd_create, "vmalab proof", 0));
            if (mfd < 0 || ::ftruncate(mfd, 4 * P) != 0)
                return Outcome::Failed;
            char* shared = static_cast<char*>(::mmap(reinterpret_cast<void*>(base), 2 * P, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0));
            char* priv = static_cast<char*>(::mmap(reinterpret_cast<void*>(base + 16 * P), 2 * P,
                PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, mfd, 2 * P));
            if (shared == MAP_FAILED || priv == MAP_FAILED)
                return Outcome::Failed;
            shared[0] = 1;
            (void)*static_cast<volatile char*>(priv);
            priv[P] = 1;
            for (const std::string* path : { &kept, &gone }) {
                const int fd = ::open(path->c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
                const Addr at = base + (path == &kept ? 32 : 48) * P;
                if (fd < 0 || ::ftruncate(fd, 2 * P) != 0
                    || ::mmap(reinterpret_cast<void*>(at), 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0)
                        == MAP_FAILED)
                    return Outcome::Failed;
                (void)*reinterpret_cast<volatile char*>(at);
            }
            ::unlink(gone.c_str());
            char* named = mapAnon(base + 64 * P, 2 * P);
            const bool ok = named && ::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, named, 2 * P, "vmalab proof name") == 0;
            (void)::write(fds[1], ok ? "n" : "-", 1);
            return Outcome::Ready;
        });
        ::close(fds[1]);
        char c = 0;
        anonNamed = ::read(fds[0], &c, 1) == 1 && c == 'n';
        ::close(fds[0]);
        ASSERT_EQ(h.outcome(), Outcome::Ready);
        const snapshot::Snapshot s = captureAndCompare(h, base, base + 80 * P);
        ASSERT_EQ(s.processes.size(), 1u);
        const SnapshotProcess& p = s.processes.front();
        const auto* shared = vmaAt(p, base);
        const auto* priv = vmaAt(p, base + 16 * P);
        const auto* keptVma = vmaAt(p, base + 32 * P);
        const auto* goneVma = vmaAt(p, base + 48 * P);
        ASSERT_TRUE(shared && priv && keptVma && goneVma);
        EXPECT_EQ(shared->vma.name, "/memfd:vmalab proof (deleted)");
        EXPECT_EQ(shared->vma.perms, "rw-s");
        EXPECT_EQ(priv->vma.name, "/memfd:vmalab proof (deleted)");
        EXPECT_EQ(priv->vma.offset, 2 * P);
        EXPECT_EQ(snapshot::countPages(p.pages, base, base + 2 * P).present, 1u);
        EXPECT_EQ(snapshot::countPages(p.pages, base + 16 * P, base + 18 * P).present, 2u);
        EXPECT_EQ(priv->vma.kb("Anonymous"), 4u);
        const snapshot::VmaName k = snapshot::classifyName(keptVma->vma.name);
        EXPECT_EQ(k.kind, snapshot::NameKind::File);
        EXPECT_EQ(k.text, kept);
        EXPECT_NE(keptVma->vma.name.find("\\012"), std::string::npos);
        const snapshot::VmaName g = snapshot::classifyName(goneVma->vma.name);
        EXPECT_EQ(g.kind, snapshot::NameKind::DeletedFile);
        EXPECT_EQ(g.text, gone);
        if (anonNamed) {
            const auto* named = vmaAt(p, base + 64 * P);
            ASSERT_TRUE(named);
            EXPECT_EQ(named->vma.name, "[anon:vmalab proof name]");
        }
    }
    ::unlink(kept.c_str());
    ::rmdir(dir.c_str());
}

} // namespace
} // namespace vmalab::host
