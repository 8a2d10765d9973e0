#pragma once

#include "core/engine/vma_merge.h"

#include <cstdint>
#include <string>

namespace vmalab {

// The system calls the engine models. Each takes the address space through the context,
// returns what the raw syscall returns (a value or -errno) and records its steps.

std::int64_t doMmap(OpContext& c, Addr addr, std::uint64_t len, std::int64_t prot, std::int64_t flags,
                    std::int64_t fd, std::int64_t off);
std::int64_t doMunmap(OpContext& c, Addr start, std::uint64_t len);
std::int64_t doMprotect(OpContext& c, Addr start, std::uint64_t len, std::int64_t prot);

std::int64_t doMemfdCreate(OpContext& c, const std::string& name, std::int64_t flags);
std::int64_t doOpenFile(OpContext& c, const std::string& name, std::int64_t len);
std::int64_t doFtruncate(OpContext& c, std::int64_t fd, std::int64_t len);
std::int64_t doClose(OpContext& c, std::int64_t fd);

// Detaches every VMA in [start, end), splitting the VMAs at the edges, zapping their page
// tables and freeing page-table pages no VMA needs (vms_gather_munmap_vmas() and
// vms_complete_munmap_vmas()). 0 or -ENOMEM.
int unmapRange(OpContext& c, Addr start, Addr end);

} // namespace vmalab
