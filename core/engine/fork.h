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

// How many processes map COW-shared the anonymous page that `v` of process `proc` maps at `addr` (the folio's
// mapcount as far as the model tracks it). A page is known by what rmap finds it by: the
// VMA's file and the page's linear index (vm_pgoff-based, kept by mremap), so a moved page is
// still the same page.
unsigned cowShareCount(const World& world, std::size_t proc, const Vma& v, Addr addr);

// The COW-shared PTEs of one such page key, as (process index, address). One process may hold
// the key twice with different pages (MREMAP_DONTUNMAP leaves the old range, whose new pages
// get the moved pages' indexes); fork keeps addresses, so then only a holder at the same
// address shares the page. How many processes share the page `proc` maps at `addr`.
using CowHolders = std::vector<std::pair<std::size_t, Addr>>;
unsigned cowShareCountAmong(const CowHolders& holders, std::size_t proc, Addr addr);

} // namespace vmalab
