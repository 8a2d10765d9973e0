#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

// The system calls the recorder stops on (x86-64 numbers) and the seccomp filter that makes
// only those stop the tracer.
namespace vmalab::host {

enum class SyscallRole
{
    Memory, // changes or inspects the address space: recorded as a call
    Process, // fork, vfork, clone, clone3, execve, execveat, exit, exit_group
    UffdIoctl, // ioctl: recorded only when the request is a userfaultfd one
};

struct RecordedSyscall
{
    long nr;
    std::string_view name;
    SyscallRole role;
};

const std::vector<RecordedSyscall>& recordedSyscalls();
// nullptr when the recorder ignores the call.
const RecordedSyscall* findRecordedSyscall(long nr);
// Whether an ioctl request is a userfaultfd one (type 0xAA).
bool isUffdIoctl(std::uint64_t request);

// Installs, in the calling process, a filter that returns SECCOMP_RET_TRACE for the recorded
// calls (x86-64 ABI only; ioctl only for userfaultfd requests) and allows everything else.
// Needs PR_SET_NO_NEW_PRIVS first. Returns 0 or -errno.
int installRecordFilter();

} // namespace vmalab::host
