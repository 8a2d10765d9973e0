#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"

#include <cstddef>
#include <cstdint>

namespace vmalab {

// fork(): dup_mmap() (kernel-model.md §12) builds world.procs[childIndex] from
// world.procs[parentIndex] (the vector grows as needed, so references into it do not survive
// the call) and returns the child's pid.
std::int64_t doFork(World& world, std::size_t parentIndex, std::size_t childIndex, Tracer& trace);

// vma_needs_copy() for the profile: whether fork copies the page tables of `src` into its copy
// `dst`; `rule` receives the test that decided.
bool vmaNeedsCopy(const Profile& profile, const Vma& dst, const Vma& src, std::string& rule);

// How many processes map COW-shared the anonymous page that `v` maps at `addr` (the folio's
// mapcount as far as the model tracks it). A page is known by what rmap finds it by: the
// VMA's file and the page's linear index (vm_pgoff-based, kept by mremap), so a moved page is
// still the same page.
unsigned cowShareCount(const World& world, const Vma& v, Addr addr);

} // namespace vmalab
