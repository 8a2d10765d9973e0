#pragma once

#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

// Capturing a live process into a snapshot (docs/snapshots.md): /proc/PID/status, smaps
// (every field), pagemap (through the PAGEMAP_SCAN ioctl where the kernel has it) and
// /proc/kpageflags where permitted.
namespace vmalab::host {

struct CaptureOptions
{
    bool freeze = false; // SIGSTOP the process while it is read, SIGCONT after
    bool usePagemapScan = true; // false: pread the whole of pagemap (for tests and comparison)
    bool readKpageflags = true;
};

// uname and the host profile (the probe runs its experiments: call once per session).
snapshot::HostInfo readHostInfo();

// One snapshot of one process, with `host` copied in. Errors: "process N no longer exists",
// permission denied (with what would allow it), unparsable procfs text.
Result<snapshot::Snapshot> captureSnapshot(pid_t pid, const CaptureOptions& options, const snapshot::HostInfo& host);

// Watch mode: a capture every intervalMs (measured from the start of the previous one) until
// `count` entries exist (0: no limit), keepGoing() returns false or the process exits (a
// note on the last entry says so). The first capture's error is returned as is.
Result<std::vector<snapshot::Snapshot>> watchProcess(pid_t pid, const CaptureOptions& options,
    const snapshot::HostInfo& host, unsigned intervalMs, std::uint64_t count, const std::function<bool()>& keepGoing);

// The process part alone; notes about what could not be read go to *notes. Fills the
// method used for pagemap and whether kpageflags were read.
Result<snapshot::SnapshotProcess> captureProcess(pid_t pid, const CaptureOptions& options,
    std::vector<std::string>* notes, std::string* pagemapMethod, bool* kpageflagsRead);

// Page runs of the VMAs from an open pagemap (and kpageflags, or -1): PAGEMAP_SCAN finds the
// populated ranges when `scan` is set and the kernel has it (*scanned says whether it was
// used), pread reads their entries. Runs never cross a VMA boundary.
std::vector<snapshot::SnapshotPageRun> capturePageRuns(
    const std::vector<snapshot::SnapshotVma>& vmas, int pagemapFd, int kpageflagsFd, bool scan, bool* scanned);

// What PAGEMAP_SCAN found over [0, end) before the VMAs were known (the capture scans while
// smaps is still being parsed); capturePageRuns() uses it when it covers every VMA it scans.
struct PrescannedPages
{
    bool ok = false;
    Addr end = 0;
    bool withGuard = true;
    std::vector<std::pair<Addr, Addr>> populated;
};
// Scans [0, the top of a 47-bit address space) of an open pagemap.
PrescannedPages prescanPages(int pagemapFd);
std::vector<snapshot::SnapshotPageRun> capturePageRuns(const std::vector<snapshot::SnapshotVma>& vmas,
    int pagemapFd, int kpageflagsFd, bool scan, bool* scanned, const PrescannedPages* prescanned);

} // namespace vmalab::host
