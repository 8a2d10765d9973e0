#pragma once

#include "core/engine/vma_merge.h"

#include <cstdint>
#include <functional>

namespace vmalab {

// Guard regions (MADV_GUARD_INSTALL / MADV_GUARD_REMOVE, mm/madvise.c, Linux 6.13+) and the
// VM_MAYBE_GUARD series. Each handles [start, end) of the VMA at vmaStart, as
// madvise_walk_vmas() hands it over, and returns 0 or -errno (which stops the walk).
// The caller holds the mmap read lock (kernel-model.md §14).

// madvise_guard_install(): refused on special, hugetlb and mlocked VMAs; with the series it
// first sets VM_MAYBE_GUARD on the whole VMA; prepares an anon_vma (every VMA in v6.18, private
// anonymous ones only with the series); then every PTE of the range becomes a guard marker,
// present pages and swap entries being zapped first.
std::int64_t guardInstall(OpContext& c, Addr vmaStart, Addr start, Addr end);

// madvise_guard_remove(): guard markers in the range become none; allowed on mlocked VMAs;
// VM_MAYBE_GUARD stays.
std::int64_t guardRemove(OpContext& c, Addr vmaStart, Addr start, Addr end);

} // namespace vmalab

namespace vmalab {

// madvise_collapse() (mm/khugepaged.c) on [start, end) of one private anonymous VMA: every
// aligned 2 MiB block wholly inside the range is collapsed into a THP when it holds a writable
// present anonymous page and no guard marker; blocks that fail do not stop the others. 0 when
// every block succeeded (an existing THP counts), else -EINVAL. File and shmem VMAs go to
// madviseCollapseFile().
std::int64_t madviseCollapse(OpContext& c, Addr vmaStart, Addr start, Addr end);

// MADV_COLLAPSE of a file or shmem VMA (collapse_file.cpp): per aligned block with a page in
// the page cache, the file gets one THP (holes filled, past EOF too), the old pages leave
// every mapping, and the calling VMA maps it with a PMD unless a guard marker, a private
// copy or uffd-wp stops it. Regular files need CONFIG_READ_ONLY_THP_FOR_FS (not modelled when
// set: the caller refuses first, see madviseNotModelled()).
std::int64_t madviseCollapseFile(OpContext& c, Addr vmaStart, Addr start, Addr end);

// Whether the VMA can hold one aligned 2 MiB block (thp_vma_suitable_order()).
bool holdsAlignedBlock(const Vma& v);
// The aligned 2 MiB blocks wholly inside [start, end), walked as madvise_collapse() walks them:
// collapseBlock(block) returns 0 or -EINVAL, and a failed block does not stop the others.
// -EINVAL when start rounds up past end; 0 (nothing to do) when no whole block lies inside.
std::int64_t forEachCollapseBlock(
    OpContext& c, Addr start, Addr end, const std::function<std::int64_t(Addr block)>& collapseBlock);

} // namespace vmalab
