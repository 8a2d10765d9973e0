#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// What a recording holds before it is written as a scenario (docs/recording.md). Plain data:
// the tracer and the strace importer fill it, writeRecording() turns it into text.
namespace vmalab::host {

// The file behind a descriptor a call mapped, as /proc/PID/fd and fdinfo showed it.
struct RecordedFile
{
    std::string path;
    unsigned devMajor = 0;
    unsigned devMinor = 0;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    int accessMode = 0; // O_RDONLY, O_WRONLY or O_RDWR
    bool known = true; // false: only the descriptor number is known (strace import)
    bool mappable = true; // a regular file, memfd or shmem; false: a device, socket...
    std::string handle; // the handle's name when it cannot be made from device and inode
};

enum class RecordedKind
{
    Call, // a system call with its arguments and result
    Observe, // pages seen in a state before the next call
    Fork, // a new process with its own copy of the address space
    Exec, // the process ran execve: its address space is the snapshot's
    Spawn, // a CLONE_VM child (vfork, posix_spawn) ran execve: a new process
    Note, // a plain comment (thread created, process exited...)
};

struct RecordedEvent
{
    RecordedKind kind = RecordedKind::Call;
    std::int64_t pid = 0; // the process whose address space it concerns (its block)
    std::int64_t tid = 0; // the thread that made the call (== pid for the leader)
    // Call: the syscall's name, its arguments and what it returned (-errno on failure).
    std::string call;
    std::array<std::uint64_t, 6> args {};
    bool hasResult = false;
    std::int64_t result = 0;
    std::optional<RecordedFile> file; // mmap of a descriptor
    std::string text; // Call: extra text for calls whose arguments are not numbers; Note: the comment
    bool narrate = false; // Note: written as `///` narration, which the GUI shows at the next step
    // Observe
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    std::string state; // "none", "anon", "file", "swap", "guard"
    // Fork, Spawn: the new process; Exec, Spawn: the snapshot file (relative to the scenario)
    std::int64_t child = 0;
    std::string snapshotFile;
};

struct Recording
{
    std::string program; // the command line, or "pid N"
    std::string date; // "2026-11-23"
    std::string kernel; // "6.18.0 x86_64"
    std::int64_t mainPid = 0;
    std::string startSnapshot; // empty: no start snapshot (strace import)
    std::string endSnapshot;
    std::vector<std::string> headerNotes; // extra comment lines after the summary
    std::vector<RecordedEvent> events;
};

} // namespace vmalab::host
