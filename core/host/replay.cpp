#include "core/host/replay.h"

#include "core/assert.h"
#include "core/host/agent.h"
#include "core/host/host_facts.h"
#include "core/host/procfs.h"
#include "core/host/sys_util.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::host {

using scenario::CallResult;
using scenario::ProcIndex;
using scenario::Value;

namespace {

using Op = agent::Op;

// Calls that may fault pages in and so may wait for a userfaultfd monitor: they get the
// contract's 2 s. Anything else that takes this long is broken.
constexpr std::chrono::milliseconds kSlowTimeout { 10000 };

constexpr std::uint64_t kUffdEventFeatures =
    UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP;

struct CallSpec
{
    const char* name;
    Op op;
    int minArgs;
    int maxArgs;
    int stringArg; // index of the argument that must be a string, -1 for none
    bool mayFault; // may wait for a userfaultfd monitor
};

// open_file and fork are handled apart.
constexpr CallSpec kCalls[] = {
    { "mmap", Op::Mmap, 6, 6, -1, true },
    { "munmap", Op::Munmap, 2, 2, -1, false },
    { "mprotect", Op::Mprotect, 3, 3, -1, false },
    { "mremap", Op::Mremap, 4, 5, -1, true },
    { "madvise", Op::Madvise, 3, 3, -1, true },
    { "mlock", Op::Mlock, 2, 2, -1, true },
    { "mlock2", Op::Mlock2, 3, 3, -1, true },
    { "munlock", Op::Munlock, 2, 2, -1, false },
    { "memfd_create", Op::MemfdCreate, 2, 2, 0, false },
    { "ftruncate", Op::Ftruncate, 2, 2, -1, false },
    { "close", Op::Close, 1, 1, -1, false },
    { "prctl", Op::Prctl, 5, 5, -1, false },
    { "brk", Op::Brk, 1, 1, -1, false },
    { "userfaultfd", Op::Userfaultfd, 1, 1, -1, false },
    { "uffdio_api", Op::UffdioApi, 2, 2, -1, false },
    { "uffdio_register", Op::UffdioRegister, 4, 4, -1, false },
    { "uffdio_unregister", Op::UffdioUnregister, 3, 3, -1, false },
    { "uffdio_writeprotect", Op::UffdioWriteprotect, 4, 4, -1, false },
    { "touch", Op::Touch, 3, 3, -1, true },
};

const CallSpec* findCall(const std::string& name)
{
    for (const CallSpec& c : kCalls)
        if (name == c.name)
            return &c;
    return nullptr;
}

CallResult runtimeError(std::string message)
{
    CallResult r;
    r.runtimeError = std::move(message);
    return r;
}

std::string tmpDir()
{
    const char* env = std::getenv("TMPDIR");
    return env && *env ? env : "/tmp";
}

// A userfaultfd polls as an error unless O_NONBLOCK is set (userfaultfd_poll()). The flag
// belongs to the open file, so the scenario's descriptor gets it too; it changes only read(),
// which scenarios cannot call.
void setNonblocking(int fd)
{
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0)
        ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

std::string statusText(int status)
{
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
    }
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "ended";
}

} // namespace

struct ReplayBackend::Exchange
{
    agent::Request req;
    agent::Reply rep;
    int sendFd = -1; // travels with the request
    int recvFd = -1; // came with the reply
    std::chrono::milliseconds timeout { 0 };
    std::string name; // the call, for messages
};

ReplayBackend::UffdWatch::~UffdWatch()
{
    if (fd >= 0)
        ::close(fd);
}

ReplayBackend::ReplayBackend() = default;

ReplayBackend::~ReplayBackend()
{
    finish();
}

std::string ReplayBackend::describe() const
{
    return "kernel " + kernelRelease();
}

namespace {

// MADV_GUARD_INSTALL or PR_SET_VMA_ANON_NAME on a scratch mapping of the controller,
// unmapped again: the result or -errno.
int scratchProbe(bool guard)
{
    void* p = ::mmap(nullptr, 2 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    const int r = guard ? ::madvise(p, pageSize, kMadvGuardInstall)
                        : ::prctl(kPrSetVma, kPrSetVmaAnonName, p, pageSize, "vmalab-probe");
    const int out = r == 0 ? 0 : -errno;
    ::munmap(p, 2 * pageSize);
    return out;
}

std::optional<std::string> missingUserfaultfd()
{
    int fd = rawUserfaultfd(O_CLOEXEC | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        fd = rawUserfaultfd(O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        return std::nullopt;
    }
    if (fd == -EPERM)
        return std::string("userfaultfd is not permitted (vm.unprivileged_userfaultfd=0)");
    if (fd == -ENOSYS)
        return std::string("userfaultfd is not available (CONFIG_USERFAULTFD is not set)");
    return "userfaultfd failed: " + errnoText(-fd);
}

// New VMAs carry VM_SOFTDIRTY (`sd`) exactly when CONFIG_MEM_SOFT_DIRTY is set.
std::optional<std::string> missingSoftDirty()
{
    void* p = ::mmap(nullptr, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return "cannot map a scratch page: " + errnoText(errno);
    const std::string flags = " " + selfVmFlagsAt(reinterpret_cast<Addr>(p)) + " ";
    ::munmap(p, pageSize);
    if (flags.find(" sd ") != std::string::npos)
        return std::nullopt;
    return std::string("soft-dirty tracking is not available (CONFIG_MEM_SOFT_DIRTY is not set)");
}

} // namespace

std::optional<std::string> ReplayBackend::missingFeature(const std::string& feature) const
{
    if (feature == "userfaultfd")
        return missingUserfaultfd();
    if (feature == "guard-regions") {
        const int r = scratchProbe(true);
        if (r == 0)
            return std::nullopt;
        return "MADV_GUARD_INSTALL returned -" + std::to_string(-r) + " (" + errnoText(-r) + "): kernel "
            + kernelRelease() + " < 6.13";
    }
    if (feature == "thp") {
        auto text = readFirstLine("/sys/kernel/mm/transparent_hugepage/enabled");
        auto thp = text ? parseThpEnabled(*text) : std::nullopt;
        if (!thp)
            return std::string("transparent huge pages are not available (no /sys/kernel/mm/transparent_hugepage)");
        if (*thp == MachineConfig::Thp::Never)
            return std::string("transparent huge pages are disabled (transparent_hugepage/enabled is never)");
        return std::nullopt;
    }
    if (feature == "swap") {
        auto swaps = readFileText("/proc/swaps");
        if (swaps && swapsListDevice(*swaps))
            return std::nullopt;
        return std::string("no swap space (/proc/swaps lists no device)");
    }
    if (feature == "anon-vma-name") {
        const int r = scratchProbe(false);
        if (r == 0)
            return std::nullopt;
        return "PR_SET_VMA_ANON_NAME returned -" + std::to_string(-r) + " (" + errnoText(-r)
            + "): CONFIG_ANON_VMA_NAME is not set";
    }
    if (feature == "soft-dirty")
        return missingSoftDirty();
    return "unknown feature \"" + feature + "\"";
}

pid_t ReplayBackend::pidOf(ProcIndex proc) const
{
    if (proc < 0 || size_t(proc) >= m_agents.size())
        return -1;
    return m_agents[size_t(proc)].pid;
}

std::optional<std::string> ReplayBackend::start()
{
    if (m_started)
        return std::string("replay: start() called twice");
    m_started = true;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return "replay: socketpair: " + errnoText(errno);
    const pid_t controller = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(sv[0]);
        ::close(sv[1]);
        return "replay: fork: " + errnoText(err);
    }
    if (pid == 0) {
        ::close(sv[0]);
        agent::agentMain(sv[1], controller);
    }
    ::close(sv[1]);
    m_agents.push_back({ pid, sv[0], true, {} });
    Exchange ping;
    ping.req.op = Op::Ping;
    ping.timeout = kSlowTimeout;
    ping.name = "start";
    CallResult r = roundTrip(0, ping);
    if (r.runtimeError)
        return "replay: the agent did not start: " + *r.runtimeError;
    return std::nullopt;
}

// Waits for `channel` to become readable, reading userfaultfd events meanwhile: the calls
// that raise them (fork, mremap, munmap, MADV_DONTNEED...) block until a monitor reads them.
// False on timeout.
bool ReplayBackend::pumpUffdEvents(int timeoutMs, int channel)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    std::vector<int> broken; // uffds that report an error: left out, so that poll() cannot spin
    auto add = [&](std::vector<pollfd>& fds, int fd) {
        auto same = [&](const pollfd& p) { return p.fd == fd; };
        if (fd >= 0 && std::none_of(fds.begin(), fds.end(), same)
            && std::find(broken.begin(), broken.end(), fd) == broken.end())
            fds.push_back({ fd, POLLIN, 0 });
    };
    for (;;) {
        std::vector<pollfd> fds { { channel, POLLIN, 0 } };
        for (const auto& [key, watch] : m_uffds)
            add(fds, watch->fd);
        for (int fd : m_forkedUffds)
            add(fds, fd);
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        const int n = ::poll(fds.data(), fds.size(), int(left.count()));
        if (n < 0 && errno != EINTR)
            return true; // let the receive report what is wrong
        if (n <= 0)
            continue;
        if (fds[0].revents)
            return true;
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN)) {
                if (fds[i].revents)
                    broken.push_back(fds[i].fd);
                continue;
            }
            uffd_msg msgs[16];
            const ssize_t got = ::read(fds[i].fd, msgs, sizeof msgs);
            for (ssize_t k = 0; k < got / ssize_t(sizeof(uffd_msg)); ++k) {
                // The child's new uffd is now a descriptor of ours; keeping it open keeps the
                // child's registrations (closing it would unregister them).
                if (msgs[k].event == UFFD_EVENT_FORK) {
                    m_forkedUffds.push_back(int(msgs[k].arg.fork.ufd));
                    setNonblocking(int(msgs[k].arg.fork.ufd));
                }
                // Page-fault messages are left unanswered: a fault waiting for a monitor is a
                // run-time error, reported when the call times out.
            }
        }
    }
}

std::string ReplayBackend::agentGone(ProcIndex proc)
{
    Agent& a = m_agents[size_t(proc)];
    int status = 0;
    std::string how = "ended unexpectedly";
    ::kill(a.pid, SIGKILL); // in case only its channel broke
    if (::waitpid(a.pid, &status, 0) == a.pid)
        how = statusText(status);
    ::close(a.channel);
    a.channel = -1;
    a.alive = false;
    a.ended =
        "the replay agent of scenario process #" + std::to_string(proc) + " (pid " + std::to_string(a.pid) + ") " + how;
    return a.ended;
}

void ReplayBackend::endAgent(Agent& a)
{
    if (!a.alive)
        return;
    ::kill(a.pid, SIGKILL);
    int status = 0;
    ::waitpid(a.pid, &status, 0);
    ::close(a.channel);
    a.channel = -1;
    a.alive = false;
}

// Names the page a blocked touch waits on: the first one it has not yet made accessible
// (pagemap: not present, or write-protected by uffd-wp for a write).
std::string ReplayBackend::blockedMessage(ProcIndex proc, const Exchange& ex)
{
    const std::string tail = " waits for a userfaultfd monitor (registered without UFFD_FEATURE_SIGBUS)";
    const Addr addr = Addr(ex.req.args[0]);
    if (ex.req.op != Op::Touch)
        return ex.name + "(" + hexAddr(addr) + ", ...)" + tail;
    const Addr start = pageAlignDown(addr);
    const Addr end = pageAlignUp(addr + Addr(ex.req.args[1]));
    const bool write = (ex.req.args[2] & PROT_WRITE) != 0;
    Addr blocked = start;
    const std::string path = "/proc/" + std::to_string(m_agents[size_t(proc)].pid) + "/pagemap";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    for (Addr a = start; fd >= 0 && a < end && a - start < (Addr { 1 } << 32); a += pageSize) {
        std::uint64_t e = 0;
        if (::pread(fd, &e, sizeof e, off_t(a / pageSize * sizeof e)) != sizeof e)
            break;
        if (!(e & kPmPresent) || (write && (e & kPmUffdWp))) {
            blocked = a;
            break;
        }
    }
    if (fd >= 0)
        ::close(fd);
    return "touch of " + hexAddr(blocked) + tail;
}

CallResult ReplayBackend::roundTrip(ProcIndex proc, Exchange& ex)
{
    VMALAB_ASSERT(proc >= 0 && size_t(proc) < m_agents.size(), "calls name a process that exists");
    Agent& a = m_agents[size_t(proc)];
    if (!a.alive)
        return runtimeError(a.ended);
    if (agent::sendMessage(a.channel, &ex.req, sizeof ex.req, ex.sendFd) != ssize_t(sizeof ex.req))
        return runtimeError(agentGone(proc));
    if (!pumpUffdEvents(int(ex.timeout.count()), a.channel)) {
        std::string message = ex.timeout == kSlowTimeout
            ? ex.name + " did not return within " + std::to_string(ex.timeout.count() / 1000) + " s"
            : blockedMessage(proc, ex);
        endAgent(a);
        a.ended = "scenario process #" + std::to_string(proc) + " was ended after: " + message;
        return runtimeError(message);
    }
    const ssize_t n = agent::receiveMessage(a.channel, &ex.rep, sizeof ex.rep, &ex.recvFd);
    if (n != ssize_t(sizeof ex.rep)) {
        if (ex.recvFd >= 0)
            ::close(ex.recvFd);
        return runtimeError(agentGone(proc));
    }
    CallResult r;
    r.value = ex.rep.value;
    return r;
}

CallResult ReplayBackend::openFile(ProcIndex proc, const std::vector<Value>& args)
{
    if (args.size() != 2 || !args[0].isString || args[1].isString)
        return runtimeError("open_file takes a name string and a length");
    const std::string& name = args[0].str;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        return runtimeError("open_file: \"" + name + "\" is not a plain file name");
    std::string dirTemplate = tmpDir() + "/vmalab-XXXXXX";
    if (!::mkdtemp(dirTemplate.data()))
        return runtimeError("open_file: cannot create a directory under " + tmpDir() + ": " + errnoText(errno));
    m_tempDirs.push_back(dirTemplate);
    const std::string path = dirTemplate + "/" + name;
    if (path.size() >= agent::kStrMax)
        return runtimeError("open_file: the path " + path + " is too long for replay");
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return runtimeError("open_file: cannot create " + path + ": " + errnoText(errno));
    m_tempFiles.push_back(path);
    const int t = ::ftruncate(fd, off_t(args[1].num));
    const int err = errno;
    ::close(fd);
    if (t != 0) {
        CallResult r;
        r.value = -err;
        return r;
    }
    Exchange ex;
    ex.req.op = Op::Open;
    std::memcpy(ex.req.str, path.c_str(), path.size() + 1);
    ex.timeout = kSlowTimeout;
    ex.name = "open_file";
    return roundTrip(proc, ex);
}

// Keeps the controller's view of which scenario descriptors are userfaultfds, so that it
// holds a copy of each uffd with events enabled exactly as long as the scenario does.
void ReplayBackend::trackHandles(
    ProcIndex proc, const std::string& name, const std::vector<Value>& args, std::int64_t value)
{
    if (value < 0)
        return;
    if (name == "userfaultfd")
        m_uffds[{ proc, value }] = std::make_shared<UffdWatch>();
    else if (name == "memfd_create" || name == "open_file")
        m_uffds.erase({ proc, value });
    else if (name == "close")
        m_uffds.erase({ proc, args[0].num });
    if (name != "uffdio_api" || (std::uint64_t(args[1].num) & kUffdEventFeatures) == 0)
        return;
    auto it = m_uffds.find({ proc, args[0].num });
    if (it == m_uffds.end() || it->second->fd >= 0)
        return;
    Exchange ex;
    ex.req.op = Op::SendFd;
    ex.req.args[0] = args[0].num;
    ex.timeout = kSlowTimeout;
    ex.name = "uffdio_api";
    CallResult r = roundTrip(proc, ex);
    if (!r.runtimeError && r.value == 0) {
        it->second->fd = ex.recvFd;
        setNonblocking(ex.recvFd);
    }
}

CallResult ReplayBackend::call(
    ProcIndex proc, const std::string& name, const std::vector<Value>& args, scenario::SourceLoc)
{
    if (!m_started || m_finished)
        return runtimeError("replay: call before start() or after finish()");
    if (name == "open_file") {
        CallResult r = openFile(proc, args);
        if (!r.runtimeError)
            trackHandles(proc, name, args, r.value);
        return r;
    }
    const CallSpec* spec = findCall(name);
    if (!spec)
        return runtimeError("replay does not know the call " + name + "()");
    if (int(args.size()) < spec->minArgs || int(args.size()) > spec->maxArgs)
        return runtimeError(name + "() takes " + std::to_string(spec->minArgs) + " arguments");
    Exchange ex;
    ex.req.op = spec->op;
    ex.name = name;
    ex.timeout = spec->mayFault ? m_blockTimeout : kSlowTimeout;
    for (size_t i = 0; i < args.size(); ++i) {
        const bool wantString = int(i) == spec->stringArg;
        const bool mayBeString = wantString || (spec->op == Op::Prctl && i == 4); // a name or NULL
        if (wantString && !args[i].isString)
            return runtimeError(name + "(): argument " + std::to_string(i + 1) + " must be a string");
        if (!mayBeString && args[i].isString)
            return runtimeError(name + "(): argument " + std::to_string(i + 1) + " must be a number");
        if (!args[i].isString) {
            ex.req.args[i] = args[i].num;
            continue;
        }
        // Longer than any name the kernel accepts (memfd 249, anon VMA name 80 bytes).
        if (args[i].str.size() >= agent::kStrMax)
            return CallResult { -EINVAL, std::nullopt };
        std::memcpy(ex.req.str, args[i].str.c_str(), args[i].str.size() + 1);
        ex.req.strArg = 1;
    }
    CallResult r = roundTrip(proc, ex);
    if (!r.runtimeError)
        trackHandles(proc, name, args, r.value);
    return r;
}

CallResult ReplayBackend::fork(ProcIndex parent, ProcIndex child, scenario::SourceLoc)
{
    VMALAB_ASSERT(size_t(child) == m_agents.size(), "fork() gives the child the next free index");
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return runtimeError("replay: socketpair: " + errnoText(errno));
    Exchange ex;
    ex.req.op = Op::Fork;
    ex.sendFd = sv[1];
    ex.timeout = kSlowTimeout;
    ex.name = "fork";
    CallResult r = roundTrip(parent, ex);
    ::close(sv[1]);
    if (r.runtimeError || r.value < 0) {
        ::close(sv[0]);
        return r;
    }
    m_agents.push_back({ pid_t(r.value), sv[0], true, {} });
    // The child inherits every descriptor, userfaultfds included.
    std::vector<std::pair<std::int64_t, std::shared_ptr<UffdWatch>>> inherited;
    for (const auto& [key, watch] : m_uffds)
        if (key.first == parent)
            inherited.emplace_back(key.second, watch);
    for (auto& [fd, watch] : inherited)
        m_uffds[{ child, fd }] = watch;
    return r;
}

std::vector<ObservedProcess> ReplayBackend::observe()
{
    std::vector<ObservedProcess> out;
    for (const Agent& a : m_agents) {
        ObservedProcess p;
        p.pid = a.pid;
        if (a.alive) {
            if (auto read = readProcess(a.pid))
                p = std::move(*read);
        }
        out.push_back(std::move(p));
    }
    return out;
}

void ReplayBackend::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    for (Agent& a : m_agents)
        endAgent(a);
    m_uffds.clear();
    for (int fd : m_forkedUffds)
        ::close(fd);
    m_forkedUffds.clear();
    for (const auto& f : m_tempFiles)
        ::unlink(f.c_str());
    for (const auto& d : m_tempDirs)
        ::rmdir(d.c_str());
}

} // namespace vmalab::host
