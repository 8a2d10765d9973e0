#pragma once

#include "core/snapshot/snapshot.h"

#include <string>
#include <vector>

// A semantic diff of two snapshots: what happened to the address spaces between them,
// inferred from the VMAs and pages, instead of a line diff of smaps.
namespace vmalab::snapshot {

enum class EventKind
{
    ProcessStarted, // a pid only in the second snapshot
    ProcessExited, // a pid only in the first
    Mapped, // a VMA where none was
    Unmapped, // a VMA gone with nothing in its place
    Moved, // a VMA unmapped here and the same mapping (size, file, offset, perms) there: mremap
    Split, // one VMA became several
    Merged, // several VMAs became one
    Rearranged, // several VMAs became several others
    Grew, // pages mapped next to or between existing VMAs (part of them)
    Shrank, // pages of VMAs unmapped while the rest stayed
    ProtectionChanged, // perms differ where a VMA stayed
    FlagsChanged, // VmFlags differ (other than gu)
    NameChanged,
    GuardInstalled, // smaps gu appeared on a VMA, or pages became guard markers
    GuardRemoved, // gu disappeared, or guard markers went
    PagesFaulted, // not present before, present now
    PagesReclaimed, // present (or swapped) before, nothing now
    PagesSwappedOut,
    PagesSwappedIn,
};

const char* eventKindName(EventKind k); // "mapped", "protection", "faulted"...

// A VMA as events show it.
struct VmaRef
{
    Addr start = 0;
    Addr end = 0;
    std::string perms;
    std::string name;
    bool operator==(const VmaRef&) const = default;
};

struct DiffEvent
{
    EventKind kind = EventKind::Mapped;
    std::int64_t pid = 0;
    std::string comm; // the process's name
    std::vector<VmaRef> before; // the VMAs involved, in the first snapshot
    std::vector<VmaRef> after; // and in the second
    std::vector<std::pair<Addr, Addr>> ranges; // the address ranges the event is about
    std::uint64_t pages = 0; // page events: how many pages
    std::string from; // protection: old perms; flags: removed mnemonics
    std::string to; // protection: new perms; flags: added mnemonics
};

// Events of b relative to a, per process (matched by pid), by address.
std::vector<DiffEvent> diffSnapshots(const Snapshot& a, const Snapshot& b);

// One event a line, grouped under "pid N (name):" headers; "no changes" when empty.
std::string formatDiff(const std::vector<DiffEvent>& events);
// One event without its kind and process, as formatDiff prints it.
std::string describeEvent(const DiffEvent& e);

// {"events": [...]} (docs/snapshots.md).
std::string diffToJson(const std::vector<DiffEvent>& events);

} // namespace vmalab::snapshot
