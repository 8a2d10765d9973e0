#include "ui/maple_layout.h"

#include <algorithm>

namespace vmalab::ui {

std::vector<int> evenSplit(int n, int maxPerNode)
{
    std::vector<int> out;
    if (n <= 0)
        return out;
    const int groups = (n + maxPerNode - 1) / maxPerNode;
    for (int i = 0; i < groups; ++i)
        out.push_back(n / groups + (i < n % groups ? 1 : 0));
    return out;
}

std::vector<MapleRange> mapleRanges(const Mm& mm)
{
    std::vector<MapleRange> out;
    Addr at = 0;
    for (const auto& e : mm.vmas) {
        const Vma& v = e.second;
        if (v.vm_start > at)
            out.push_back({ at, v.vm_start - 1, 0 });
        out.push_back({ v.vm_start, v.vm_end - 1, v.id });
        at = v.vm_end;
    }
    out.push_back({ at, ~Addr { 0 }, 0 });
    return out;
}

namespace {

Addr largestGap(const std::vector<MapleRange>& ranges)
{
    Addr best = 0;
    for (const MapleRange& r : ranges)
        if (r.id == 0)
            best = std::max(best, r.last - r.first + (r.last == ~Addr { 0 } ? 0 : 1));
    return best;
}

} // namespace

MapleLayout buildMapleLayout(const std::vector<MapleRange>& ranges)
{
    MapleLayout layout;
    // Leaves.
    std::vector<int> sizes = evenSplit(static_cast<int>(ranges.size()), mapleLeafSlots);
    // No leaf but the last ends with a NULL range: give that NULL to the next leaf.
    int start = 0;
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
        const int end = start + sizes[i];
        if (ranges[static_cast<std::size_t>(end - 1)].id == 0 && sizes[i] > mapleLeafSlots / 2
            && sizes[i + 1] < mapleLeafSlots) {
            --sizes[i];
            ++sizes[i + 1];
        }
        start += sizes[i];
    }
    start = 0;
    std::vector<int> level;
    for (int size : sizes) {
        MapleNode n;
        n.ranges.assign(ranges.begin() + start, ranges.begin() + start + size);
        n.min = n.ranges.front().first;
        n.max = n.ranges.back().last;
        level.push_back(static_cast<int>(layout.nodes.size()));
        layout.nodes.push_back(std::move(n));
        start += size;
    }
    layout.height = 1;
    // Internal levels until one root.
    while (level.size() > 1) {
        std::vector<int> next;
        std::size_t at = 0;
        for (int size : evenSplit(static_cast<int>(level.size()), mapleArangeSlots)) {
            MapleNode n;
            n.leaf = false;
            n.level = layout.height;
            for (int k = 0; k < size; ++k) {
                const int child = level[at++];
                n.children.push_back(child);
                const MapleNode& c = layout.nodes[static_cast<std::size_t>(child)];
                Addr gap = 0;
                if (c.leaf)
                    gap = largestGap(c.ranges);
                else
                    for (Addr g : c.gaps)
                        gap = std::max(gap, g);
                n.gaps.push_back(gap);
            }
            n.min = layout.nodes[static_cast<std::size_t>(n.children.front())].min;
            n.max = layout.nodes[static_cast<std::size_t>(n.children.back())].max;
            next.push_back(static_cast<int>(layout.nodes.size()));
            layout.nodes.push_back(std::move(n));
        }
        level = std::move(next);
        ++layout.height;
    }
    return layout;
}

MapleLayout buildMapleLayout(const Mm& mm)
{
    return buildMapleLayout(mapleRanges(mm));
}

std::vector<QRectF> mapleNodeRects(const MapleLayout& layout, const MapleGeometry& g)
{
    std::vector<QRectF> rects(layout.nodes.size());
    const double internalHeight = g.slotHeight * 2.4;
    // Leaves on the bottom row, left to right.
    const double leafTop = g.margin + (layout.height - 1) * (internalHeight + g.levelGap);
    double x = g.margin;
    for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
        const MapleNode& n = layout.nodes[i];
        if (!n.leaf)
            continue;
        rects[i] = QRectF(x, leafTop, g.leafWidth, g.slotHeight * static_cast<double>(n.ranges.size()) + g.slotHeight);
        x += g.leafWidth + g.nodeGap;
    }
    // Internal nodes above, centred over their children (children come earlier in the list).
    for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
        const MapleNode& n = layout.nodes[i];
        if (n.leaf)
            continue;
        const QRectF& first = rects[static_cast<std::size_t>(n.children.front())];
        const QRectF& last = rects[static_cast<std::size_t>(n.children.back())];
        const double w = g.internalSlotWidth * static_cast<double>(n.children.size());
        const double cx = (first.left() + last.right()) / 2;
        const double top = g.margin + (layout.height - 1 - n.level) * (internalHeight + g.levelGap);
        rects[i] = QRectF(std::max(g.margin, cx - w / 2), top, w, internalHeight);
    }
    return rects;
}

std::pair<int, int> mapleFind(const MapleLayout& layout, VmaId id)
{
    for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
        const MapleNode& n = layout.nodes[i];
        for (std::size_t s = 0; s < n.ranges.size(); ++s)
            if (n.ranges[s].id == id && id != 0)
                return { static_cast<int>(i), static_cast<int>(s) };
    }
    return { -1, -1 };
}

} // namespace vmalab::ui
