#include "ui/map_layout.h"

#include <algorithm>
#include <cmath>

namespace vmalab::ui {

double gapUnits(std::uint64_t pages, double cap)
{
    const double p = static_cast<double>(pages);
    if (p <= cap)
        return p;
    return cap * (1.0 + 0.12 * std::log2(p / cap));
}

namespace {

std::vector<std::pair<Addr, Addr>> unionOf(std::vector<std::pair<Addr, Addr>> ranges)
{
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<Addr, Addr>> out;
    for (const auto& r : ranges) {
        if (r.first >= r.second)
            continue;
        if (!out.empty() && r.first <= out.back().second)
            out.back().second = std::max(out.back().second, r.second);
        else
            out.push_back(r);
    }
    return out;
}

} // namespace

MapAxis buildAxis(std::vector<std::pair<Addr, Addr>> ranges, Addr low, Addr high)
{
    const auto merged = unionOf(std::move(ranges));
    std::uint64_t mappedPages = 0;
    for (const auto& r : merged)
        mappedPages += (r.second - r.first) >> pageShift;
    const double cap = std::max(16.0, 0.04 * static_cast<double>(mappedPages));

    MapAxis axis;
    double u = 0;
    auto add = [&](Addr s, Addr e, bool gap) {
        if (s >= e)
            return;
        const std::uint64_t pages = std::max<std::uint64_t>(1, (e - s) >> pageShift);
        const double w = gap ? gapUnits(pages, cap) : static_cast<double>(pages);
        axis.segments.push_back({ s, e, gap, gap && w < static_cast<double>(pages) - 0.5, u, u + w });
        u += w;
    };
    Addr at = std::min(low, merged.empty() ? low : merged.front().first);
    for (const auto& r : merged) {
        add(at, r.first, true);
        add(r.first, r.second, false);
        at = r.second;
    }
    add(at, std::max(high, at), true);
    if (axis.segments.empty())
        axis.segments.push_back({ low, high, true, false, 0.0, 1.0 });
    return axis;
}

double addrToUnit(const MapAxis& axis, Addr a)
{
    const auto& segs = axis.segments;
    if (segs.empty())
        return 0;
    if (a <= segs.front().start)
        return segs.front().u0;
    if (a >= segs.back().end)
        return segs.back().u1;
    auto it = std::upper_bound(segs.begin(), segs.end(), a, [](Addr x, const AxisSegment& s) { return x < s.end; });
    const AxisSegment& s = *it;
    const double f = static_cast<double>(a - s.start) / static_cast<double>(s.end - s.start);
    return s.u0 + f * (s.u1 - s.u0);
}

Addr unitToAddr(const MapAxis& axis, double u)
{
    const auto& segs = axis.segments;
    if (segs.empty())
        return 0;
    if (u <= segs.front().u0)
        return segs.front().start;
    if (u >= segs.back().u1)
        return segs.back().end;
    auto it = std::upper_bound(segs.begin(), segs.end(), u, [](double x, const AxisSegment& s) { return x < s.u1; });
    const AxisSegment& s = *it;
    const double f = (u - s.u0) / (s.u1 - s.u0);
    const Addr a = s.start + static_cast<Addr>(f * static_cast<double>(s.end - s.start));
    return std::clamp(pageAlignDown(a), s.start, s.end - 1);
}

double addrToPx(const MapAxis& axis, const Viewport& view, Addr a)
{
    return view.unitToPx(addrToUnit(axis, a));
}

Addr pxToAddr(const MapAxis& axis, const Viewport& view, double px)
{
    return unitToAddr(axis, view.pxToUnit(px));
}

Viewport fitUnits(double u0, double u1, double left, double width, double margin)
{
    Viewport v;
    v.left = left;
    v.width = std::max(1.0, width);
    const double span = std::max(1e-9, u1 - u0);
    const double inner = v.width * (1.0 - 2.0 * margin);
    v.pxPerUnit = std::min(maxPxPerPage, inner / span);
    v.u0 = u0 - (v.width / v.pxPerUnit - span) / 2.0;
    return v;
}

Viewport clampView(const Viewport& view, double totalUnits)
{
    Viewport v = view;
    const double minPx = v.width / std::max(1e-9, totalUnits) * 0.9;
    v.pxPerUnit = std::clamp(v.pxPerUnit, std::min(minPx, maxPxPerPage), maxPxPerPage);
    const double visible = v.width / v.pxPerUnit;
    if (visible >= totalUnits)
        v.u0 = (totalUnits - visible) / 2.0;
    else
        v.u0 = std::clamp(v.u0, 0.0, totalUnits - visible);
    return v;
}

Viewport zoomAt(const Viewport& view, double px, double factor, double totalUnits)
{
    Viewport v = view;
    const double anchor = view.pxToUnit(px);
    v.pxPerUnit = view.pxPerUnit * factor;
    v = clampView(v, totalUnits);
    v.u0 = anchor - (px - v.left) / v.pxPerUnit;
    return clampView(v, totalUnits);
}

Viewport centreOn(const Viewport& view, double u, double totalUnits)
{
    Viewport v = view;
    v.u0 = u - v.width / v.pxPerUnit / 2.0;
    return clampView(v, totalUnits);
}

LabelDetail labelDetail(double barWidthPx)
{
    if (barWidthPx < 28)
        return LabelDetail::None;
    if (barWidthPx < 110)
        return LabelDetail::Short;
    if (barWidthPx < 260)
        return LabelDetail::Medium;
    return LabelDetail::Full;
}

bool pageCellsVisible(double pxPerPage)
{
    return pxPerPage >= 4.0;
}

bool pageAddressesVisible(double pxPerPage)
{
    return pxPerPage >= 110.0;
}

RowGeometry rowGeometry(int row, double top, double rowHeight)
{
    RowGeometry g;
    g.top = top + row * rowHeight;
    g.barTop = g.top + 42; // the process header, then room for the "new"/"changed" badges
    g.stripHeight = std::clamp(rowHeight * 0.16, 12.0, 36.0);
    g.barHeight = std::max(24.0, rowHeight - 42 - 4 - g.stripHeight - 22);
    g.stripTop = g.barTop + g.barHeight + 4;
    g.bottom = g.top + rowHeight;
    return g;
}

MapHit hitTest(const MapAxis& axis, const Viewport& view, const std::vector<std::vector<SceneVma>>& rows, double top,
    double rowHeight, QPointF p)
{
    MapHit hit;
    if (rowHeight <= 0 || p.y() < top)
        return hit;
    const int row = static_cast<int>((p.y() - top) / rowHeight);
    if (row < 0 || row >= static_cast<int>(rows.size()))
        return hit;
    const RowGeometry g = rowGeometry(row, top, rowHeight);
    if (p.y() < g.barTop || p.y() > g.stripTop + g.stripHeight)
        return hit;
    hit.proc = row;
    hit.inStrip = p.y() >= g.stripTop;
    hit.addr = pxToAddr(axis, view, p.x());
    const auto& vmas = rows[static_cast<std::size_t>(row)];
    double best = 3.0; // pixels of slack for bars too thin to aim at
    for (const SceneVma& v : vmas) {
        const double x0 = addrToPx(axis, view, v.start);
        const double x1 = addrToPx(axis, view, v.end);
        if (p.x() >= x0 && p.x() < x1) {
            hit.id = v.id;
            return hit;
        }
        const double d = p.x() < x0 ? x0 - p.x() : p.x() - x1;
        if (x1 - x0 < 3.0 && d <= best) {
            best = d;
            hit.id = v.id;
            hit.addr = v.start;
        }
    }
    return hit;
}

QString hexText(std::uint64_t value)
{
    return QStringLiteral("0x") + QString::number(value, 16);
}

QString formatBytes(std::uint64_t bytes)
{
    static const char* units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0 || std::fabs(v - std::round(v)) < 0.05)
        return QString::number(static_cast<long long>(std::llround(v))) + QLatin1Char(' ') + QLatin1String(units[u]);
    return QString::number(v, 'f', v < 10 ? 1 : 0) + QLatin1Char(' ') + QLatin1String(units[u]);
}

bool parseAddress(const QString& text, Addr* out)
{
    QString t = text.trimmed().remove(QLatin1Char('_')).remove(QLatin1Char('\''));
    bool ok = false;
    Addr a = 0;
    if (t.startsWith(QLatin1String("0d"), Qt::CaseInsensitive))
        a = t.mid(2).toULongLong(&ok, 10);
    else if (t.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        a = t.mid(2).toULongLong(&ok, 16);
    else
        a = t.toULongLong(&ok, 16);
    if (ok && out)
        *out = a;
    return ok && !t.isEmpty();
}

} // namespace vmalab::ui
