#include "core/host/capture.h"

#include "core/host/host_facts.h"
#include "core/host/probe.h"
#include "core/host/procfs.h"
#include "core/host/sys_util.h"
#include "core/snapshot/smaps_text.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace vmalab::host {

namespace {

using snapshot::SnapshotPageRun;
using snapshot::SnapshotVma;

// PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h); Debian 12's headers predate it.
struct PmScanArg
{
    std::uint64_t size;
    std::uint64_t flags;
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t walk_end;
    std::uint64_t vec;
    std::uint64_t vec_len;
    std::uint64_t max_pages;
    std::uint64_t category_inverted;
    std::uint64_t category_mask;
    std::uint64_t category_anyof_mask;
    std::uint64_t return_mask;
};
struct PageRegion
{
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t categories;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr std::uint64_t kPageIsPresent = 1 << 3;
constexpr std::uint64_t kPageIsSwapped = 1 << 4;
constexpr std::uint64_t kPageIsGuard = 1 << 8; // since 6.14; older kernels refuse the bit with EINVAL
// The top of the largest user address space (57 bits, with 5-level page tables).
constexpr Addr kUserTop = Addr { 1 } << 56;
constexpr std::uint64_t kPfnMask = (std::uint64_t { 1 } << 55) - 1;

std::int64_t clockNs(clockid_t id)
{
    timespec ts {};
    clock_gettime(id, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Diagnostic accessError(pid_t pid, const std::string& path, int err)
{
    const std::string p = std::to_string(pid);
    if (err == ENOENT || err == ESRCH)
        return { path, 0, 0, "process " + p + " no longer exists" };
    if (err == EACCES || err == EPERM)
        return { path, 0, 0,
            "permission denied reading " + path + ": capturing process " + p
                + " needs the same user as it (and ptrace access, see /proc/sys/kernel/yama/ptrace_scope) "
                  "or CAP_SYS_PTRACE" };
    return { path, 0, 0, "cannot read " + path + ": " + errnoText(err) };
}

bool fullPread(int fd, void* buf, std::size_t n, off_t off, std::size_t* got)
{
    *got = 0;
    while (*got < n) {
        const ssize_t r = ::pread(fd, static_cast<char*>(buf) + *got, n - *got, off + off_t(*got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        *got += std::size_t(r);
    }
    return true;
}

// Builds runs page by page, joining equal neighbours inside one VMA.
class RunBuilder
{
public:
    explicit RunBuilder(std::vector<SnapshotPageRun>& out)
        : m_out(out)
    {
    }
    void startVma(Addr start) { m_vmaStart = start; }
    void add(const SnapshotPageRun& r)
    {
        if (!m_out.empty()) {
            SnapshotPageRun& last = m_out.back();
            PageRun joined = last.run;
            joined.end = r.run.end;
            PageRun probe = r.run;
            probe.start = last.run.start;
            if (last.run.end == r.run.start && r.run.start != m_vmaStart && joined == probe
                && last.kpageflags == r.kpageflags) {
                last.run.end = r.run.end;
                return;
            }
        }
        m_out.push_back(r);
    }
    void none(Addr s, Addr e)
    {
        if (s < e)
            add({ PageRun { s, e, PageState::None, false, false, false }, 0 });
    }

private:
    std::vector<SnapshotPageRun>& m_out;
    Addr m_vmaStart = 0;
};

// Reads pagemap entries of [s, e) (and kpageflags of present pages) into runs.
void readEntries(RunBuilder& b, int pagemapFd, int kpfFd, Addr s, Addr e)
{
    constexpr std::size_t kChunk = 4096;
    // Most VMAs are small: size the buffers to the range, not to a whole chunk.
    const std::size_t cap = std::size_t(std::min<Addr>((e - s) >> pageShift, kChunk));
    std::vector<std::uint64_t> buf(cap), kpf(cap);
    for (Addr a = s; a < e;) {
        const std::size_t want = std::size_t(std::min<Addr>((e - a) >> pageShift, kChunk));
        std::size_t got = 0;
        fullPread(pagemapFd, buf.data(), want * 8, off_t((a >> pageShift) * 8), &got);
        std::fill(buf.begin() + std::ptrdiff_t(got / 8), buf.begin() + std::ptrdiff_t(want), 0);
        std::fill(kpf.begin(), kpf.begin() + std::ptrdiff_t(want), 0);
        // kpageflags of runs of consecutive PFNs in one pread each.
        for (std::size_t i = 0; kpfFd >= 0 && i < want;) {
            const std::uint64_t pfn = buf[i] & kPfnMask;
            if (!(buf[i] & kPmPresent) || pfn == 0) {
                ++i;
                continue;
            }
            std::size_t n = 1;
            while (i + n < want && (buf[i + n] & kPmPresent) && (buf[i + n] & kPfnMask) == pfn + n)
                ++n;
            std::size_t read = 0;
            fullPread(kpfFd, kpf.data() + i, n * 8, off_t(pfn * 8), &read);
            i += n;
        }
        for (std::size_t i = 0; i < want; ++i)
            b.add({ pageFromEntry(a + i * pageSize, buf[i]), kpf[i] & snapshot::kKpfKept });
        a += want * pageSize;
    }
}

// The populated ranges of [s, e) as PAGEMAP_SCAN reports them; false if the kernel refuses.
bool scanPopulated(int fd, Addr s, Addr e, std::vector<std::pair<Addr, Addr>>* out, bool* withGuard)
{
    std::vector<PageRegion> regions(4096);
    Addr from = s;
    while (from < e) {
        PmScanArg arg {};
        arg.size = sizeof arg;
        arg.start = from;
        arg.end = e;
        arg.vec = reinterpret_cast<std::uint64_t>(regions.data());
        arg.vec_len = regions.size();
        arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped | (*withGuard ? kPageIsGuard : 0);
        arg.return_mask = arg.category_anyof_mask;
        const int n = ::ioctl(fd, kPagemapScan, &arg);
        if (n < 0 && errno == EINVAL && *withGuard) {
            *withGuard = false; // before 6.14: guard markers still show as swapped entries
            continue;
        }
        if (n < 0)
            return false;
        for (int i = 0; i < n; ++i) {
            if (!out->empty() && out->back().second == regions[std::size_t(i)].start)
                out->back().second = regions[std::size_t(i)].end;
            else
                out->emplace_back(regions[std::size_t(i)].start, regions[std::size_t(i)].end);
        }
        if (arg.walk_end <= from || arg.walk_end >= e)
            break;
        from = arg.walk_end;
    }
    // Linux 6.18 can report regions beyond walk_end when the vector fills, and the next call
    // reports them again: the union of all calls, in order, is what was found.
    std::sort(out->begin(), out->end());
    std::vector<std::pair<Addr, Addr>> merged;
    for (const auto& r : *out) {
        if (!merged.empty() && r.first <= merged.back().second)
            merged.back().second = std::max(merged.back().second, r.second);
        else
            merged.push_back(r);
    }
    *out = std::move(merged);
    return true;
}

bool hasFlag(const ObservedVma& v, const char* m)
{
    return std::find(v.vmFlags.begin(), v.vmFlags.end(), m) != v.vmFlags.end();
}

// Whether the process has exited (a zombie keeps /proc/PID but shows no mappings).
bool exited(const std::vector<std::pair<std::string, std::string>>& status)
{
    for (const auto& [k, v] : status)
        if (k == "State")
            return !v.empty() && (v[0] == 'Z' || v[0] == 'X');
    return false;
}

char stateOf(pid_t pid)
{
    auto stat = readFileText("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return '?';
    const auto paren = stat->rfind(')');
    return paren == std::string::npos || paren + 2 >= stat->size() ? '?' : (*stat)[paren + 2];
}

// SIGSTOP for the capture, SIGCONT after, unless the process was stopped already.
class Freezer
{
public:
    Freezer(pid_t pid, bool want, std::vector<std::string>* notes)
        : m_pid(pid)
    {
        if (!want)
            return;
        if (pid == ::getpid()) {
            notes->push_back("not frozen: a process cannot stop itself for its own capture");
            return;
        }
        const char before = stateOf(pid);
        if (before == 'T' || before == 't') {
            notes->push_back("the process was stopped already; left stopped");
            return;
        }
        if (::kill(pid, SIGSTOP) != 0) {
            notes->push_back("not frozen: SIGSTOP failed: " + errnoText(errno));
            return;
        }
        m_stopped = true;
        // The signal is delivered asynchronously: wait (up to a second) until it took effect.
        for (int i = 0; i < 1000 && stateOf(pid) != 'T'; ++i)
            ::usleep(1000);
        m_frozen = stateOf(pid) == 'T';
        if (!m_frozen)
            notes->push_back("SIGSTOP sent but the process did not stop within a second");
    }
    ~Freezer()
    {
        if (m_stopped)
            ::kill(m_pid, SIGCONT);
    }
    bool frozen() const { return m_frozen; }

private:
    pid_t m_pid;
    bool m_stopped = false;
    bool m_frozen = false;
};

} // namespace

std::vector<SnapshotPageRun> capturePageRuns(
    const std::vector<SnapshotVma>& vmas, int pagemapFd, int kpageflagsFd, bool scan, bool* scanned)
{
    std::vector<SnapshotPageRun> out;
    RunBuilder b(out);
    std::vector<std::pair<Addr, Addr>> populated;
    bool withGuard = true;
    // The ioctl refuses a range beyond the user address space (access_ok()), where
    // [vsyscall] lives: scan up to the last VMA below it, pread the rest.
    Addr scanEnd = 0;
    for (const SnapshotVma& s : vmas)
        if (s.vma.end <= kUserTop)
            scanEnd = s.vma.end;
    *scanned = scan && scanEnd && scanPopulated(pagemapFd, vmas.front().vma.start, scanEnd, &populated, &withGuard);
    auto it = populated.begin();
    for (const SnapshotVma& s : vmas) {
        const ObservedVma& v = s.vma;
        b.startVma(v.start);
        // PAGEMAP_SCAN skips VM_PFNMAP VMAs; pread shows what they have.
        if (!*scanned || hasFlag(v, "pf") || v.end > scanEnd) {
            readEntries(b, pagemapFd, kpageflagsFd, v.start, v.end);
            continue;
        }
        while (it != populated.end() && it->second <= v.start)
            ++it;
        Addr cursor = v.start;
        for (auto r = it; r != populated.end() && r->first < v.end; ++r) {
            const Addr s0 = std::max(r->first, v.start), e0 = std::min(r->second, v.end);
            if (s0 >= e0)
                continue;
            b.none(cursor, s0);
            readEntries(b, pagemapFd, kpageflagsFd, s0, e0);
            cursor = e0;
        }
        b.none(cursor, v.end);
    }
    return out;
}

snapshot::HostInfo readHostInfo()
{
    snapshot::HostInfo h;
    utsname u {};
    if (::uname(&u) == 0) {
        h.sysname = u.sysname;
        h.nodename = u.nodename;
        h.release = u.release;
        h.version = u.version;
        h.machine = u.machine;
    }
    h.config = readMachineConfig(&h.notes);
    h.behaviour = probeBehaviourName(&h.notes);
    return h;
}

Result<snapshot::SnapshotProcess> captureProcess(pid_t pid, const CaptureOptions& options,
    std::vector<std::string>* notes, std::string* pagemapMethod, bool* kpageflagsRead)
{
    const std::string dir = "/proc/" + std::to_string(pid);
    snapshot::SnapshotProcess p;
    const std::string statusPath = dir + "/status";
    auto status = readFileText(statusPath);
    if (!status)
        return accessError(pid, statusPath, errno);
    auto fields = snapshot::parseStatusText(*status, statusPath);
    if (!fields)
        return fields.error();
    p.status = std::move(*fields);
    for (const auto& [k, v] : p.status) {
        if (k == "Name")
            p.name = v;
        else if (k == "Pid")
            p.pid = std::strtoll(v.c_str(), nullptr, 10);
        else if (k == "PPid")
            p.ppid = std::strtoll(v.c_str(), nullptr, 10);
    }
    const std::string smapsPath = dir + "/smaps";
    const std::string pagemapPath = dir + "/pagemap";
    // pagemap is opened before smaps is read so that a process that exits in between
    // fails here rather than with a partial capture.
    const int pm = ::open(pagemapPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (pm < 0)
        return accessError(pid, pagemapPath, errno);
    auto text = readFileText(smapsPath);
    if (!text) {
        const int err = errno;
        ::close(pm);
        return accessError(pid, smapsPath, err);
    }
    if (text->empty() && exited(p.status)) {
        ::close(pm);
        return accessError(pid, smapsPath, ESRCH);
    }
    auto vmas = snapshot::parseSmapsText(*text, smapsPath);
    if (!vmas) {
        ::close(pm);
        return vmas.error();
    }
    p.vmas = std::move(*vmas);
    int kpf = -1;
    if (options.readKpageflags) {
        kpf = ::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
        if (kpf < 0)
            notes->push_back("kpageflags not read: /proc/kpageflags: " + errnoText(errno) + " (needs CAP_SYS_ADMIN)");
        else if (::geteuid() != 0)
            notes->push_back("kpageflags: page frame numbers are hidden without CAP_SYS_ADMIN");
    }
    bool scanned = false;
    p.pages = capturePageRuns(p.vmas, pm, kpf, options.usePagemapScan, &scanned);
    if (options.usePagemapScan && !scanned)
        notes->push_back("PAGEMAP_SCAN not available (Linux 6.7+): every pagemap entry was read with pread");
    *pagemapMethod = scanned ? "PAGEMAP_SCAN" : "pread";
    *kpageflagsRead = kpf >= 0;
    if (kpf >= 0)
        ::close(kpf);
    ::close(pm);
    return p;
}

Result<snapshot::Snapshot> captureSnapshot(pid_t pid, const CaptureOptions& options, const snapshot::HostInfo& host)
{
    snapshot::Snapshot s;
    s.host = host;
    s.realtimeNs = clockNs(CLOCK_REALTIME);
    s.monotonicNs = clockNs(CLOCK_MONOTONIC);
    if (::kill(pid, 0) != 0 && errno == ESRCH)
        return Diagnostic { "", 0, 0, "process " + std::to_string(pid) + " no longer exists" };
    Freezer freezer(pid, options.freeze, &s.notes);
    s.frozen = freezer.frozen();
    auto p = captureProcess(pid, options, &s.notes, &s.pagemapMethod, &s.kpageflags);
    if (!p)
        return p.error();
    s.processes.push_back(std::move(*p));
    return s;
}

} // namespace vmalab::host

namespace vmalab::host {

Result<std::vector<snapshot::Snapshot>> watchProcess(pid_t pid, const CaptureOptions& options,
    const snapshot::HostInfo& host, unsigned intervalMs, std::uint64_t count, const std::function<bool()>& keepGoing)
{
    std::vector<snapshot::Snapshot> timeline;
    while (count == 0 || timeline.size() < count) {
        const std::int64_t started = clockNs(CLOCK_MONOTONIC);
        auto s = captureSnapshot(pid, options, host);
        if (!s) {
            if (timeline.empty())
                return s.error();
            timeline.back().notes.push_back("watch stopped: " + s.error().front().message);
            break;
        }
        timeline.push_back(std::move(*s));
        if ((count && timeline.size() >= count) || !keepGoing())
            break;
        // Sleep in short steps so that keepGoing() (an interrupt) is honoured promptly.
        const std::int64_t due = started + std::int64_t(intervalMs) * 1000000;
        for (std::int64_t now = clockNs(CLOCK_MONOTONIC); now < due && keepGoing(); now = clockNs(CLOCK_MONOTONIC))
            ::usleep(useconds_t(std::min<std::int64_t>((due - now) / 1000, 20000)));
        if (!keepGoing())
            break;
    }
    return timeline;
}

} // namespace vmalab::host
