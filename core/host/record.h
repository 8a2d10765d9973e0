#pragma once

#include "core/host/record_events.h"
#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <atomic>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

// The recorder (docs/recording.md): runs a program under ptrace, or attaches to one, and
// collects its memory-related system calls, the page states seen around them and snapshots
// at the start, at each later execve and at each exit. Linux x86-64 only.
namespace vmalab::host {

struct RecordOptions
{
    // Snapshot files are named <stem>.start.vsnap, <stem>.end.vsnap, <stem>.exec-PID.vsnap
    // in the scenario (relative to it).
    std::string stem = "recording";
    bool samplePages = true; // false: no observe lines (faster)
    std::string workingDirectory; // where a launched program starts ("" = ours)
    // Set (e.g. from a SIGINT handler) to stop an attached recording: the threads are
    // detached and what was recorded is kept. Ignored for a launched program, which gets the
    // signal itself.
    const std::atomic<bool>* stopRequested = nullptr;
};

struct RecordSession
{
    Recording recording;
    snapshot::Snapshot start;
    snapshot::Snapshot end; // every recorded process at its exit, main first
    std::vector<std::pair<std::string, snapshot::Snapshot>> execs; // file name, snapshot
    int exitStatus = 0; // the launched program's wait status (0 when attached)
    std::size_t syscallStops = 0; // system call stops the tracer handled
    std::vector<std::string> notes;
};

// Runs argv[0] (searched in PATH) with argv and records it until every process it started
// has exited. Errors: the program cannot be run (errno), ptrace is not permitted.
Result<RecordSession> recordCommand(
    const std::vector<std::string>& argv, const snapshot::HostInfo& host, const RecordOptions& options);

// Attaches to every thread of pid and records until it exits or options.stopRequested.
Result<RecordSession> recordPid(pid_t pid, const snapshot::HostInfo& host, const RecordOptions& options);

// Writes the scenario at `path` and its snapshots beside it (names from the session).
Result<std::vector<std::string>> writeRecordingFiles(const RecordSession& session, const std::string& path);

// Whether this process may trace a child of its own (false in sandboxes that forbid ptrace);
// *why says what refused it.
bool ptraceAvailable(std::string* why);

} // namespace vmalab::host
