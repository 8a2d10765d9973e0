#pragma once

#include "core/engine/world.h"
#include "ui/map_palette.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vmalab::ui {

// The x86-64 4-level page-table walk of an address range, as the page-tables pane shows it.
//
// The model keeps the PTEs (Mm::ptes) and which tables exist at each level (Mm::pteTables,
// pmdTables, pudTables): tables are allocated on the way down to an entry and freed by
// free_pgtables() once no VMA is left in their span, so an upper table can outlive every
// table below it. A file THP mapped by one PMD entry has no PTE table. P4D is folded into the
// PGD with 4-level paging: one entry per PGD entry, at the same index.
enum class PtLevel
{
    Pgd,
    P4d,
    Pud,
    Pmd,
    Pte,
};

const char* ptLevelName(PtLevel level);
// The index of `a` in the table of `level` (9 bits each; P4D folded: the PGD index).
unsigned ptIndex(PtLevel level, Addr a);
// Bytes one entry of `level` maps: 512 GiB, 512 GiB, 1 GiB, 2 MiB, 4 KiB.
std::uint64_t ptEntrySpan(PtLevel level);

// Where another process maps the same folio (COW-shared after fork): found, as the kernel's
// rmap does, by the VMA's root anon_vma and the page's linear index (vm_pgoff).
struct PtShare
{
    int proc = 0;
    VmaId vma = 0;
    Addr addr = 0;
};

// One entry of a table, or a run of consecutive entries with the same content (absent
// entries of upper levels; PTEs with the same state and sharing).
struct PtNode
{
    PtLevel level = PtLevel::Pgd;
    unsigned first = 0; // entry indices in the table, inclusive
    unsigned last = 0;
    Addr start = 0; // the addresses these entries cover, clipped to the walked range
    Addr end = 0;
    bool present = false; // upper levels: points to a table; PTE: holds an entry (page, swap, marker)
    bool huge = false;    // PMD level: maps a 2 MiB folio itself (pte describes it), no PTE table below
    Pte pte;              // PTE level, when present
    PageKind kind = PageKind::None;
    std::vector<PtShare> shared; // PTE level: the same folio in other processes
    std::vector<PtNode> children;

    unsigned count() const { return last - first + 1; }
};

struct PageTableWalk
{
    int proc = -1;
    Addr start = 0;
    Addr end = 0;
    std::vector<PtNode> roots; // PGD entries
    // Totals over the walked range.
    std::size_t pteTables = 0;  // PTE tables that exist
    std::size_t pmdTables = 0;  // PMD tables (one per present PUD entry)
    std::size_t pudTables = 0;  // PUD tables (one per present PGD entry)
    std::uint64_t pages[pageKindCount] = {};
    std::uint64_t uffdWpPages = 0;
    std::uint64_t cowSharedPages = 0; // present pages another process maps too
    std::vector<int> sharedWithProcs;
    bool truncated = false; // more PTE runs than maxNodes: the rest is not listed
};

// Walks [start, end) (page aligned) of process `proc`. At most `maxNodes` PTE-level nodes
// are made; absent upper-level entries are collapsed into runs.
PageTableWalk walkPageTables(const World& world, int proc, Addr start, Addr end, std::size_t maxNodes = 20000);

// The same folio in the other processes (empty when the page is not COW-shared).
std::vector<PtShare> sharedFolio(const World& world, int proc, Addr addr);

// Runs of pages that fork left COW-shared between two processes at the same address (a
// fork child keeps its parent's layout), for the map's links between rows.
struct CowLink
{
    int procA = 0; // procA < procB
    int procB = 0;
    Addr start = 0;
    Addr end = 0;
};
std::vector<CowLink> cowLinks(const World& world);

// The process a process was forked from, found through anon_vma_fork()'s parent links
// (World::anonVmaParent); -1 when none is known.
int forkParentOf(const World& world, int proc);

} // namespace vmalab::ui
