#pragma once

#include "core/engine/world.h"

#include <QPointF>
#include <QString>

#include <cstdint>
#include <utility>
#include <vector>

namespace vmalab::ui {

// The address-space map's geometry, apart from painting so tests can check it without drawing.
//
// The user address space is 128 TiB and a scenario's VMAs cover a few MiB of it, so the map
// cannot be to scale. Addresses go through an axis of "units": inside mapped ranges one page
// is one unit (to scale); a gap up to `cap` pages is to scale too, a larger one is compressed
// to cap * (1 + 0.12 * log2(pages / cap)) units, so a bigger gap still looks bigger, is drawn
// with a break mark and labelled with its true size. Every process shares one axis (built
// from the union of their ranges), so a parent and its fork child line up.
struct AxisSegment
{
    Addr start = 0;
    Addr end = 0;
    bool gap = false;
    bool compressed = false; // a gap drawn shorter than its size
    double u0 = 0;
    double u1 = 0;
};

struct MapAxis
{
    std::vector<AxisSegment> segments; // in address order, covering [low, high)
    double units() const { return segments.empty() ? 0.0 : segments.back().u1; }
};

double gapUnits(std::uint64_t pages, double cap);
// `ranges` need not be sorted or disjoint; [low, high) is the whole span shown.
MapAxis buildAxis(std::vector<std::pair<Addr, Addr>> ranges, Addr low, Addr high);
double addrToUnit(const MapAxis& axis, Addr a);
Addr unitToAddr(const MapAxis& axis, double u); // page aligned inside mapped ranges

// Which part of the axis is on screen: unit u0 at pixel `left`, pxPerUnit pixels per unit.
struct Viewport
{
    double u0 = 0;
    double pxPerUnit = 1;
    double left = 0;
    double width = 0;
    double unitToPx(double u) const { return left + (u - u0) * pxPerUnit; }
    double pxToUnit(double px) const { return u0 + (px - left) / pxPerUnit; }
    double u1() const { return u0 + width / pxPerUnit; }
};

constexpr double maxPxPerPage = 400.0; // a single page fills a third of a laptop screen

double addrToPx(const MapAxis& axis, const Viewport& view, Addr a);
Addr pxToAddr(const MapAxis& axis, const Viewport& view, double px);
// [u0, u1] fills the width, less a margin on both sides.
Viewport fitUnits(double u0, double u1, double left, double width, double margin = 0.03);
// Zooms by `factor` keeping the unit under pixel `px` where it is; pxPerUnit stays within
// [the whole axis fits, maxPxPerPage].
Viewport zoomAt(const Viewport& view, double px, double factor, double totalUnits);
// Keeps the view over the axis (no panning into nothing).
Viewport clampView(const Viewport& view, double totalUnits);
Viewport centreOn(const Viewport& view, double u, double totalUnits);

// Level of detail: what a VMA bar of a given on-screen width has room to say.
enum class LabelDetail
{
    None, // too narrow for text
    Short, // the name (or perms when unnamed)
    Medium, // name, perms, size
    Full, // also the address range and the smaps flags
};
LabelDetail labelDetail(double barWidthPx);
// Pages are drawn as separate cells once each is this wide; below that, as runs to scale.
bool pageCellsVisible(double pxPerPage);
// The page strip shows per-page addresses at this zoom.
bool pageAddressesVisible(double pxPerPage);

// One process row: a header line, the VMA bars, the page strip under them.
struct RowGeometry
{
    double top = 0;
    double barTop = 0;
    double barHeight = 0;
    double stripTop = 0;
    double stripHeight = 0;
    double bottom = 0;
};
RowGeometry rowGeometry(int row, double top, double rowHeight);

// A VMA as the map sees it.
struct SceneVma
{
    int proc = 0;
    VmaId id = 0;
    Addr start = 0;
    Addr end = 0;
};

struct MapHit
{
    int proc = -1; // -1: outside every row
    VmaId id = 0; // 0: a gap
    Addr addr = 0; // the address under the point (page aligned)
    bool inStrip = false; // on the page strip rather than the bar
};
// rows[i] holds process i's VMAs in address order. A bar narrower than 3 pixels is hit
// within 3 pixels, so tiny VMAs stay clickable at full zoom-out.
MapHit hitTest(const MapAxis& axis, const Viewport& view, const std::vector<std::vector<SceneVma>>& rows, double top,
    double rowHeight, QPointF p);

// "0x7ffff7a00000".
QString hexText(std::uint64_t value);
// "4 KiB", "1.5 MiB", "42 TiB".
QString formatBytes(std::uint64_t bytes);
// Parses "0x7ffff7a00000", "7ffff7a00000" or a decimal number with a 0d prefix; false on junk.
bool parseAddress(const QString& text, Addr* out);

} // namespace vmalab::ui
