#pragma once

#include "core/engine/world.h"
#include "core/observed.h"

namespace vmalab {

// What /proc/PID/maps, smaps and pagemap would show of one modelled process
// (show_map_vma(), show_smap(), pagemap_read() in fs/proc/task_mmu.c).
ObservedProcess observeProcess(const World& world, std::size_t procIndex);

// The name maps prints for a VMA (get_vma_name()).
std::string vmaName(const World& world, const Mm& mm, const Vma& v);

} // namespace vmalab
