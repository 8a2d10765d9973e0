#pragma once

#include <cstdint>
#include <optional>
#include <string>

// Small helpers for the code that talks to the running kernel. Internal to vmalab_host.
namespace vmalab::host {

// uapi values of Linux 6.18 that Debian 12's kernel headers (6.1) do not have yet.
constexpr int kMadvGuardInstall = 102; // MADV_GUARD_INSTALL, since 6.13
constexpr int kMadvGuardRemove = 103; // MADV_GUARD_REMOVE, since 6.13
constexpr int kPrSetVma = 0x53564d41; // PR_SET_VMA
constexpr int kPrSetVmaAnonName = 0; // PR_SET_VMA_ANON_NAME

// The whole of a (proc/sys) file, or nullopt with errno set. Reads until EOF, since
// procfs files report size 0.
std::optional<std::string> readFileText(const std::string& path);
// The first line of a file without its newline, trimmed of surrounding blanks.
std::optional<std::string> readFirstLine(const std::string& path);
// strerror(), thread-safe.
std::string errnoText(int err);
// "6.18.44-..." from uname(2); "unknown" if that fails.
std::string kernelRelease();
// "0x7f..." in lowercase hex.
std::string hexAddr(std::uint64_t v);
// userfaultfd(2) as a raw syscall: the fd or -errno.
int rawUserfaultfd(int flags);
// The smaps VmFlags of the VMA of this process that contains addr (empty if none is found).
std::string selfVmFlagsAt(std::uint64_t addr);

} // namespace vmalab::host
