#include "core/host/probe.h"

#include "core/assert.h"
#include "core/host/procfs.h"
#include "core/host/sys_util.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vmalab::host {

namespace {

constexpr std::size_t kPage = 4096;

struct Findings
{
    std::vector<std::string> lines; // what was seen, for the report
    std::string behaviour; // the built-in profile name
};

// (a) Does MADV_GUARD_INSTALL set VM_MAYBE_GUARD (`gu`)?
bool probeMaybeGuard(Findings& f)
{
    void* p = ::mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        f.lines.push_back("guard probe: cannot map 4 scratch pages: " + errnoText(errno));
        return false;
    }
    const Addr addr = reinterpret_cast<Addr>(p);
    const int r = ::madvise(static_cast<char*>(p) + kPage, kPage, kMadvGuardInstall);
    const int err = errno;
    const std::string flags = r == 0 ? selfVmFlagsAt(addr) : std::string();
    ::munmap(p, 4 * kPage);
    if (r != 0) {
        f.lines.push_back("guard probe: MADV_GUARD_INSTALL returned -" + std::to_string(err) + " (" + errnoText(err)
            + "): no guard regions, so no VM_MAYBE_GUARD series");
        return false;
    }
    const bool gu = (" " + flags + " ").find(" gu ") != std::string::npos;
    f.lines.push_back("guard probe: MADV_GUARD_INSTALL on an anonymous page returned 0; VmFlags: " + flags);
    f.lines.push_back(gu ? "guard probe: `gu` is set: the VM_MAYBE_GUARD series is present"
                         : "guard probe: no `gu`: the kernel behaves like v6.18");
    return gu;
}

int openUffd()
{
    // As root plain userfaultfd works; an unprivileged user may need user-mode-only.
    int fd = rawUserfaultfd(O_CLOEXEC);
    if (fd < 0)
        fd = rawUserfaultfd(O_CLOEXEC | UFFD_USER_MODE_ONLY);
    return fd;
}

// Sets up the write-protected shared memfd mapping of (b). Returns an error text or "".
std::string prepareWpMapping(int uffd, char* p)
{
    for (std::size_t i = 0; i < 4; ++i)
        p[i * kPage] = 1;
    struct uffdio_api api = {};
    api.api = UFFD_API;
    if (::ioctl(uffd, UFFDIO_API, &api) != 0)
        return "UFFDIO_API failed: " + errnoText(errno);
    struct uffdio_register reg = {};
    reg.range.start = reinterpret_cast<Addr>(p);
    reg.range.len = 4 * kPage;
    reg.mode = UFFDIO_REGISTER_MODE_WP;
    if (::ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        return "UFFDIO_REGISTER (WP) of a shared memfd failed: " + errnoText(errno);
    struct uffdio_writeprotect wp = {};
    wp.range.start = reinterpret_cast<Addr>(p);
    wp.range.len = kPage;
    wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
    if (::ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
        return "UFFDIO_WRITEPROTECT failed: " + errnoText(errno);
    return {};
}

// Forks a child that waits on a pipe and returns how many of its 4 pages at p are present.
// -1 on failure (error text in *why).
int childPresentPages(char* p, std::string* why)
{
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        *why = "pipe: " + errnoText(errno);
        return -1;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        *why = "fork: " + errnoText(errno);
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return -1;
    }
    if (child == 0) {
        // Async-signal-safe only: wait until the parent has read our pagemap.
        char c;
        ::close(pipefd[1]);
        while (::read(pipefd[0], &c, 1) < 0 && errno == EINTR) { }
        ::_exit(0);
    }
    ::close(pipefd[0]);
    int present = -1;
    const std::string path = "/proc/" + std::to_string(child) + "/pagemap";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::uint64_t entries[4] = {};
    if (fd >= 0
        && ::pread(fd, entries, sizeof entries, off_t(reinterpret_cast<Addr>(p) / kPage * 8)) == sizeof entries) {
        present = 0;
        for (std::uint64_t e : entries)
            present += (e & kPmPresent) ? 1 : 0;
    } else {
        *why = "cannot read " + path + ": " + errnoText(errno);
    }
    if (fd >= 0)
        ::close(fd);
    ::close(pipefd[1]); // the child reads EOF and exits
    ::waitpid(child, nullptr, 0);
    return present;
}

// (b) Does fork copy the page tables of a uffd-wp shared VMA into a child that lost `uw`?
void probeCopyOnFork(Findings& f)
{
    const int uffd = openUffd();
    if (uffd < 0) {
        f.lines.push_back(
            "fork probe: userfaultfd is unavailable (" + errnoText(-uffd) + "); assuming maybe-guard-fixed");
        f.behaviour = "maybe-guard-fixed";
        return;
    }
    const int memfd = ::memfd_create("vmalab-probe", MFD_CLOEXEC);
    void* map = MAP_FAILED;
    if (memfd >= 0 && ::ftruncate(memfd, 4 * kPage) == 0)
        map = ::mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    std::string why = map == MAP_FAILED ? "cannot map a 4-page memfd: " + errnoText(errno) : "";
    if (why.empty())
        why = prepareWpMapping(uffd, static_cast<char*>(map));
    const int present = why.empty() ? childPresentPages(static_cast<char*>(map), &why) : -1;
    if (map != MAP_FAILED)
        ::munmap(map, 4 * kPage);
    if (memfd >= 0)
        ::close(memfd);
    ::close(uffd);
    if (present < 0) {
        f.lines.push_back("fork probe: " + why + "; assuming maybe-guard-fixed");
        f.behaviour = "maybe-guard-fixed";
        return;
    }
    f.lines.push_back("fork probe: uffd-wp shared memfd, 4 pages written, fork: the child has "
        + std::to_string(present) + " of 4 pages present");
    f.behaviour = present > 0 ? "maybe-guard" : "maybe-guard-fixed";
    f.lines.push_back(present > 0 ? "fork probe: vma_needs_copy() tests the source VMA (the series as posted)"
                                  : "fork probe: vma_needs_copy() tests the destination VMA (the fix)");
}

Findings runProbe()
{
    Findings f;
    f.lines.push_back("kernel " + kernelRelease());
    if (probeMaybeGuard(f))
        probeCopyOnFork(f);
    else
        f.behaviour = "v6.18";
    f.lines.push_back("behaves like: " + f.behaviour);
    return f;
}

} // namespace

std::string probeBehaviourName(std::vector<std::string>* notes)
{
    Findings f = runProbe();
    if (notes)
        notes->insert(notes->end(), f.lines.begin(), f.lines.end());
    return f.behaviour;
}

Profile hostProfile(const MachineConfig& machine, std::vector<std::string>* notes)
{
    const std::string name = probeBehaviourName(notes);
    auto p = builtinProfile(name, machine);
    VMALAB_ASSERT(p.has_value(), "the probe names a built-in profile");
    p->name = "host";
    p->description = "host: behaves like " + name;
    return *p;
}

std::string probeReport()
{
    std::string out;
    for (const auto& line : runProbe().lines)
        out += line + "\n";
    return out;
}

} // namespace vmalab::host
