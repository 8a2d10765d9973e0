#pragma once

#include "core/engine/vma_merge.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vmalab {

// The system calls the engine models. Each takes the address space through the context,
// returns what the raw syscall returns (a value or -errno) and records its steps.

// `recorded` (0: none) is where a recording says the kernel placed a mapping it chose the
// address of; the model places it there when that range is free (docs/recording.md).
std::int64_t doMmap(OpContext& c, Addr addr, std::uint64_t len, std::int64_t prot, std::int64_t flags,
                    std::int64_t fd, std::int64_t off, Addr recorded = 0);
// Whether [recorded, recorded + len) is a usable, page-aligned range with nothing mapped in it.
bool recordedRangeFree(const Mm& mm, Addr recorded, std::uint64_t len);
std::int64_t doMunmap(OpContext& c, Addr start, std::uint64_t len);
std::int64_t doMprotect(OpContext& c, Addr start, std::uint64_t len, std::int64_t prot);

std::int64_t doMemfdCreate(OpContext& c, const std::string& name, std::int64_t flags);
std::int64_t doOpenFile(OpContext& c, const std::string& name, std::int64_t len);
std::int64_t doFtruncate(OpContext& c, std::int64_t fd, std::int64_t len);
std::int64_t doClose(OpContext& c, std::int64_t fd);

// mremap(2) (mm/mremap.c, 6.17+ rules: a pure MREMAP_FIXED move may span several VMAs).
std::int64_t doMremap(OpContext& c, Addr addr, std::uint64_t oldLen, std::uint64_t newLen, std::int64_t flags,
                      Addr newAddr, Addr recorded = 0);
// madvise(2) for the flag advice and the page-table advice the model implements; callers
// first ask madviseNotModelled() (the hwpoison advice and some file collapses are not modelled).
std::int64_t doMadvise(OpContext& c, Addr start, std::uint64_t len, std::int64_t advice);
bool madviseModelled(std::int64_t advice);
// Why the model cannot run this madvise call ("" when it can): the advice is not modelled, or
// MADV_COLLAPSE reaches a regular file on a kernel with CONFIG_READ_ONLY_THP_FOR_FS.
std::string madviseNotModelled(const World& world, const Mm& mm, Addr start, std::uint64_t len, std::int64_t advice);
// mlock(2) (hasFlags false) and mlock2(2); munlock(2).
std::int64_t doMlock(OpContext& c, Addr start, std::uint64_t len, std::int64_t flags, bool hasFlags);
std::int64_t doMunlock(OpContext& c, Addr start, std::uint64_t len);
// prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name): -EINVAL without CONFIG_ANON_VMA_NAME.
std::int64_t doSetAnonName(OpContext& c, Addr start, std::uint64_t len, const std::string& name);

// vm_start_gap(): where a VMA's gap begins; a VM_GROWSDOWN VMA keeps stack_guard_gap (256
// pages) free below it.
Addr vmStartGap(const Vma& v);

// brk(2): the new break, or the old one when the kernel would refuse (mm/mmap.c).
std::int64_t doBrk(OpContext& c, Addr brk);

// What a recording saw in the pagemap of a page (docs/recording.md, observe()).
enum class ObservedPageState
{
    None,
    Anon,  // a private anonymous folio
    File,  // a page-cache or shmem page, or the zero page in a private anonymous VMA
    Swap,
    Guard,
};
std::optional<ObservedPageState> parseObservedPageState(const std::string& text);
// observe(addr, len, STATE): sets the pages as the faults that produced them would have (an
// anon page prepares the anon_vma; a page below a growsdown VMA grows it). No permission checks.
std::int64_t doObservePages(OpContext& c, Addr addr, std::uint64_t len, ObservedPageState state);
// open_mapped(PATH, "MAJ:MIN", INODE, SIZE, OFLAGS): an fd of the world's file with that device
// and inode (the one a snapshot's VMAs map), created when there is none; its size becomes SIZE.
// The handle (numbered from 2^20) is open in every process: recordings name a file once.
std::int64_t doOpenMapped(OpContext& c, const std::string& path, const std::string& dev, std::uint64_t inode,
                          std::uint64_t size, std::int64_t oflags);

// Detaches every VMA in [start, end), splitting the VMAs at the edges, zapping their page
// tables and freeing page-table pages no VMA needs (vms_gather_munmap_vmas() and
// vms_complete_munmap_vmas()). 0 or -ENOMEM.
int unmapRange(OpContext& c, Addr start, Addr end);

} // namespace vmalab
