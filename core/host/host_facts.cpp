#include "core/host/host_facts.h"

#include "core/host/sys_util.h"

#include <cerrno>
#include <cstdlib>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

namespace vmalab::host {

std::map<std::string, std::string> parseKernelConfig(std::string_view text)
{
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = std::min(text.find('\n', pos), text.size());
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        constexpr std::string_view notSet = " is not set";
        if (line.rfind("# CONFIG_", 0) == 0 && line.size() > notSet.size()
            && line.substr(line.size() - notSet.size()) == notSet) {
            out[std::string(line.substr(2, line.size() - 2 - notSet.size()))] = "n";
        } else if (line.rfind("CONFIG_", 0) == 0) {
            const std::size_t eq = line.find('=');
            if (eq != std::string_view::npos)
                out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
        }
    }
    return out;
}

std::optional<MachineConfig::Thp> parseThpEnabled(std::string_view text)
{
    const std::size_t open = text.find('[');
    const std::size_t close = text.find(']', open);
    if (open == std::string_view::npos || close == std::string_view::npos)
        return std::nullopt;
    const std::string_view choice = text.substr(open + 1, close - open - 1);
    if (choice == "always")
        return MachineConfig::Thp::Always;
    if (choice == "madvise")
        return MachineConfig::Thp::Madvise;
    if (choice == "never")
        return MachineConfig::Thp::Never;
    return std::nullopt;
}

bool swapsListDevice(std::string_view text)
{
    const std::size_t nl = text.find('\n');
    return nl != std::string_view::npos && text.find_first_not_of(" \t\n", nl) != std::string_view::npos;
}

std::optional<std::uint64_t> meminfoKb(std::string_view text, std::string_view field)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = std::min(text.find('\n', pos), text.size());
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.size() > field.size() && line.substr(0, field.size()) == field && line[field.size()] == ':')
            return std::strtoull(std::string(line.substr(field.size() + 1)).c_str(), nullptr, 10);
    }
    return std::nullopt;
}

namespace {

void note(std::vector<std::string>* notes, std::string text)
{
    if (notes)
        notes->push_back(std::move(text));
}

std::optional<std::string> readGzipText(const std::string& path)
{
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return std::nullopt;
    std::string text;
    char buf[65536];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        text.append(buf, size_t(n));
    const bool ok = n == 0;
    gzclose(f);
    if (!ok)
        return std::nullopt;
    return text;
}

void readKernelConfig(MachineConfig& m, std::vector<std::string>* notes)
{
    auto text = readGzipText("/proc/config.gz");
    std::string source = "/proc/config.gz";
    if (!text) {
        source = "/boot/config-" + m.kernelRelease;
        text = readFileText(source);
    }
    if (!text) {
        note(notes,
            "kernel config: neither /proc/config.gz nor " + source
                + " is readable; CONFIG_* options keep their defaults");
        return;
    }
    const auto config = parseKernelConfig(*text);
    auto flag = [&](const char* name, bool& out) {
        auto it = config.find(name);
        // An option missing from the file is one the kernel does not offer: off.
        out = it != config.end() && (it->second == "y" || it->second == "m");
    };
    flag("CONFIG_ANON_VMA_NAME", m.anonVmaName);
    flag("CONFIG_MEM_SOFT_DIRTY", m.softDirty);
    flag("CONFIG_USERFAULTFD", m.userfaultfd);
    flag("CONFIG_PT_RECLAIM", m.ptReclaim);
    flag("CONFIG_KSM", m.ksm);
    flag("CONFIG_READ_ONLY_THP_FOR_FS", m.readOnlyThpForFs);
}

void readThp(MachineConfig& m, std::vector<std::string>* notes)
{
    const std::string dir = "/sys/kernel/mm/transparent_hugepage/";
    auto enabled = readFirstLine(dir + "enabled");
    auto thp = enabled ? parseThpEnabled(*enabled) : std::nullopt;
    if (thp)
        m.thp = *thp;
    else
        note(notes, "cannot read " + dir + "enabled; assuming THP madvise");
    auto zero = readFirstLine(dir + "use_zero_page");
    if (zero && (*zero == "0" || *zero == "1"))
        m.thpUseZeroPage = *zero == "1";
    else
        note(notes, "cannot read " + dir + "use_zero_page; assuming 1");
    // The selected value is the bracketed word: "always within_size advise [never] deny force".
    auto shmem = readFirstLine(dir + "shmem_enabled");
    if (shmem)
        m.shmemThpDeny = shmem->find("[deny]") != std::string::npos;
    else
        note(notes, "cannot read " + dir + "shmem_enabled; assuming shmem THPs are not denied");
}

// open_file files live in $TMPDIR; its filesystem decides read-around (fault-around of
// file pages) and whether the file is shmem.
void readTmpFilesystem(MachineConfig& m, std::vector<std::string>* notes)
{
    const char* env = std::getenv("TMPDIR");
    const std::string dir = env && *env ? env : "/tmp";
    struct statfs sfs;
    if (::statfs(dir.c_str(), &sfs) == 0)
        m.tmpIsTmpfs = sfs.f_type == TMPFS_MAGIC;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
        note(notes, "cannot stat " + dir + ": " + errnoText(errno) + "; read_ahead_kb keeps its default");
        return;
    }
    if (m.tmpIsTmpfs)
        return; // shmem files have no read-ahead device
    const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
    // A whole disk has queue/; a partition's queue is its parent's; filesystems without a
    // block device of their own (btrfs, overlayfs) may still have a bdi.
    for (const std::string& path : { "/sys/dev/block/" + dev + "/queue/read_ahead_kb",
             "/sys/dev/block/" + dev + "/../queue/read_ahead_kb", "/sys/class/bdi/" + dev + "/read_ahead_kb" }) {
        auto v = readFirstLine(path);
        if (v && !v->empty() && v->find_first_not_of("0123456789") == std::string::npos) {
            m.readAheadKb = std::strtoull(v->c_str(), nullptr, 10);
            return;
        }
    }
    note(notes,
        "no read_ahead_kb found for device " + dev + " holding " + dir + "; keeping " + std::to_string(m.readAheadKb));
}

void readSysctls(MachineConfig& m, std::vector<std::string>* notes)
{
    auto number = [&](const char* path, auto& out) {
        auto v = readFirstLine(path);
        if (v && !v->empty())
            out = static_cast<std::remove_reference_t<decltype(out)>>(std::strtoll(v->c_str(), nullptr, 10));
        else
            note(notes, std::string("cannot read ") + path + "; keeping the default");
    };
    number("/proc/sys/vm/max_map_count", m.maxMapCount);
    number("/proc/sys/vm/mmap_min_addr", m.mmapMinAddr);
    number("/proc/sys/vm/overcommit_memory", m.overcommitMemory);

    if (auto swaps = readFileText("/proc/swaps"))
        m.swap = swapsListDevice(*swaps);
    else
        note(notes, "cannot read /proc/swaps; assuming no swap");
    auto meminfo = readFileText("/proc/meminfo");
    auto total = meminfo ? meminfoKb(*meminfo, "MemTotal") : std::nullopt;
    auto swapTotal = meminfo ? meminfoKb(*meminfo, "SwapTotal") : std::nullopt;
    if (total)
        m.memTotalKb = *total;
    if (swapTotal)
        m.swapTotalKb = *swapTotal;
    if (!total || !swapTotal)
        note(notes, "cannot read MemTotal/SwapTotal from /proc/meminfo; keeping the defaults");

    struct rlimit rl;
    if (::getrlimit(RLIMIT_STACK, &rl) == 0)
        m.stackRlimit = rl.rlim_cur == RLIM_INFINITY ? ~std::uint64_t { 0 } : std::uint64_t(rl.rlim_cur);
}

// MADV_GUARD_INSTALL exists since 6.13; older kernels return -EINVAL. Probed on a scratch
// mapping of our own, unmapped again at once.
void probeGuardInstall(MachineConfig& m, std::vector<std::string>* notes)
{
    void* p = ::mmap(nullptr, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        note(notes, "cannot map a scratch page to probe MADV_GUARD_INSTALL");
        return;
    }
    const int r = ::madvise(p, 4096, kMadvGuardInstall);
    const int err = errno;
    ::munmap(p, 2 * 4096);
    m.guardRegions = r == 0;
    if (r != 0)
        note(notes,
            "MADV_GUARD_INSTALL returned -" + std::to_string(err) + " (" + errnoText(err)
                + "): no guard regions on kernel " + m.kernelRelease);
}

} // namespace

MachineConfig readMachineConfig(std::vector<std::string>* notes)
{
    MachineConfig m;
    m.kernelRelease = kernelRelease();
    readKernelConfig(m, notes);
    readThp(m, notes);
    readTmpFilesystem(m, notes);
    readSysctls(m, notes);
    probeGuardInstall(m, notes);
    return m;
}

} // namespace vmalab::host
