#include "core/host/capture.h"

#include "core/host/host_facts.h"
#include "core/host/probe.h"
#include "core/host/procfs.h"
#include "core/host/sys_util.h"
#include "core/snapshot/smaps_text.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <thread>
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
// The top of a 47-bit address space (4-level page tables): where a scan made before the VMAs
// are known stops.
constexpr Addr kTaskSize47 = (Addr { 1 } << 47) - pageSize;
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

// A part of a VMA whose pagemap entries are read, or (read == false) pages known to be none.
struct Segment
{
    Addr start;
    Addr end;
    bool read;
    bool vmaStart; // the first segment of its VMA
};

// pagemap entries (and the kpageflags of present pages) of a window of up to kWindow pages,
// read with one pread that also covers the read segments that follow within the window:
// with many small VMAs or scattered populated pages one call serves hundreds of them.
class PagemapWindow
{
public:
    static constexpr std::size_t kWindow = 8192;
    PagemapWindow(int pagemapFd, int kpfFd)
        : m_pm(pagemapFd)
        , m_kpf(kpfFd)
        , m_entries(kWindow)
        , m_flags(kWindow)
    {
    }
    bool holds(Addr a) const { return a >= m_start && a < m_end; }
    Addr end() const { return m_end; }
    std::uint64_t entry(Addr a) const { return m_entries[(a - m_start) >> pageShift]; }
    std::uint64_t kpageflags(Addr a) const { return m_flags[(a - m_start) >> pageShift]; }

    // Reads from `a` (inside segs[i]) to the end of the last read segment that fits.
    void load(Addr a, const std::vector<Segment>& segs, std::size_t i)
    {
        const Addr cap = a + Addr(kWindow) * pageSize;
        Addr end = std::min(segs[i].end, cap);
        for (std::size_t j = i + 1; j < segs.size() && segs[j].start < cap; ++j)
            if (segs[j].read)
                end = std::min(segs[j].end, cap);
        const std::size_t n = std::size_t((end - a) >> pageShift);
        std::size_t got = 0;
        fullPread(m_pm, m_entries.data(), n * 8, off_t((a >> pageShift) * 8), &got);
        std::fill(m_entries.begin() + std::ptrdiff_t(got / 8), m_entries.begin() + std::ptrdiff_t(n), 0);
        m_start = a;
        m_end = end;
        readKpageflags(n);
    }

private:
    // One pread per cluster of page frame numbers a few apart rather than one per page:
    // a read of a frame's flags costs the kernel more than the syscall, so gaps stay small.
    void readKpageflags(std::size_t n)
    {
        std::fill(m_flags.begin(), m_flags.begin() + std::ptrdiff_t(n), 0);
        if (m_kpf < 0)
            return;
        m_byPfn.clear();
        for (std::size_t i = 0; i < n; ++i)
            if ((m_entries[i] & kPmPresent) && (m_entries[i] & kPfnMask))
                m_byPfn.emplace_back(m_entries[i] & kPfnMask, i);
        std::sort(m_byPfn.begin(), m_byPfn.end());
        constexpr std::uint64_t kMaxGap = 4;
        for (std::size_t i = 0; i < m_byPfn.size();) {
            const std::uint64_t first = m_byPfn[i].first;
            std::size_t j = i + 1;
            while (j < m_byPfn.size() && m_byPfn[j].first - m_byPfn[j - 1].first <= kMaxGap)
                ++j;
            const std::uint64_t count = m_byPfn[j - 1].first - first + 1;
            m_buf.assign(count, 0);
            std::size_t got = 0;
            fullPread(m_kpf, m_buf.data(), count * 8, off_t(first * 8), &got);
            for (std::size_t k = i; k < j; ++k)
                m_flags[m_byPfn[k].second] = m_buf[m_byPfn[k].first - first] & snapshot::kKpfKept;
            i = j;
        }
    }

    int m_pm;
    int m_kpf;
    std::vector<std::uint64_t> m_entries;
    std::vector<std::uint64_t> m_flags;
    std::vector<std::pair<std::uint64_t, std::size_t>> m_byPfn;
    std::vector<std::uint64_t> m_buf;
    Addr m_start = 0;
    Addr m_end = 0;
};

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

// Each VMA as segments to read and segments known to be none: with PAGEMAP_SCAN only the
// populated ranges are read, except in VM_PFNMAP VMAs (the ioctl skips them) and above scanEnd.
std::vector<Segment> segments(const std::vector<SnapshotVma>& vmas, const std::vector<std::pair<Addr, Addr>>& populated,
    bool scanned, Addr scanEnd)
{
    std::vector<Segment> out;
    out.reserve(vmas.size() + populated.size() * 2);
    auto it = populated.begin();
    for (const SnapshotVma& s : vmas) {
        const ObservedVma& v = s.vma;
        if (!scanned || hasFlag(v, "pf") || v.end > scanEnd) {
            out.push_back({ v.start, v.end, true, true });
            continue;
        }
        while (it != populated.end() && it->second <= v.start)
            ++it;
        Addr cursor = v.start;
        for (auto r = it; r != populated.end() && r->first < v.end; ++r) {
            const Addr s0 = std::max(r->first, v.start), e0 = std::min(r->second, v.end);
            if (s0 >= e0)
                continue;
            if (cursor < s0)
                out.push_back({ cursor, s0, false, cursor == v.start });
            out.push_back({ s0, e0, true, s0 == v.start });
            cursor = e0;
        }
        if (cursor < v.end)
            out.push_back({ cursor, v.end, false, cursor == v.start });
    }
    return out;
}

// The chunks of one file read on a second thread, handed over in order. Producing smaps is the
// kernel's work, done in the reading thread's read() calls (system time); parsing is ours. On
// two cores they overlap, so the capture costs about what the slower of the two costs instead
// of their sum. Buffers go back to the reader to be filled again, so memory stays at a few
// chunks and the pages are faulted in once.
class ChunkPipe
{
public:
    static constexpr std::size_t kChunk = std::size_t { 256 } << 10;

    // A buffer of kChunk bytes, `size` of them filled. Not a vector: its resizes would clear
    // the whole buffer on every reuse.
    struct Chunk
    {
        std::unique_ptr<char[]> data;
        std::size_t size = 0;
    };

    // `afterEof` runs on the reading thread once the file is read, while this thread may still
    // be parsing the last chunks.
    ChunkPipe(int fd, std::function<void()> afterEof)
        : m_afterEof(std::move(afterEof))
        , m_reader([this, fd] { readAll(fd); })
    {
    }
    ~ChunkPipe()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_changed.notify_all();
        m_reader.join();
    }

    // The next chunk, or one without data at the end of the file or after an error (error()).
    Chunk next()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_changed.wait(lock, [&] { return !m_full.empty() || m_done; });
        if (m_full.empty())
            return {};
        Chunk c = std::move(m_full.front());
        m_full.pop_front();
        return c;
    }
    void giveBack(Chunk c)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_free.push_back(std::move(c));
        }
        m_changed.notify_all();
    }
    // errno of a failed read, once next() has returned empty; 0 at a clean end.
    int error()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_err;
    }

private:
    void readAll(int fd)
    {
        for (;;) {
            Chunk c;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                // At most four chunks in flight: the reader waits for the parser, not memory.
                m_changed.wait(lock, [&] { return m_stop || !m_free.empty() || m_made < 4; });
                if (m_stop)
                    break;
                if (!m_free.empty()) {
                    c = std::move(m_free.back());
                    m_free.pop_back();
                } else {
                    ++m_made;
                }
            }
            if (!c.data)
                c.data.reset(new char[kChunk]);
            // Each read() of a seq_file returns what fits in the kernel's buffer: fill the chunk
            // with several, so that handing over costs little per byte.
            c.size = 0;
            ssize_t n = 1;
            while (c.size < kChunk && n > 0) {
                n = ::read(fd, c.data.get() + c.size, kChunk - c.size);
                if (n < 0 && errno == EINTR)
                    n = 1;
                else if (n > 0)
                    c.size += std::size_t(n);
            }
            const int err = n < 0 ? errno : 0;
            std::lock_guard<std::mutex> lock(m_mutex);
            if (c.size)
                m_full.push_back(std::move(c));
            m_changed.notify_all();
            if (n <= 0) {
                m_err = err;
                break;
            }
        }
        if (m_afterEof)
            m_afterEof();
        std::lock_guard<std::mutex> lock(m_mutex);
        m_done = true;
        m_changed.notify_all();
    }

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Chunk> m_full;
    std::vector<Chunk> m_free;
    int m_made = 0;
    int m_err = 0;
    bool m_done = false;
    bool m_stop = false;
    std::function<void()> m_afterEof;
    std::thread m_reader; // last: it starts once the members it uses exist
};

// smaps read in large chunks on a second thread (ChunkPipe) and parsed here as each chunk
// arrives, while the next one is being produced; the whole file is never held. On a read
// error *readErr is the errno; *empty says whether the file had no text at all. `afterRead`
// runs on the reading thread once smaps is read.
Result<std::vector<SnapshotVma>> readSmaps(
    const std::string& path, int* readErr, bool* empty, std::function<void()> afterRead)
{
    *readErr = 0;
    *empty = true;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *readErr = errno;
        return Diagnostic { path, 0, 0, errnoText(errno) };
    }
    snapshot::SmapsTextParser parser(path);
    std::string pending; // an unfinished line from the end of the previous chunk
    {
        ChunkPipe pipe(fd, std::move(afterRead));
        for (ChunkPipe::Chunk c = pipe.next(); c.data; c = pipe.next()) {
            *empty = false;
            std::string_view text(c.data.get(), c.size);
            if (!pending.empty()) {
                const std::size_t nl = text.find('\n');
                if (nl == std::string_view::npos) {
                    pending.append(text);
                    pipe.giveBack(std::move(c));
                    continue;
                }
                pending.append(text.substr(0, nl + 1));
                parser.feed(pending);
                pending.clear();
                text.remove_prefix(nl + 1);
            }
            pending.assign(text.substr(parser.feed(text)));
            pipe.giveBack(std::move(c));
        }
        *readErr = pipe.error();
    }
    ::close(fd);
    if (*readErr)
        return Diagnostic { path, 0, 0, errnoText(*readErr) };
    return parser.finish(pending);
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

PrescannedPages prescanPages(int pagemapFd)
{
    PrescannedPages p;
    p.end = kTaskSize47;
    p.ok = scanPopulated(pagemapFd, 0, p.end, &p.populated, &p.withGuard);
    return p;
}

std::vector<SnapshotPageRun> capturePageRuns(
    const std::vector<SnapshotVma>& vmas, int pagemapFd, int kpageflagsFd, bool scan, bool* scanned)
{
    return capturePageRuns(vmas, pagemapFd, kpageflagsFd, scan, scanned, nullptr);
}

std::vector<SnapshotPageRun> capturePageRuns(const std::vector<SnapshotVma>& vmas, int pagemapFd, int kpageflagsFd,
    bool scan, bool* scanned, const PrescannedPages* prescanned)
{
    std::vector<std::pair<Addr, Addr>> populated;
    bool withGuard = true;
    // The ioctl refuses a range beyond the user address space (access_ok()), where
    // [vsyscall] lives: scan up to the last VMA below it, pread the rest.
    Addr scanEnd = 0;
    for (const SnapshotVma& s : vmas)
        if (s.vma.end <= kUserTop)
            scanEnd = s.vma.end;
    if (scan && scanEnd && prescanned && prescanned->ok && scanEnd <= prescanned->end) {
        populated = prescanned->populated;
        *scanned = true;
    } else {
        *scanned = scan && scanEnd && scanPopulated(pagemapFd, vmas.front().vma.start, scanEnd, &populated, &withGuard);
    }
    const std::vector<Segment> segs = segments(vmas, populated, *scanned, scanEnd);
    std::vector<SnapshotPageRun> out;
    out.reserve(segs.size());
    RunBuilder b(out);
    PagemapWindow window(pagemapFd, kpageflagsFd);
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const Segment& g = segs[i];
        if (g.vmaStart)
            b.startVma(g.start);
        if (!g.read) {
            b.none(g.start, g.end);
            continue;
        }
        for (Addr a = g.start; a < g.end; a += pageSize) {
            if (!window.holds(a))
                window.load(a, segs, i);
            b.add({ pageFromEntry(a, window.entry(a)), window.kpageflags(a) });
        }
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
    p.start_brk = readStartBrk(pid);
    const std::string smapsPath = dir + "/smaps";
    const std::string pagemapPath = dir + "/pagemap";
    // pagemap is opened before smaps is read so that a process that exits in between
    // fails here rather than with a partial capture.
    const int pm = ::open(pagemapPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (pm < 0)
        return accessError(pid, pagemapPath, errno);
    int readErr = 0;
    bool empty = true;
    // PAGEMAP_SCAN runs on the thread that read smaps while this one parses the last of it.
    PrescannedPages prescanned;
    std::function<void()> prescan;
    if (options.usePagemapScan)
        prescan = [&prescanned, pm] { prescanned = prescanPages(pm); };
    auto vmas = readSmaps(smapsPath, &readErr, &empty, std::move(prescan));
    if (readErr) {
        ::close(pm);
        return accessError(pid, smapsPath, readErr);
    }
    if (empty && exited(p.status)) {
        ::close(pm);
        return accessError(pid, smapsPath, ESRCH);
    }
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
    p.pages = capturePageRuns(p.vmas, pm, kpf, options.usePagemapScan, &scanned, &prescanned);
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
