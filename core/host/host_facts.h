#pragma once

#include "core/profile.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The running machine's mm-relevant configuration (scenario-language.md, `--profile host`).
namespace vmalab::host {

// Reads uname, the kernel config (/proc/config.gz, else /boot/config-RELEASE), THP settings,
// the read-ahead of the filesystem holding $TMPDIR (default /tmp), swap, vm sysctls,
// MemTotal/SwapTotal, RLIMIT_STACK, and whether MADV_GUARD_INSTALL works. Whatever cannot
// be read keeps MachineConfig's default and adds a line to *notes.
MachineConfig readMachineConfig(std::vector<std::string>* notes = nullptr);

// Pure parsers, exposed for tests.
// "CONFIG_X=y" lines into {"CONFIG_X", "y"};
// "# CONFIG_X is not set" gives value "n".
std::map<std::string, std::string> parseKernelConfig(std::string_view text);
// The bracketed choice of a sysfs THP setting: "always [madvise] never" -> Madvise.
std::optional<MachineConfig::Thp> parseThpEnabled(std::string_view text);
// True when /proc/swaps lists at least one device below its header line.
bool swapsListDevice(std::string_view text);
// A "Name:   N kB" value from /proc/meminfo.
std::optional<std::uint64_t> meminfoKb(std::string_view text, std::string_view field);

} // namespace vmalab::host
