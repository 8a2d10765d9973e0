#pragma once

#include "core/engine/world.h"
#include "ui/map_palette.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace vmalab::ui {

// What differs between two states of the same scenario (two kernel profiles at the same
// operation), for the side-by-side profile view.
struct WorldDifference
{
    enum class Kind
    {
        VmaOnlyInA, // a VMA range one side has and the other does not (a merge, a split)
        VmaOnlyInB,
        VmaFlags,   // same range, different vm_flags
        VmaAnonVma, // same range, one has an anon_vma and the other not
        Pages,      // pages in a different state (guards copied or not at fork...)
        Stat,       // counters: VMAs, PTE tables, PTEs copied at fork, Rss
    };
    Kind kind = Kind::Stat;
    int proc = -1; // -1: the whole world
    Addr start = 0;
    Addr end = 0;
    QString text;
};

const char* differenceKindName(WorldDifference::Kind kind);

// Per-process counters compared by compareWorlds() and charted per profile.
struct MmCounters
{
    std::size_t vmas = 0;
    std::uint64_t pteTables = 0;
    std::uint64_t rssPages = 0;
    std::uint64_t guardPages = 0;
    std::uint64_t forkVmasPtCopied = 0;
    std::uint64_t forkPtesCopied = 0;
};
MmCounters mmCounters(const Mm& mm);

// Differences in process order, then address order. names label processes in the text,
// labelA/labelB the two sides ("v6.18", "maybe-guard").
std::vector<WorldDifference> compareWorlds(const World& a, const World& b, const QStringList& names,
    const QString& labelA, const QString& labelB);

// What one step changed, by VMA identity (not by range as compareWorlds() does): the
// address-space map animates these between the worlds before and after a step.
struct StepChange
{
    enum class Kind
    {
        Appeared, // a VMA id only after the step (mmap, the new half of a split)
        Disappeared, // only before it (munmap, the VMA a merge absorbed)
        Moved, // same id, another range (split's remaining half, a merge's survivor, mremap)
        Flags, // same id, other vm_flags or anon_vma
        Pages, // pages changed state (faulted, zapped, guard markers, COW copies)
    };
    Kind kind = Kind::Pages;
    int proc = 0;
    VmaId id = 0; // 0 for Pages
    Addr oldStart = 0; // the range before the step (Disappeared, Moved, Flags)
    Addr oldEnd = 0;
    Addr start = 0; // the range after it (Appeared, Moved, Flags, Pages)
    Addr end = 0;
};

// Changes in process order, then address order. Processes only in `after` (a fork child)
// report each of their VMAs as Appeared. Linear in the size of both worlds: the map asks
// for it only for worlds small enough to animate.
std::vector<StepChange> diffSteps(const World& before, const World& after);

} // namespace vmalab::ui
