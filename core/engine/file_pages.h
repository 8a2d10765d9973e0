#pragma once

#include "core/engine/world.h"

#include <cstdint>

namespace vmalab {

// Unmaps every present page-cache PTE of file pages [from, to) in every address space, as
// replacing or removing those folios does (unmap_mapping_range() without even_cows): private
// copy-on-write copies, zero pages and markers stay. Returns how many PTEs were unmapped.
std::uint64_t unmapFilePages(World& world, FileId file, PageOff from, PageOff to);

} // namespace vmalab
