#include "core/host/record.h"

#include "core/host/capture.h"
#include "core/host/record_pages.h"
#include "core/host/record_syscalls.h"
#include "core/host/record_writer.h"
#include "core/host/sys_util.h"
#include "core/scenario/uapi.h"
#include "core/snapshot/snapshot_format.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::host {

namespace {

// struct ptrace_syscall_info (Linux 5.3), spelled out to avoid the <linux/ptrace.h> clash.
struct SyscallEntry
{
    std::uint64_t nr;
    std::uint64_t args[6];
};
struct SyscallExit
{
    std::int64_t rval;
    std::uint8_t isError;
};
struct SyscallInfo
{
    std::uint8_t op;
    std::uint8_t pad[3];
    std::uint32_t arch;
    std::uint64_t ip;
    std::uint64_t sp;
    // The entry, exit or seccomp part (seccomp's adds ret_data after the entry's fields).
    union {
        SyscallEntry entry;
        SyscallExit exit;
        SyscallEntry seccomp;
        std::uint64_t raw[8];
    };
};
constexpr int kGetSyscallInfo = 0x420e;
constexpr std::uint8_t kOpEntry = 1, kOpExit = 2, kOpSeccomp = 3;
constexpr int kEventStop = 128;
constexpr std::uint64_t kCloneVm = 0x100, kCloneVfork = 0x4000, kCloneThread = 0x10000;
constexpr std::uint64_t kMapFixed = 0x10, kMapFixedNoreplace = 0x100000, kMapAnonymous = 0x20;
constexpr std::uint64_t kMremapFixed = 2;
constexpr Addr kUserEnd = Addr { 1 } << 47;

bool getSyscallInfo(pid_t tid, SyscallInfo* info)
{
    return ::ptrace(static_cast<__ptrace_request>(kGetSyscallInfo), tid, reinterpret_cast<void*>(sizeof *info), info)
        > 0;
}

struct Range
{
    Addr start;
    Addr end;
};

Range pageRange(std::uint64_t addr, std::uint64_t len)
{
    const Addr s = std::min<Addr>(addr & ~Addr(4095), kUserEnd);
    const Addr e = len > kUserEnd || addr + len > kUserEnd ? kUserEnd : (addr + len + 4095) & ~Addr(4095);
    return { s, std::max(s, e) };
}

std::int64_t clockNs(clockid_t id)
{
    timespec ts {};
    clock_gettime(id, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Thread
{
    pid_t tid = 0;
    pid_t owner = 0; // the process whose address space it uses (its block)
    bool inSyscall = false; // waiting for the exit stop of a call we followed
    bool stopped = false;
    long nr = -1;
    std::uint64_t args[6] {};
    long eventIndex = -1; // the Call event waiting for its result
    std::vector<Range> exitRanges; // re-read silently when the call returns
    Range brkBefore { 0, 0 };
    bool borrowed = false; // a CLONE_VM child (vfork) using its parent's address space
};

struct Process
{
    pid_t pid = 0;
    int pagemapFd = -1;
    PageMirror mirror;
    std::vector<MapsVma> maps; // as last read
    int liveThreads = 1;
    bool exitGroup = false;
    bool ended = false;
    int execCount = 0;
};

class Tracer
{
public:
    Tracer(const snapshot::HostInfo& host, const RecordOptions& options, bool seccompMode)
        : m_host(host)
        , m_options(options)
        , m_seccomp(seccompMode)
    {
    }
    ~Tracer()
    {
        for (auto& [pid, p] : m_procs)
            if (p->pagemapFd >= 0)
                ::close(p->pagemapFd);
    }
    RecordSession& session() { return m_session; }
    void setMain(pid_t pid) { m_session.recording.mainPid = pid; }
    void addThread(pid_t tid, pid_t owner)
    {
        Thread t;
        t.tid = tid;
        t.owner = owner;
        m_threads[tid] = t;
    }
    Process& addProcess(pid_t pid);
    bool startSnapshot(pid_t pid, std::string* error);
    void loop();
    void detachAll();
    void finish();
    bool started() const { return m_started; }
    int launchFailure = 0; // set when the launched child exited before exec

private:
    void resume(Thread& t, int sig);
    void onStop(Thread& t, int status);
    void onEntry(Thread& t, long nr, const std::uint64_t* args);
    void onExit(Thread& t, std::int64_t rval);
    void onNewChild(Thread& parent, pid_t child);
    void onExec(Thread& t, pid_t oldTid);
    void onThreadExit(Thread& t);
    void onGone(pid_t tid, int status);
    void sampleBefore(Thread& t, Process& p, const std::vector<Range>& ranges, std::size_t insertAt);
    void rereadSilently(Thread& t, Process& p, const std::vector<Range>& ranges);
    void observeEnd(const Thread& t, Process& p, const std::vector<snapshot::SnapshotPageRun>& pages);
    void observeChanges(
        const Thread& t, Process& p, const std::vector<ObservedRun>& seen, std::vector<RecordedEvent>& out);
    std::vector<MapsVma> readMaps(pid_t tid);
    std::optional<RecordedFile> readFile(pid_t tid, int fd);
    std::optional<snapshot::SnapshotProcess> capture(pid_t tid, pid_t pid);
    void push(RecordedEvent e) { m_session.recording.events.push_back(std::move(e)); }
    void insert(std::size_t at, std::vector<RecordedEvent> es);
    Process* processOf(const Thread& t)
    {
        auto it = m_procs.find(t.owner);
        return it == m_procs.end() ? nullptr : it->second.get();
    }

    const snapshot::HostInfo& m_host;
    const RecordOptions& m_options;
    bool m_seccomp;
    bool m_started = false;
    RecordSession m_session;
    std::map<pid_t, Thread> m_threads;
    std::map<pid_t, std::unique_ptr<Process>> m_procs;
    std::map<pid_t, int> m_earlyStops; // children that stopped before their parent's event
    std::map<pid_t, snapshot::SnapshotProcess> m_ends;
};

Process& Tracer::addProcess(pid_t pid)
{
    auto& slot = m_procs[pid];
    if (!slot)
        slot = std::make_unique<Process>();
    slot->pid = pid;
    if (slot->pagemapFd >= 0)
        ::close(slot->pagemapFd);
    slot->pagemapFd = ::open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    return *slot;
}

std::optional<snapshot::SnapshotProcess> Tracer::capture(pid_t tid, pid_t pid)
{
    CaptureOptions opts;
    opts.readKpageflags = false;
    std::vector<std::string> notes;
    std::string method;
    bool kpf = false;
    auto p = captureProcess(tid, opts, &notes, &method, &kpf);
    if (!p) {
        m_session.notes.push_back("process " + std::to_string(pid) + " not captured: " + p.error().front().message);
        return std::nullopt;
    }
    p->pid = pid;
    return std::move(*p);
}

bool Tracer::startSnapshot(pid_t pid, std::string* error)
{
    auto p = capture(pid, pid);
    if (!p) {
        *error = m_session.notes.back();
        return false;
    }
    snapshot::Snapshot& s = m_session.start;
    s.host = m_host;
    s.realtimeNs = clockNs(CLOCK_REALTIME);
    s.monotonicNs = clockNs(CLOCK_MONOTONIC);
    s.pagemapMethod = "PAGEMAP_SCAN";
    s.processes = { *p };
    Process& proc = addProcess(pid);
    proc.mirror.reset(p->pages);
    proc.maps = readMaps(pid);
    m_started = true;
    return true;
}

std::vector<MapsVma> Tracer::readMaps(pid_t tid)
{
    auto text = readFileText("/proc/" + std::to_string(tid) + "/maps");
    return text ? parseMapsText(*text) : std::vector<MapsVma> {};
}

std::optional<RecordedFile> Tracer::readFile(pid_t tid, int fd)
{
    const std::string base = "/proc/" + std::to_string(tid);
    const std::string fdPath = base + "/fd/" + std::to_string(fd);
    char buf[4096];
    const ssize_t n = ::readlink(fdPath.c_str(), buf, sizeof buf - 1);
    struct stat st
    {
    };
    if (n < 0 || ::stat(fdPath.c_str(), &st) != 0)
        return std::nullopt;
    RecordedFile f;
    f.path.assign(buf, std::size_t(n));
    f.devMajor = major(st.st_dev);
    f.devMinor = minor(st.st_dev);
    f.inode = st.st_ino;
    f.size = std::uint64_t(st.st_size);
    f.mappable = S_ISREG(st.st_mode);
    if (auto info = readFileText(base + "/fdinfo/" + std::to_string(fd))) {
        const auto at = info->find("flags:");
        if (at != std::string::npos)
            f.accessMode = int(std::strtoul(info->c_str() + at + 6, nullptr, 8) & 3);
    }
    return f;
}

void Tracer::insert(std::size_t at, std::vector<RecordedEvent> es)
{
    auto& events = m_session.recording.events;
    if (es.empty())
        return;
    events.insert(events.begin() + long(at), es.begin(), es.end());
    for (auto& [tid, t] : m_threads)
        if (t.eventIndex >= long(at))
            t.eventIndex += long(es.size());
}

// Observes, before the event at insertAt, every run of the ranges' VMAs and their neighbours
// whose state differs from the mirror (and pages a stack grew into since the last stop).
void Tracer::sampleBefore(Thread& t, Process& p, const std::vector<Range>& ranges, std::size_t insertAt)
{
    if (!m_options.samplePages)
        return;
    const std::vector<MapsVma> maps = readMaps(t.tid);
    std::vector<std::size_t> idx;
    for (const Range& r : ranges) {
        auto more = touchedWithNeighbours(maps, r.start, r.end);
        idx.insert(idx.end(), more.begin(), more.end());
    }
    // A VMA whose start moved down with the same end grew (a stack).
    for (std::size_t i = 0; i < maps.size(); ++i)
        for (const MapsVma& old : p.maps)
            if (old.end == maps[i].end && maps[i].start < old.start)
                idx.push_back(i);
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    std::vector<RecordedEvent> observes;
    for (std::size_t i : idx) {
        observeChanges(t, p, readObservedRuns(maps, maps[i].start, maps[i].end, p.pagemapFd), observes);
    }
    p.maps = maps;
    insert(insertAt, std::move(observes));
}

// The pages that changed since the recorder last looked, from the end snapshot: so the
// recording ends in the state the end snapshot shows.
void Tracer::observeEnd(const Thread& t, Process& p, const std::vector<snapshot::SnapshotPageRun>& pages)
{
    if (!m_options.samplePages)
        return;
    std::vector<ObservedRun> seen;
    for (const snapshot::SnapshotPageRun& r : pages)
        seen.push_back({ r.run.start, r.run.end, observedState(r.run) });
    std::vector<RecordedEvent> observes;
    observeChanges(t, p, seen, observes);
    for (RecordedEvent& e : observes)
        push(std::move(e));
}

// An observe for each run of `seen` that differs from the mirror; the mirror takes `seen`.
void Tracer::observeChanges(
    const Thread& t, Process& p, const std::vector<ObservedRun>& seen, std::vector<RecordedEvent>& out)
{
    for (const ObservedRun& d : p.mirror.differences(seen)) {
        RecordedEvent e;
        e.kind = RecordedKind::Observe;
        e.pid = p.pid;
        e.tid = t.tid;
        e.addr = d.start;
        e.len = d.end - d.start;
        e.state = d.state;
        out.push_back(std::move(e));
    }
    for (const ObservedRun& r : seen)
        p.mirror.set(r.start, r.end, r.state);
}

void Tracer::rereadSilently(Thread& t, Process& p, const std::vector<Range>& ranges)
{
    if (!m_options.samplePages)
        return;
    const std::vector<MapsVma> maps = readMaps(t.tid);
    for (const Range& r : ranges) {
        p.mirror.set(r.start, r.end, "none");
        for (const ObservedRun& s : readObservedRuns(maps, r.start, r.end, p.pagemapFd))
            p.mirror.set(s.start, s.end, s.state);
    }
    p.maps = maps;
}

void Tracer::resume(Thread& t, int sig)
{
    const auto req = (!m_seccomp || t.inSyscall) ? PTRACE_SYSCALL : PTRACE_CONT;
    if (::ptrace(req, t.tid, nullptr, reinterpret_cast<void*>(long(sig))) == 0)
        t.stopped = false;
}

std::uint64_t cloneFlags(pid_t tid, long nr, const std::uint64_t* args)
{
    if (nr == 57)
        return 0;
    if (nr == 58)
        return kCloneVm | kCloneVfork;
    if (nr == 56)
        return args[0];
    // clone3: flags are the first field of struct clone_args.
    std::uint64_t flags = 0;
    iovec local { &flags, sizeof flags };
    iovec remote { reinterpret_cast<void*>(args[0]), sizeof flags };
    if (::process_vm_readv(tid, &local, 1, &remote, 1, 0) != sizeof flags)
        return 0;
    return flags;
}

// Where a new thread's stack pointer starts (clone's newsp; clone3's stack + stack_size), or 0.
std::uint64_t threadStackTop(pid_t tid, long nr, const std::uint64_t* args)
{
    if (nr == 56)
        return args[1];
    if (nr != 435)
        return 0;
    std::uint64_t stack[2] {}; // struct clone_args: stack at byte 40, stack_size at 48
    iovec local { stack, sizeof stack };
    iovec remote { reinterpret_cast<void*>(args[0] + 40), sizeof stack };
    if (::process_vm_readv(tid, &local, 1, &remote, 1, 0) != sizeof stack)
        return 0;
    return stack[0] + stack[1];
}

// A userfaultfd ioctl the language has becomes that call (uffdio_api, uffdio_register,
// uffdio_unregister, uffdio_writeprotect) with its argument struct read from the tracee;
// others (UFFDIO_COPY, ...) stay ioctl, written as not modelled.
void decodeUffdIoctl(pid_t tid, const std::uint64_t* args, RecordedEvent& e, std::vector<Range>& ranges)
{
    std::uint64_t arg[3] {};
    iovec local { arg, sizeof arg };
    iovec remote { reinterpret_cast<void*>(args[2]), sizeof arg };
    if (::process_vm_readv(tid, &local, 1, &remote, 1, 0) < 16)
        return;
    const std::uint64_t fd = args[0];
    switch (args[1] & 0xff) {
    case 0x3f: // UFFDIO_API: {api, features, ioctls}
        e.call = "uffdio_api";
        e.args = { fd, arg[1] };
        return;
    case 0x00: // UFFDIO_REGISTER: {start, len, mode, ioctls}
        e.call = "uffdio_register";
        break;
    case 0x01: // UFFDIO_UNREGISTER: {start, len}
        e.call = "uffdio_unregister";
        arg[2] = 0;
        break;
    case 0x06: // UFFDIO_WRITEPROTECT: {start, len, mode}
        e.call = "uffdio_writeprotect";
        break;
    default:
        return;
    }
    e.args = { fd, arg[0], arg[1], arg[2] };
    ranges.push_back(pageRange(arg[0], arg[1]));
}

void Tracer::onEntry(Thread& t, long nr, const std::uint64_t* args)
{
    t.nr = nr;
    std::copy(args, args + 6, t.args);
    t.eventIndex = -1;
    t.exitRanges.clear();
    const RecordedSyscall* sc = findRecordedSyscall(nr);
    Process* p = processOf(t);
    if (!m_started || !sc || !p || (sc->role == SyscallRole::UffdIoctl && !isUffdIoctl(args[1]))) {
        t.inSyscall = m_seccomp; // seccomp stopped it: follow to the exit stop all the same
        t.nr = sc ? nr : -1;
        return;
    }
    t.inSyscall = true;
    ++m_session.syscallStops;
    const std::size_t here = m_session.recording.events.size();
    if (sc->role == SyscallRole::Process) {
        if (sc->name == "exit_group")
            p->exitGroup = true;
        // A child with its own copy of the address space: every page state matters to it.
        if ((nr == 56 || nr == 57 || nr == 435) && !(cloneFlags(t.tid, nr, args) & kCloneVm))
            sampleBefore(t, *p, { { 0, kUserEnd } }, here);
        return;
    }
    RecordedEvent e;
    e.kind = RecordedKind::Call;
    e.pid = t.owner;
    e.tid = t.tid;
    e.call = std::string(sc->name);
    std::copy(args, args + 6, e.args.begin());
    std::vector<Range> before;
    const std::string& c = e.call;
    if (c == "mmap") {
        if (!(args[3] & kMapAnonymous))
            e.file = readFile(t.tid, int(args[4]));
        if (args[3] & (kMapFixed | kMapFixedNoreplace))
            before.push_back(pageRange(args[0], args[1]));
    } else if (c == "mremap") {
        before.push_back(pageRange(args[0], args[1]));
        if (args[3] & kMremapFixed)
            before.push_back(pageRange(args[4], args[2]));
    } else if (c == "brk") {
        for (const MapsVma& v : p->maps)
            if (v.name == "[heap]")
                t.brkBefore = { v.start, v.end };
        before.push_back(t.brkBefore.end ? t.brkBefore : pageRange(args[0], 1));
    } else if (c == "ioctl") {
        decodeUffdIoctl(t.tid, args, e, before);
    } else if (c != "mlockall" && c != "munlockall" && c != "userfaultfd" && c != "shmat" && c != "shmdt"
        && c != "process_madvise" && c != "map_shadow_stack") {
        before.push_back(pageRange(args[0], args[1]));
    }
    t.exitRanges = before;
    sampleBefore(t, *p, before, here);
    t.eventIndex = long(m_session.recording.events.size());
    push(std::move(e));
}

void Tracer::onExit(Thread& t, std::int64_t rval)
{
    t.inSyscall = false;
    Process* p = processOf(t);
    if (t.nr == 59 || t.nr == 322) {
        if (rval < 0 && m_started) {
            RecordedEvent e;
            e.kind = RecordedKind::Note;
            e.pid = t.owner;
            e.tid = t.tid;
            e.text = "execve failed: " + scenario::errnoName(rval);
            push(std::move(e));
        }
    }
    if (t.eventIndex < 0 || !p) {
        t.nr = -1;
        return;
    }
    RecordedEvent& e = m_session.recording.events[std::size_t(t.eventIndex)];
    e.hasResult = true;
    e.result = rval;
    t.eventIndex = -1;
    if (rval < 0 && rval >= -4095) {
        t.nr = -1;
        return;
    }
    // Ranges placed by the kernel: their neighbours are observed before the call.
    std::vector<Range> placed;
    if (e.call == "mmap" && !(e.args[3] & (kMapFixed | kMapFixedNoreplace)))
        placed.push_back(pageRange(std::uint64_t(rval), e.args[1]));
    else if (e.call == "mremap" && std::uint64_t(rval) != e.args[0])
        placed.push_back(pageRange(std::uint64_t(rval), e.args[2]));
    else if (e.call == "shmat")
        placed.push_back(pageRange(std::uint64_t(rval), 4096));
    std::vector<Range> after = t.exitRanges;
    if (e.call == "brk")
        after.push_back(
            { t.brkBefore.start ? t.brkBefore.start : Addr(rval), std::max<Addr>(Addr(rval), t.brkBefore.end) });
    if (!placed.empty() && m_options.samplePages) {
        // The neighbours only: the new range itself is the call's doing.
        const std::vector<MapsVma> maps = readMaps(t.tid);
        std::vector<Range> neighbours;
        for (const Range& r : placed)
            for (std::size_t i : touchedWithNeighbours(maps, r.start, r.end))
                if (maps[i].end <= r.start || maps[i].start >= r.end)
                    neighbours.push_back({ maps[i].start, maps[i].end });
        std::size_t at = std::size_t(&e - m_session.recording.events.data());
        Process& proc = *p;
        std::vector<RecordedEvent> observes;
        for (const Range& r : neighbours)
            observeChanges(t, proc, readObservedRuns(maps, r.start, r.end, proc.pagemapFd), observes);
        insert(at, std::move(observes));
        after.insert(after.end(), placed.begin(), placed.end());
    }
    rereadSilently(t, *p, after);
    t.nr = -1;
}

void Tracer::onNewChild(Thread& parent, pid_t child)
{
    const std::uint64_t flags = parent.nr >= 0 ? cloneFlags(parent.tid, parent.nr, parent.args) : 0;
    Process* p = processOf(parent);
    Thread t;
    t.tid = child;
    RecordedEvent e;
    e.pid = parent.owner;
    e.tid = parent.tid;
    e.child = child;
    if (flags & kCloneThread) {
        t.owner = parent.owner;
        if (p)
            ++p->liveThreads;
        e.kind = RecordedKind::Note;
        e.text = "thread " + std::to_string(child) + " created";
        // Name the thread's stack, which maps show only as anonymous memory.
        if (const std::uint64_t top = parent.nr >= 0 ? threadStackTop(parent.tid, parent.nr, parent.args) : 0) {
            char hex[32];
            std::snprintf(hex, sizeof hex, "%#llx", static_cast<unsigned long long>(top));
            e.narrate = true;
            e.text = "Thread " + std::to_string(child) + " starts; its stack is the mapping below " + hex
                + " (glibc maps it with MAP_STACK and keeps a PROT_NONE guard page at its low end).";
        }
    } else if (flags & kCloneVm) {
        t.owner = parent.owner;
        t.borrowed = true;
        e.kind = RecordedKind::Note;
        e.text = "process " + std::to_string(child) + " shares this address space until it runs execve ("
            + ((flags & kCloneVfork) ? "vfork" : "CLONE_VM") + ")";
    } else {
        t.owner = child;
        Process& c = addProcess(child);
        if (p) {
            c.mirror = p->mirror;
            c.maps = p->maps;
        }
        e.kind = RecordedKind::Fork;
    }
    if (m_started)
        push(std::move(e));
    m_threads[child] = t;
    auto early = m_earlyStops.find(child);
    if (early != m_earlyStops.end()) {
        m_earlyStops.erase(early);
        resume(m_threads[child], 0);
    }
}

void Tracer::onExec(Thread& t, pid_t oldTid)
{
    if (oldTid != t.tid) {
        // A non-leader thread ran execve: it now has the leader's pid.
        auto it = m_threads.find(oldTid);
        if (it != m_threads.end()) {
            Thread moved = it->second;
            moved.tid = t.tid;
            m_threads.erase(it);
            t = moved;
        }
    }
    const pid_t pid = t.tid;
    if (!m_started) {
        std::string error;
        if (!startSnapshot(pid, &error))
            m_session.notes.push_back(error);
        t.owner = pid;
        return;
    }
    const bool spawned = t.owner != pid;
    const pid_t oldOwner = t.owner;
    Process& proc = addProcess(pid);
    proc.liveThreads = 1;
    proc.exitGroup = false;
    const int n = ++proc.execCount;
    const std::string file = m_options.stem + ".exec-" + std::to_string(pid) + (n > 1 ? "-" + std::to_string(n) : "")
        + snapshot::kFileExtension;
    auto captured = capture(pid, pid);
    if (captured) {
        snapshot::Snapshot s = m_session.start;
        s.realtimeNs = clockNs(CLOCK_REALTIME);
        s.monotonicNs = clockNs(CLOCK_MONOTONIC);
        s.processes = { *captured };
        proc.mirror.reset(captured->pages);
        m_session.execs.emplace_back(file, std::move(s));
    }
    proc.maps = readMaps(pid);
    RecordedEvent e;
    e.kind = spawned ? RecordedKind::Spawn : RecordedKind::Exec;
    e.pid = spawned ? oldOwner : pid;
    e.tid = t.tid;
    e.child = pid;
    e.snapshotFile = file;
    push(std::move(e));
    t.owner = pid;
    t.borrowed = false;
}

void Tracer::onThreadExit(Thread& t)
{
    Process* p = processOf(t);
    // A CLONE_VM child that never ran execve: its exit ends nothing.
    if (!p || t.borrowed)
        return;
    --p->liveThreads;
    if (p->ended || !(p->exitGroup || p->liveThreads <= 0) || !m_started)
        return;
    p->ended = true;
    unsigned long code = 0;
    ::ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &code);
    if (auto c = capture(t.tid, p->pid)) {
        observeEnd(t, *p, c->pages);
        m_ends[p->pid] = std::move(*c);
    }
    RecordedEvent e;
    e.kind = RecordedKind::Note;
    e.pid = p->pid;
    e.tid = t.tid;
    const int status = int(code);
    e.text = "process " + std::to_string(p->pid) + " exits"
        + (WIFSIGNALED(status) ? " on signal " + std::to_string(WTERMSIG(status))
                               : " with status " + std::to_string(WEXITSTATUS(status)));
    push(std::move(e));
}

void Tracer::onGone(pid_t tid, int status)
{
    if (tid == m_session.recording.mainPid)
        m_session.exitStatus = status;
    m_threads.erase(tid);
    if (!m_started && tid == m_session.recording.mainPid)
        launchFailure = status;
}

void Tracer::onStop(Thread& t, int status)
{
    t.stopped = true;
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (event == PTRACE_EVENT_SECCOMP) {
        SyscallInfo info {};
        if (getSyscallInfo(t.tid, &info) && info.op == kOpSeccomp)
            onEntry(t, long(info.seccomp.nr), info.seccomp.args);
        t.inSyscall = true;
        resume(t, 0);
        return;
    }
    if (sig == (SIGTRAP | 0x80)) {
        SyscallInfo info {};
        if (getSyscallInfo(t.tid, &info)) {
            if (info.op == kOpEntry)
                onEntry(t, long(info.entry.nr), info.entry.args);
            else if (info.op == kOpExit && t.nr >= 0)
                onExit(t, info.exit.rval);
            else if (info.op == kOpExit)
                t.inSyscall = false;
        }
        resume(t, 0);
        return;
    }
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        ::ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &child);
        onNewChild(t, pid_t(child));
        resume(t, 0);
        return;
    }
    if (event == PTRACE_EVENT_EXEC) {
        unsigned long old = 0;
        ::ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &old);
        onExec(t, pid_t(old));
        resume(m_threads[t.tid], 0);
        return;
    }
    if (event == PTRACE_EVENT_EXIT) {
        onThreadExit(t);
        resume(t, 0);
        return;
    }
    if (event == kEventStop || (event == 0 && sig == SIGTRAP)) {
        resume(t, 0);
        return;
    }
    // A signal: a group stop (no siginfo) is resumed, any other signal delivered.
    siginfo_t si {};
    if (::ptrace(PTRACE_GETSIGINFO, t.tid, nullptr, &si) != 0) {
        resume(t, 0);
        return;
    }
    resume(t, sig);
}

void Tracer::loop()
{
    while (!m_threads.empty() || !m_earlyStops.empty()) {
        if (m_options.stopRequested && m_options.stopRequested->load() && !m_seccomp) {
            detachAll();
            return;
        }
        int status = 0;
        const pid_t tid = ::waitpid(-1, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            onGone(tid, status);
            continue;
        }
        if (!WIFSTOPPED(status))
            continue;
        auto it = m_threads.find(tid);
        if (it == m_threads.end()) {
            // A new child reported before its parent's fork event: wait for that.
            m_earlyStops[tid] = status;
            continue;
        }
        onStop(it->second, status);
    }
}

// Stops every thread, captures the processes still alive and detaches.
void Tracer::detachAll()
{
    for (auto& [tid, t] : m_threads)
        if (!t.stopped)
            ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    for (;;) {
        bool all = true;
        for (auto& [tid, t] : m_threads)
            all = all && t.stopped;
        if (all)
            break;
        int status = 0;
        const pid_t tid = ::waitpid(-1, &status, __WALL);
        if (tid < 0 && errno == EINTR)
            continue;
        if (tid < 0)
            break;
        if (WIFEXITED(status) || WIFSIGNALED(status))
            onGone(tid, status);
        else if (m_threads.count(tid))
            m_threads[tid].stopped = true;
    }
    for (auto& [pid, p] : m_procs) {
        if (p->ended)
            continue;
        p->ended = true;
        if (auto c = capture(pid, pid)) {
            Thread leader;
            leader.tid = pid;
            observeEnd(leader, *p, c->pages);
            m_ends[pid] = std::move(*c);
        }
    }
    for (auto& [tid, t] : m_threads)
        ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    m_threads.clear();
    m_session.notes.push_back("recording stopped on request: the process was detached and goes on");
}

// The end snapshot: every process at its exit, main first.
void Tracer::finish()
{
    snapshot::Snapshot& end = m_session.end;
    end = m_session.start;
    end.realtimeNs = clockNs(CLOCK_REALTIME);
    end.monotonicNs = clockNs(CLOCK_MONOTONIC);
    end.processes.clear();
    const pid_t mainPid = pid_t(m_session.recording.mainPid);
    if (m_ends.count(mainPid))
        end.processes.push_back(m_ends[mainPid]);
    for (auto& [pid, p] : m_ends)
        if (pid != mainPid)
            end.processes.push_back(p);
    Recording& r = m_session.recording;
    r.kernel = m_host.release + " " + m_host.machine;
    char date[32];
    const std::time_t now = std::time(nullptr);
    tm utc {};
    gmtime_r(&now, &utc);
    std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
    r.date = date;
    r.startSnapshot = m_options.stem + ".start" + snapshot::kFileExtension;
    r.endSnapshot = m_options.stem + ".end" + snapshot::kFileExtension;
    for (const std::string& n : m_session.notes)
        r.headerNotes.push_back("note: " + n);
}

std::string ptraceHint()
{
    const auto scope = readFirstLine("/proc/sys/kernel/yama/ptrace_scope");
    return "ptrace is not permitted here ("
        + (scope ? "kernel.yama.ptrace_scope=" + *scope + "; " : std::string("no Yama; "))
        + "tracing another process needs ptrace_scope 0 or 1 and the same user, or CAP_SYS_PTRACE; "
          "containers often forbid ptrace in their seccomp profile)";
}

[[noreturn]] void failTracee(int reportFd, int stage)
{
    const int msg[2] = { stage, errno };
    [[maybe_unused]] auto n = ::write(reportFd, msg, sizeof msg);
    ::_exit(127);
}

// Child side of recordCommand: never returns. Failures go to the pipe as {stage, errno}.
[[noreturn]] void runTracee(const std::vector<std::string>& argv, const std::string& workingDirectory, int reportFd)
{
    auto fail = [reportFd](int stage) { failTracee(reportFd, stage); };
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
        fail(1);
    ::raise(SIGSTOP);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(2);
    if (const int err = installRecordFilter(); err < 0) {
        errno = -err;
        fail(2);
    }
    if (!workingDirectory.empty() && ::chdir(workingDirectory.c_str()) != 0)
        fail(4);
    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    failTracee(reportFd, 3);
}

constexpr long kTraceOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
    | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;

} // namespace

bool ptraceAvailable(std::string* why)
{
    const pid_t child = ::fork();
    if (child < 0) {
        *why = "fork: " + errnoText(errno);
        return false;
    }
    if (child == 0) {
        if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
            ::_exit(1);
        ::raise(SIGSTOP);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFSTOPPED(status)) {
        ::ptrace(PTRACE_DETACH, child, nullptr, nullptr);
        ::kill(child, SIGCONT);
        ::waitpid(child, &status, 0);
        return true;
    }
    *why = ptraceHint();
    return false;
}

Result<RecordSession> recordCommand(
    const std::vector<std::string>& argv, const snapshot::HostInfo& host, const RecordOptions& options)
{
    if (argv.empty())
        return Diagnostic { "", 0, 0, "record needs a program to run" };
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        return Diagnostic { "", 0, 0, "pipe: " + errnoText(errno) };
    const pid_t child = ::fork();
    if (child < 0)
        return Diagnostic { "", 0, 0, "fork: " + errnoText(errno) };
    if (child == 0)
        runTracee(argv, options.workingDirectory, report[1]);
    ::close(report[1]);
    auto readFailure = [&](int status) -> Diagnostic {
        int msg[2] = { 0, 0 };
        const ssize_t n = ::read(report[0], msg, sizeof msg);
        ::close(report[0]);
        if (n != sizeof msg)
            return { "", 0, 0, argv[0] + " ended before it started (wait status " + std::to_string(status) + ")" };
        if (msg[0] == 1)
            return { "", 0, 0, ptraceHint() + ": " + errnoText(msg[1]) };
        if (msg[0] == 2)
            return { "", 0, 0, "cannot install the seccomp filter: " + errnoText(msg[1]) };
        if (msg[0] == 4)
            return { "", 0, 0, "cannot enter the working directory " + options.workingDirectory + ": " + errnoText(msg[1]) };
        return { "", 0, 0, "cannot run " + argv[0] + ": " + errnoText(msg[1]) };
    };
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
        return readFailure(status);
    if (::ptrace(PTRACE_SETOPTIONS, child, nullptr,
            reinterpret_cast<void*>(kTraceOptions | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL))
        != 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        ::close(report[0]);
        return Diagnostic { "", 0, 0, "PTRACE_SETOPTIONS: " + errnoText(errno) };
    }
    Tracer tracer(host, options, true);
    tracer.setMain(child);
    tracer.addThread(child, child);
    std::string program;
    for (const std::string& a : argv)
        program += (program.empty() ? "" : " ") + a;
    tracer.session().recording.program = program;
    ::ptrace(PTRACE_CONT, child, nullptr, nullptr);
    tracer.loop();
    if (!tracer.started())
        return readFailure(tracer.launchFailure);
    ::close(report[0]);
    tracer.finish();
    return std::move(tracer.session());
}

Result<RecordSession> recordPid(pid_t pid, const snapshot::HostInfo& host, const RecordOptions& options)
{
    if (::kill(pid, 0) != 0 && errno == ESRCH)
        return Diagnostic { "", 0, 0, "process " + std::to_string(pid) + " no longer exists" };
    Tracer tracer(host, options, false);
    tracer.setMain(pid);
    tracer.session().recording.program = "pid " + std::to_string(pid);
    if (auto comm = readFirstLine("/proc/" + std::to_string(pid) + "/comm"))
        tracer.session().recording.program += " (" + *comm + ")";
    std::vector<pid_t> attached;
    // Threads may start while we attach: list the tasks until no new one shows.
    for (bool more = true; more;) {
        more = false;
        DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
        if (!d)
            return Diagnostic { "", 0, 0, "process " + std::to_string(pid) + " no longer exists" };
        while (dirent* de = ::readdir(d)) {
            const pid_t tid = pid_t(std::atoi(de->d_name));
            if (tid <= 0 || std::find(attached.begin(), attached.end(), tid) != attached.end())
                continue;
            if (::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(kTraceOptions)) != 0) {
                const int err = errno;
                ::closedir(d);
                for (pid_t a : attached)
                    ::ptrace(PTRACE_DETACH, a, nullptr, nullptr);
                if (err == ESRCH)
                    return Diagnostic { "", 0, 0, "process " + std::to_string(pid) + " no longer exists" };
                return Diagnostic { "", 0, 0, ptraceHint() + ": PTRACE_SEIZE: " + errnoText(err) };
            }
            ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
            int status = 0;
            ::waitpid(tid, &status, __WALL);
            attached.push_back(tid);
            tracer.addThread(tid, pid);
            more = true;
        }
        ::closedir(d);
    }
    std::string error;
    if (!tracer.startSnapshot(pid, &error)) {
        for (pid_t a : attached)
            ::ptrace(PTRACE_DETACH, a, nullptr, nullptr);
        return Diagnostic { "", 0, 0, error };
    }
    tracer.session().start.processes.front().pid = pid;
    for (pid_t a : attached)
        ::ptrace(PTRACE_SYSCALL, a, nullptr, nullptr);
    tracer.loop();
    tracer.finish();
    return std::move(tracer.session());
}

Result<std::vector<std::string>> writeRecordingFiles(const RecordSession& session, const std::string& path)
{
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    std::vector<std::pair<std::string, std::string>> files;
    files.emplace_back(path, writeRecording(session.recording));
    if (!session.recording.startSnapshot.empty())
        files.emplace_back(dir + session.recording.startSnapshot, snapshot::writeSnapshots({ session.start }));
    if (!session.recording.endSnapshot.empty())
        files.emplace_back(dir + session.recording.endSnapshot, snapshot::writeSnapshots({ session.end }));
    for (const auto& [name, snap] : session.execs)
        files.emplace_back(dir + name, snapshot::writeSnapshots({ snap }));
    std::vector<std::string> written;
    for (const auto& [file, bytes] : files) {
        FILE* f = std::fopen(file.c_str(), "wb");
        if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
            const int err = errno;
            if (f)
                std::fclose(f);
            return Diagnostic { file, 0, 0, "cannot write " + file + ": " + errnoText(err) };
        }
        std::fclose(f);
        written.push_back(file);
    }
    return written;
}

} // namespace vmalab::host
