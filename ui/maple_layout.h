#pragma once

#include "core/engine/world.h"

#include <QRectF>

#include <vector>

namespace vmalab::ui {

// A maple-tree picture of one address space (kernel-model.md §16), built by a rule.
//
// The kernel's node boundaries depend on the order of every store since exec and cannot be
// read from userspace, so the view does not claim them. It draws the tree a bulk build of
// today's ranges would give, following the kernel's node sizes:
//   1. The index space [0, ULONG_MAX] is cut into ranges: each VMA [vm_start, vm_end - 1], and
//      the NULL ranges between them (adjacent NULLs coalesce, as stores do).
//   2. Leaves (maple_leaf_64) take at most 16 ranges. n ranges go into ceil(n / 16) leaves,
//      spread evenly (each at least half full, as mas_split()/mas_rebalance() keep them);
//      a leaf never ends with a NULL range when the next range could end it instead (the
//      kernel avoids splitting after a NULL, mab_no_null_split()).
//   3. Internal nodes (maple_arange_64) take at most 10 children, spread evenly the same way,
//      level by level, until one root remains. Each slot keeps its child's last index as the
//      pivot and the largest NULL range below it as the gap (what mas_empty_area_rev() uses).
struct MapleRange
{
    Addr first = 0;
    Addr last = 0; // inclusive, as maple pivots are
    VmaId id = 0; // 0: a NULL range (a gap)
};

struct MapleNode
{
    bool leaf = true;
    int level = 0; // 0 = leaves
    Addr min = 0;
    Addr max = 0; // inclusive
    std::vector<MapleRange> ranges; // leaf slots
    std::vector<int> children; // internal slots: node indices
    std::vector<Addr> gaps; // internal slots: largest NULL range below (bytes)
};

struct MapleLayout
{
    std::vector<MapleNode> nodes; // leaves first, in order; the root is last
    int height = 0; // levels; 1 = the root is a leaf
    int root() const { return static_cast<int>(nodes.size()) - 1; }
};

constexpr int mapleLeafSlots = 16;
constexpr int mapleArangeSlots = 10;

// Splits n items into ceil(n / maxPerNode) groups whose sizes differ by at most one.
std::vector<int> evenSplit(int n, int maxPerNode);
MapleLayout buildMapleLayout(const Mm& mm);
MapleLayout buildMapleLayout(const std::vector<MapleRange>& ranges);
std::vector<MapleRange> mapleRanges(const Mm& mm);

// Where node i is drawn: levels top (root) to bottom (leaves); leaves side by side as
// columns of slot rows, internal nodes centred over their children.
struct MapleGeometry
{
    double leafWidth = 170;
    double slotHeight = 18;
    double internalSlotWidth = 64;
    double levelGap = 46;
    double margin = 10;
    double nodeGap = 14;
};
std::vector<QRectF> mapleNodeRects(const MapleLayout& layout, const MapleGeometry& g);
// The leaf and slot that hold `id`, or {-1, -1}.
std::pair<int, int> mapleFind(const MapleLayout& layout, VmaId id);

} // namespace vmalab::ui
