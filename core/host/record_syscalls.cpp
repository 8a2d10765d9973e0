#include "core/host/record_syscalls.h"

#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vmalab::host {

const std::vector<RecordedSyscall>& recordedSyscalls()
{
    using R = SyscallRole;
    // x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl); spelled out since Debian 12's
    // headers lack the newest (mseal, map_shadow_stack).
    static const std::vector<RecordedSyscall> table = {
        { 9, "mmap", R::Memory },
        { 10, "mprotect", R::Memory },
        { 11, "munmap", R::Memory },
        { 12, "brk", R::Memory },
        { 16, "ioctl", R::UffdIoctl },
        { 25, "mremap", R::Memory },
        { 28, "madvise", R::Memory },
        { 30, "shmat", R::Memory },
        { 56, "clone", R::Process },
        { 57, "fork", R::Process },
        { 58, "vfork", R::Process },
        { 59, "execve", R::Process },
        { 60, "exit", R::Process },
        { 67, "shmdt", R::Memory },
        { 149, "mlock", R::Memory },
        { 150, "munlock", R::Memory },
        { 151, "mlockall", R::Memory },
        { 152, "munlockall", R::Memory },
        { 216, "remap_file_pages", R::Memory },
        { 231, "exit_group", R::Process },
        { 237, "mbind", R::Memory },
        { 322, "execveat", R::Process },
        { 323, "userfaultfd", R::Memory },
        { 325, "mlock2", R::Memory },
        { 329, "pkey_mprotect", R::Memory },
        { 435, "clone3", R::Process },
        { 440, "process_madvise", R::Memory },
        { 453, "map_shadow_stack", R::Memory },
        { 462, "mseal", R::Memory },
    };
    return table;
}

const RecordedSyscall* findRecordedSyscall(long nr)
{
    for (const RecordedSyscall& s : recordedSyscalls())
        if (s.nr == nr)
            return &s;
    return nullptr;
}

bool isUffdIoctl(std::uint64_t request)
{
    return ((request >> 8) & 0xff) == 0xAA;
}

int installRecordFilter()
{
    constexpr std::uint32_t kArchOffset = offsetof(seccomp_data, arch);
    constexpr std::uint32_t kNrOffset = offsetof(seccomp_data, nr);
    constexpr std::uint32_t kIoctlRequestOffset = offsetof(seccomp_data, args) + 8; // args[1], low word
    const auto& calls = recordedSyscalls();
    std::vector<sock_filter> prog;
    auto stmt = [&](std::uint16_t code, std::uint32_t k) { prog.push_back(BPF_STMT(code, k)); };
    auto jump = [&](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
        prog.push_back(BPF_JUMP(code, k, jt, jf));
    };
    // Layout: arch check, nr checks (one per call, jumping to TRACE or to the ioctl test),
    // ALLOW, ioctl test, TRACE.
    stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset);
    const std::size_t n = calls.size();
    // From the arch check, ALLOW is 1 (load nr) + n instructions ahead.
    jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, std::uint8_t(1 + n));
    stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset);
    for (std::size_t i = 0; i < n; ++i) {
        // After check i: n - 1 - i more checks, then ALLOW (1), ioctl test (3), TRACE.
        const std::size_t toAllow = n - 1 - i;
        const std::size_t toIoctl = toAllow + 1;
        const std::size_t toTrace = toIoctl + 4;
        const bool isIoctl = calls[i].role == SyscallRole::UffdIoctl;
        jump(BPF_JMP | BPF_JEQ | BPF_K, std::uint32_t(calls[i].nr), std::uint8_t(isIoctl ? toIoctl : toTrace), 0);
    }
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    // The ioctl test: (request & 0xff00) == 0xAA00 and not an x32 call (checked by arch above).
    stmt(BPF_LD | BPF_W | BPF_ABS, kIoctlRequestOffset);
    stmt(BPF_ALU | BPF_AND | BPF_K, 0xff00);
    jump(BPF_JMP | BPF_JEQ | BPF_K, 0xAA00, 1, 0);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    sock_fprog fprog {};
    fprog.len = static_cast<unsigned short>(prog.size());
    fprog.filter = prog.data();
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
        return -errno;
    return 0;
}

} // namespace vmalab::host
