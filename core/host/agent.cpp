#include "core/host/agent.h"

#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vmalab::host::agent {

namespace {

// Process-wide state of an agent process only (never touched in the controller): a signal
// handler can reach nothing else. The alternate stack lives in .bss so that installing it
// maps nothing.
alignas(64) char g_altStack[64 * 1024];
sigjmp_buf* volatile g_touchJump = nullptr;

void onFault(int sig)
{
    if (g_touchJump)
        siglongjmp(*g_touchJump, sig);
    // A fault outside touch (the scenario unmapped the agent's own code or stack): restore
    // the default action; returning re-runs the access and ends the agent with this signal,
    // which the controller reports.
    struct sigaction sa = {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(sig, &sa, nullptr);
}

void installFaultHandlers()
{
    std::memset(g_altStack, 0, sizeof g_altStack); // fault its pages in now
    stack_t ss = {};
    ss.ss_sp = g_altStack;
    ss.ss_size = sizeof g_altStack;
    ::sigaltstack(&ss, nullptr);
    struct sigaction sa = {};
    sa.sa_handler = onFault;
    sa.sa_flags = SA_ONSTACK;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, nullptr);
    ::sigaction(SIGBUS, &sa, nullptr);
}

std::int64_t rawResult(long r)
{
    return r == -1 ? -std::int64_t(errno) : std::int64_t(r);
}

// Accesses every page of [addr rounded down, addr + len rounded up) in order.
std::int64_t touch(std::uint64_t addr, std::uint64_t len, std::int64_t access)
{
    constexpr std::uint64_t page = 4096;
    const std::uint64_t end = (addr + len + page - 1) & ~(page - 1);
    volatile std::uint64_t a = addr & ~(page - 1);
    const bool write = (access & PROT_WRITE) != 0;
    sigjmp_buf env;
    const int sig = sigsetjmp(env, 1);
    if (sig != 0) {
        g_touchJump = nullptr;
        return sig;
    }
    g_touchJump = &env;
    while (a < end) {
        volatile char* p = reinterpret_cast<volatile char*>(static_cast<std::uintptr_t>(a));
        if (write)
            *p = 0x5a;
        else
            (void)*p;
        const std::uint64_t next = a + page;
        a = next;
    }
    g_touchJump = nullptr;
    return 0;
}

std::int64_t uffdIoctl(const Request& r)
{
    const int uffd = int(r.args[0]);
    switch (r.op) {
    case Op::UffdioApi: {
        struct uffdio_api api = {};
        api.api = UFFD_API;
        api.features = std::uint64_t(r.args[1]);
        return rawResult(::ioctl(uffd, UFFDIO_API, &api));
    }
    case Op::UffdioRegister: {
        struct uffdio_register reg = {};
        reg.range.start = std::uint64_t(r.args[1]);
        reg.range.len = std::uint64_t(r.args[2]);
        reg.mode = std::uint64_t(r.args[3]);
        return rawResult(::ioctl(uffd, UFFDIO_REGISTER, &reg));
    }
    case Op::UffdioUnregister: {
        struct uffdio_range range = {};
        range.start = std::uint64_t(r.args[1]);
        range.len = std::uint64_t(r.args[2]);
        return rawResult(::ioctl(uffd, UFFDIO_UNREGISTER, &range));
    }
    default: {
        struct uffdio_writeprotect wp = {};
        wp.range.start = std::uint64_t(r.args[1]);
        wp.range.len = std::uint64_t(r.args[2]);
        wp.mode = r.args[3] ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
        return rawResult(::ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
    }
    }
}

// Every call but Fork and SendFd. Raw syscalls, so that results are what the kernel returns.
std::int64_t perform(const Request& r)
{
    const auto* a = r.args;
    switch (r.op) {
    case Op::Ping:
        return ::getpid();
    case Op::Mmap:
        return rawResult(::syscall(SYS_mmap, a[0], a[1], a[2], a[3], a[4], a[5]));
    case Op::Munmap:
        return rawResult(::syscall(SYS_munmap, a[0], a[1]));
    case Op::Mprotect:
        return rawResult(::syscall(SYS_mprotect, a[0], a[1], a[2]));
    case Op::Mremap:
        return rawResult(::syscall(SYS_mremap, a[0], a[1], a[2], a[3], a[4]));
    case Op::Madvise:
        return rawResult(::syscall(SYS_madvise, a[0], a[1], a[2]));
    case Op::Mlock:
        return rawResult(::syscall(SYS_mlock, a[0], a[1]));
    case Op::Mlock2:
        return rawResult(::syscall(SYS_mlock2, a[0], a[1], a[2]));
    case Op::Munlock:
        return rawResult(::syscall(SYS_munlock, a[0], a[1]));
    case Op::MemfdCreate:
        return rawResult(::syscall(SYS_memfd_create, r.str, a[1]));
    case Op::Ftruncate:
        return rawResult(::syscall(SYS_ftruncate, a[0], a[1]));
    case Op::Close:
        return rawResult(::syscall(SYS_close, a[0]));
    case Op::Open:
        return rawResult(::syscall(SYS_openat, AT_FDCWD, r.str, O_RDWR));
    case Op::Prctl:
        return rawResult(
            ::syscall(SYS_prctl, a[0], a[1], a[2], a[3], r.strArg ? reinterpret_cast<std::intptr_t>(r.str) : a[4]));
    case Op::Brk:
        return rawResult(::syscall(SYS_brk, a[0]));
    case Op::Userfaultfd:
        return rawResult(::syscall(SYS_userfaultfd, a[0]));
    case Op::UffdioApi:
    case Op::UffdioRegister:
    case Op::UffdioUnregister:
    case Op::UffdioWriteprotect:
        return uffdIoctl(r);
    case Op::Touch:
        return touch(std::uint64_t(a[0]), std::uint64_t(a[1]), a[2]);
    case Op::Fork:
    case Op::SendFd:
        break;
    }
    return -EINVAL;
}

void dieWithParent(pid_t parent)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(0); // the controller is already gone
}

} // namespace

ssize_t sendMessage(int sock, const void* msg, std::size_t size, int fd)
{
    struct iovec iov = { const_cast<void*>(msg), size };
    struct msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        mh.msg_control = control;
        mh.msg_controllen = sizeof control;
        struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    do
        n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t receiveMessage(int sock, void* msg, std::size_t size, int* fd)
{
    struct iovec iov = { msg, size };
    struct msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t n;
    do
        n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *fd = -1;
    if (n > 0) {
        for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                std::memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
    return n;
}

namespace {

// The channel lives far above the descriptors a scenario gets (lowest free from 3, as the
// model numbers them), so a scenario's close() or mmap() of a stale number never meets it.
constexpr int channelFd = 900;

int moveChannelHigh(int fd)
{
    if (fd == channelFd)
        return fd;
    const int high = ::fcntl(fd, F_DUPFD, channelFd);
    if (high < 0)
        return fd;
    ::close(fd);
    return high;
}

} // namespace

void agentMain(int channel, pid_t controller)
{
    channel = moveChannelHigh(channel);
    // Keep only stdio and the channel: descriptors of the controller (other agents'
    // channels, its uffd copies) must not stay alive in the scenario's processes.
    if (channel > 3)
        ::syscall(SYS_close_range, 3u, unsigned(channel - 1), 0u);
    ::syscall(SYS_close_range, unsigned(channel + 1), ~0u, 0u);
    dieWithParent(controller);
    installFaultHandlers();

    Request req;
    for (;;) {
        int passed = -1;
        const ssize_t n = receiveMessage(channel, &req, sizeof req, &passed);
        if (n <= 0)
            ::_exit(0); // the controller closed the channel
        Reply rep;
        int sendFd = -1;
        if (size_t(n) != sizeof req) {
            rep.value = -EINVAL;
        } else if (req.op == Op::Fork) {
            // CLONE_PARENT makes the new agent the controller's child as well, so the
            // controller can reap it and learn how it died. No new stack: it runs on a copy
            // of this one, as after fork().
            const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) {
                ::close(channel);
                channel = moveChannelHigh(passed);
                dieWithParent(controller);
                continue;
            }
            rep.value = rawResult(pid);
        } else if (req.op == Op::SendFd) {
            rep.value = ::fcntl(int(req.args[0]), F_GETFD) < 0 ? -EBADF : 0;
            sendFd = rep.value == 0 ? int(req.args[0]) : -1;
        } else {
            rep.value = perform(req);
        }
        if (passed >= 0)
            ::close(passed);
        if (sendMessage(channel, &rep, sizeof rep, sendFd) < 0)
            ::_exit(0);
    }
}

} // namespace vmalab::host::agent
