#pragma once

#include "core/engine/world.h"
#include "core/observed.h"

#include <vector>

namespace vmalab {

// What /proc/PID/maps, smaps and pagemap would show of one modelled process
// (show_map_vma(), show_smap(), pagemap_read() in fs/proc/task_mmu.c).
ObservedProcess observeProcess(const World& world, std::size_t procIndex);
// Every process, in creation order (the sharing counts are built once, not per process).
std::vector<ObservedProcess> observeWorld(const World& world);

// The name maps prints for a VMA (get_vma_name()).
std::string vmaName(const World& world, const Mm& mm, const Vma& v);

} // namespace vmalab
