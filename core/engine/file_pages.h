#pragma once

#include "core/engine/vma_merge.h"

#include <cstdint>
#include <string>
#include <utility>

namespace vmalab {

// Unmaps every present page-cache PTE of file pages [from, to) in every address space, as
// replacing or removing those folios does (unmap_mapping_range() without even_cows): private
// copy-on-write copies, zero pages and markers stay. Returns how many PTEs were unmapped.
std::uint64_t unmapFilePages(World& world, FileId file, PageOff from, PageOff to);

// The large folio (File::folioOrder) holding file page idx, as file pages [first, last);
// first == last when the page is in a small folio or not cached.
std::pair<PageOff, PageOff> largeFolioAt(const File& f, PageOff idx);

// File THPs mapped by a PMD (Pte::pmdMapped). Splitting a PMD that maps a file or shmem THP
// does not remap it with PTEs as for anonymous memory: the PMD is only cleared, so all 512
// pages of the block read back as none and fault again from the page cache (measured on 6.18,
// docs/kernel-findings.md).

// vma_adjust_trans_huge(): a VMA boundary about to be made or moved at `at`, inside a block
// the current process maps with a file PMD, splits that PMD first.
void splitFilePmdAt(OpContext& c, Addr at);
// __split_huge_pmd() of every file PMD that [start, end) touches, for the kernel path `caller`
// (a zap of part or all of it, a guard install, a move the PMD cannot follow).
void splitFilePmdsIn(OpContext& c, Addr start, Addr end, const std::string& caller, const std::string& why);
// The entries of [from, from + len) are about to move to `to` (move_page_tables()): a file PMD
// moves whole only when its block lies inside the range and lands 2 MiB aligned.
void splitFilePmdsForMove(OpContext& c, Addr from, std::uint64_t len, Addr to);

// split_folio() of the large folio holding file page idx into small folios, as MADV_COLD and
// MADV_PAGEOUT do to a folio they cover only in part: every mapping of it goes first
// (unmap_folio()). Returns false (nothing done) when the folio is small.
bool splitFileFolio(OpContext& c, FileId file, PageOff idx, const std::string& why);
// Truncation or a punched hole [from, to): a large folio cut by an edge of the range is split
// into naturally aligned buddies around that edge (try_folio_split_to_order()), unmapped
// everywhere; folios inside the range go with it.
void splitFoliosForHole(OpContext& c, FileId file, PageOff from, PageOff to);

// do_set_pmd() from a fault on the page at addr: when it lies in a PMD-size folio, the VMA
// covers the aligned block with a matching file offset, VM_NOHUGEPAGE does not refuse it and
// the PMD is none (no PTE table: a split file PMD leaves none, a zap of PTEs keeps the
// table), the whole block is mapped with one PMD.
bool mapFileThpByPmd(OpContext& c, const Vma& v, Addr addr);
// The addresses of the large folio holding the page at addr when the folio lies inside the
// VMA and one PTE table, as filemap_map_pages() and finish_fault() map it whole; {0, 0} when
// the page's folio is small or does not fit.
std::pair<Addr, Addr> wholeFolioRange(const File& f, const Vma& v, Addr addr);

// Whether the shmem page idx holds data reclaim cannot drop (it was written: the folio is
// dirty), and the mark a write leaves.
bool shmemPageDirty(const File& f, PageOff idx);
void markShmemDirty(File& f, PageOff from, PageOff to);

} // namespace vmalab
