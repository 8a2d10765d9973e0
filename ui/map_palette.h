#pragma once

#include "core/engine/world.h"

#include <QColor>

class QBrush;

namespace vmalab::ui {

// What a VMA is, for colouring: the categories a reader tells apart at a glance.
enum class VmaKind
{
    Anonymous,
    File,
    Shmem, // shmem-backed: memfd, MAP_SHARED|MAP_ANONYMOUS, tmpfs files
    Heap,
    Stack,
    Special, // [vdso], [vvar], VM_PFNMAP/VM_IO/VM_MIXEDMAP mappings
};

constexpr int vmaKindCount = 6;

VmaKind vmaKind(const World& world, const Mm& mm, const Vma& v);
const char* vmaKindName(VmaKind kind);

// What one page is, from its PTE (core/engine/world.h).
enum class PageKind
{
    None,
    Anon,
    ZeroPage,
    File,
    Swap,
    Guard,
};

constexpr int pageKindCount = 6;

PageKind pageKind(const Pte* pte);
const char* pageKindName(PageKind kind);

// Okabe–Ito colours, chosen so that the kinds stay distinct under the common forms of
// colour blindness; page states pair colour with pattern (guard: hatched) for the same reason.
QColor vmaKindColor(VmaKind kind);
QColor pageKindColor(PageKind kind);
QColor uffdWpColor();
QColor createdColor();
QColor changedColor();
QColor removedColor();
QColor selectionColor();
// COW-shared folios between a fork parent and child (links, the fork badge).
QColor forkColor();
// What differs between two profiles' runs.
QColor differenceColor();
// Black-on-yellow hazard stripes: a guard page must not look like any other page.
QBrush guardBrush();
// A text colour readable on `background`.
QColor textOn(const QColor& background);

} // namespace vmalab::ui
