#pragma once

#include "core/engine/world.h"
#include "core/profile.h"
#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <string>
#include <utility>
#include <vector>

namespace vmalab {

// procfs does not show everything the engine's rules read (anonymous vm_pgoff, anon_vma
// identity and fork chains, uffd contexts, folio sharing, PTE tables without pages). Each
// gap is filled by an assumption, said in words with the VMAs it applies to, so that a
// prediction can say which of them it rests on.
struct SnapshotAssumption
{
    std::string text;
    std::int64_t pid = 0;
    std::vector<std::pair<Addr, Addr>> ranges; // the VMAs it applies to (empty: the whole process)
};

// The snapshot's processes as a World (procs in snapshot order) for the given profile:
// VMAs with flags from VmFlags, files by device and inode, page states from the page runs.
// Assumptions made are appended to *assumptions. Errors: a snapshot with no process, or
// one whose page runs name pages outside every VMA.
Result<World> worldFromSnapshot(
    const snapshot::Snapshot& snap, const Profile& profile, std::vector<SnapshotAssumption>* assumptions = nullptr);

// The snapshot process `index` of `from` (a worldFromSnapshot() result) as an address space
// of `into`: files matched by device, inode and path (else added), VMA, anon_vma and uffd
// context ids renumbered for `into`; the process becomes scenario process `procIndex`.
Mm adoptSnapshotProcess(World& into, const World& from, std::size_t index, std::size_t procIndex);

// The VmFlags bits of smaps mnemonics; unknown mnemonics are appended to *unknown.
VmFlags vmFlagsFromMnemonics(const std::vector<std::string>& mnemonics, std::vector<std::string>* unknown = nullptr);

// The assumptions whose ranges meet a VMA that differs between the two worlds (or that
// apply to a whole process that changed): the ones a prediction depends on.
std::vector<const SnapshotAssumption*> assumptionsUsed(
    const std::vector<SnapshotAssumption>& assumptions, const World& before, const World& after);

} // namespace vmalab
