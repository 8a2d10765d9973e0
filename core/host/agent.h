#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

// The replay agent: a process that performs one scenario process's calls on the real kernel
// (docs/replay.md). The controller sends fixed-size requests over a SOCK_SEQPACKET socket and
// gets one fixed-size reply for each. Internal to vmalab_host.
namespace vmalab::host::agent {

enum class Op : std::uint32_t
{
    Ping = 1, // reply: the agent's pid
    Mmap, // args: addr len prot flags fd off
    Munmap,
    Mprotect,
    Mremap, // args: old old_len new_len flags new_addr
    Madvise,
    Mlock,
    Mlock2,
    Munlock,
    MemfdCreate, // str: name; args[1]: flags
    Ftruncate,
    Close,
    Open, // str: path, opened O_RDWR
    Prctl, // args[0..4]; str replaces args[4] when strArg is set
    Brk,
    Userfaultfd,
    UffdioApi, // uffd features
    UffdioRegister, // uffd addr len mode
    UffdioUnregister, // uffd addr len
    UffdioWriteprotect, // uffd addr len wp
    Touch, // addr len access: 0 or the signal of the first faulting page
    Fork, // the new agent's channel travels with the request (SCM_RIGHTS)
    SendFd, // args[0]: an fd of the agent, sent back with the reply (SCM_RIGHTS)
};

constexpr std::size_t kStrMax = 1024; // memfd names, prctl names and file paths

struct Request
{
    Op op = Op::Ping;
    std::uint32_t strArg = 0; // 1: str is an argument
    std::int64_t args[6] = {};
    char str[kStrMax] = {};
};

struct Reply
{
    std::int64_t value = 0; // raw result or -errno
};

// Runs the command loop on `channel` until the controller closes it; never returns.
// Call it in a freshly forked child of `controller`. It closes every other descriptor,
// installs its fault handlers on a preallocated alternate stack and from then on maps
// nothing of its own.
[[noreturn]] void agentMain(int channel, pid_t controller);

// Sends / receives one fixed-size message with an optional descriptor (SCM_RIGHTS).
// Return what sendmsg/recvmsg return; *fd is -1 when none came.
ssize_t sendMessage(int sock, const void* msg, std::size_t size, int fd);
ssize_t receiveMessage(int sock, void* msg, std::size_t size, int* fd);

} // namespace vmalab::host::agent
