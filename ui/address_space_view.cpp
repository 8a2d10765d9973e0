#include "ui/address_space_view.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace vmalab::ui {

namespace {

QColor blend(const QColor& a, const QColor& b, double t)
{
    return QColor::fromRgbF(static_cast<float>(a.redF() * (1 - t) + b.redF() * t),
        static_cast<float>(a.greenF() * (1 - t) + b.greenF() * t),
        static_cast<float>(a.blueF() * (1 - t) + b.blueF() * t));
}

bool wordMatches(
    const QString& w, const QString& name, const QString& perms, const QStringList& mnemonics, VmFlags flags)
{
    if (name.contains(w, Qt::CaseInsensitive))
        return true;
    // Perms are matched as a pattern from the left, so "r-x" finds "r-xp" but "x" alone
    // (a name search) does not match every executable mapping.
    if (w.size() >= 3 && perms.startsWith(w))
        return true;
    for (const QString& m : mnemonics)
        if (m.compare(w, Qt::CaseInsensitive) == 0)
            return true;
    const QString up = w.toUpper();
    const QString flagName = up.startsWith(QLatin1String("VM_")) ? up : QStringLiteral("VM_") + up;
    for (unsigned b = 0; b < 64; ++b)
        if ((flags & bit(b)) && flagName == QLatin1String(vmFlagName(b)))
            return true;
    return false;
}

} // namespace

bool vmaMatchesFilter(
    const QString& filter, const QString& name, const QString& perms, const QStringList& mnemonics, VmFlags flags)
{
    const QStringList words = filter.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString& w : words)
        if (!wordMatches(w, name, perms, mnemonics, flags))
            return false;
    return true;
}

AddressSpaceView::AddressSpaceView(QWidget* parent)
    : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAutoFillBackground(false);
}

void AddressSpaceView::setWorld(const World& world, const QStringList& processNames, const PositionChanges& changes)
{
    // Keep the address at the centre where it is while the axis is rebuilt.
    const bool had = m_viewSet && !m_axis.segments.empty();
    const Addr centre = had ? pxToAddr(m_axis, m_view, m_view.left + m_view.width / 2) : 0;
    const double pxPerPage = m_view.pxPerUnit;
    m_world = world;
    m_processNames = processNames;
    m_changes = changes;
    rebuildScene();
    if (had) {
        m_view.pxPerUnit = pxPerPage;
        m_view = centreOn(m_view, addrToUnit(m_axis, centre), m_axis.units());
    }
    if (!findDraw(m_selProc, m_selId)) {
        m_selProc = -1;
        m_selId = 0;
    }
    update();
}

void AddressSpaceView::rebuildScene()
{
    std::vector<std::pair<Addr, Addr>> ranges;
    m_rows.assign(m_world.procs.size(), {});
    m_draw.assign(m_world.procs.size(), {});
    Addr high = 0;
    for (std::size_t p = 0; p < m_world.procs.size(); ++p) {
        const Mm& mm = m_world.procs[p];
        high = std::max(high, mm.task_size);
        for (const auto& e : mm.vmas) {
            const Vma& v = e.second;
            ranges.emplace_back(v.vm_start, v.vm_end);
            m_rows[p].push_back({ static_cast<int>(p), v.id, v.vm_start, v.vm_end });
            DrawVma d;
            d.vma = v;
            d.kind = vmaKind(m_world, mm, v);
            d.name = QString::fromStdString(vmaName(m_world, mm, v));
            d.perms = QString::fromStdString(mapsPerms(v.vm_flags));
            for (const std::string& m : vmFlagMnemonics(v.vm_flags))
                d.mnemonics << QString::fromStdString(m);
            d.change = m_changes.created.count(v.id) ? 1 : m_changes.changed.count(v.id) ? 2 : 0;
            m_draw[p].push_back(std::move(d));
        }
    }
    for (const RemovedVma& r : m_changes.removed)
        ranges.emplace_back(r.vma.vm_start, r.vma.vm_end);
    m_axis = buildAxis(std::move(ranges), 0, high == 0 ? Addr { 0x7ffffffff000 } : high);
    applyFilter();
    if (!m_viewSet) {
        m_view = fitUnits(0, m_axis.units(), 8, std::max(100, width() - 16));
        m_viewSet = width() > 100;
        if (m_focusEnd > m_focusStart)
            fitAddrRange(m_focusStart, m_focusEnd);
    }
}

void AddressSpaceView::applyFilter()
{
    m_matches = 0;
    for (auto& row : m_draw)
        for (DrawVma& d : row) {
            d.match = vmaMatchesFilter(m_filter, d.name, d.perms, d.mnemonics, d.vma.vm_flags);
            m_matches += d.match ? 1 : 0;
        }
}

void AddressSpaceView::setFilter(const QString& filter)
{
    m_filter = filter;
    applyFilter();
    update();
}

void AddressSpaceView::setMarker(int proc, Addr addr)
{
    m_markerProc = proc;
    m_markerAddr = addr;
    update();
}

void AddressSpaceView::setFocusRange(Addr start, Addr end)
{
    m_focusStart = start;
    m_focusEnd = end;
}

const AddressSpaceView::DrawVma* AddressSpaceView::findDraw(int proc, VmaId id) const
{
    if (proc < 0 || proc >= static_cast<int>(m_draw.size()))
        return nullptr;
    for (const DrawVma& d : m_draw[static_cast<std::size_t>(proc)])
        if (d.vma.id == id)
            return &d;
    return nullptr;
}

void AddressSpaceView::setSelection(int proc, VmaId id, bool centre)
{
    m_selProc = proc;
    m_selId = id;
    if (centre) {
        if (const DrawVma* d = findDraw(proc, id)) {
            const double u0 = addrToUnit(m_axis, d->vma.vm_start);
            const double u1 = addrToUnit(m_axis, d->vma.vm_end);
            const double visible = m_view.width / m_view.pxPerUnit;
            if (u1 - u0 > visible * 0.9)
                fitAddrRange(d->vma.vm_start, d->vma.vm_end);
            else if (u0 < m_view.u0 || u1 > m_view.u1())
                m_view = centreOn(m_view, (u0 + u1) / 2, m_axis.units());
        }
    }
    update();
}

void AddressSpaceView::fitAddrRange(Addr start, Addr end)
{
    const double u0 = addrToUnit(m_axis, start);
    const double u1 = addrToUnit(m_axis, end);
    m_view = clampView(fitUnits(u0, u1, 8, std::max(100, width() - 16), 0.05), m_axis.units());
    update();
}

QString AddressSpaceView::lookupAddress(Addr addr)
{
    int proc = m_selProc >= 0 ? m_selProc : 0;
    auto mapsAddr = [&](int p) {
        return p >= 0 && p < static_cast<int>(m_world.procs.size())
            && m_world.procs[static_cast<std::size_t>(p)].vmaAt(addr) != nullptr;
    };
    if (!mapsAddr(proc))
        for (int p = 0; p < static_cast<int>(m_world.procs.size()); ++p)
            if (mapsAddr(p)) {
                proc = p;
                break;
            }
    if (proc >= static_cast<int>(m_world.procs.size()))
        return tr("no process");
    const Mm& mm = m_world.procs[static_cast<std::size_t>(proc)];
    const Vma* v = mm.vmaAt(addr);
    const Vma* prev = v ? mm.prevOf(*v) : mm.lastBefore(addr);
    const Vma* next = v ? mm.nextOf(*v) : mm.findVma(addr);
    const Addr from = prev ? prev->vm_start : (v ? v->vm_start : addr);
    const Addr to = next ? next->vm_end : (v ? v->vm_end : addr + pageSize);
    fitAddrRange(from, to);
    const QString who = proc < m_processNames.size() ? m_processNames[proc] : QString::number(proc);
    if (v) {
        setSelection(proc, v->id);
        Q_EMIT vmaSelected(proc, v->id);
        return tr("%1: %2 is in VMA #%3 [%4, %5) %6")
            .arg(who, hexText(addr))
            .arg(v->id)
            .arg(hexText(v->vm_start), hexText(v->vm_end), QString::fromStdString(mapsPerms(v->vm_flags)));
    }
    const Addr gs = prev ? prev->vm_end : 0;
    const Addr ge = next ? next->vm_start : mm.task_size;
    update();
    return tr("%1: %2 is not mapped: a gap of %3 between %4 and %5")
        .arg(who, hexText(addr), formatBytes(ge - gs), hexText(gs), hexText(ge));
}

double AddressSpaceView::rowHeight() const
{
    const double avail = height() - rowsTop() - legendHeight() - 6;
    const double n = std::max<double>(1, static_cast<double>(m_draw.size()));
    return std::clamp(avail / n, 110.0, 330.0);
}

void AddressSpaceView::zoomIn()
{
    m_view = zoomAt(m_view, m_view.left + m_view.width / 2, 1.6, m_axis.units());
    update();
}

void AddressSpaceView::zoomOut()
{
    m_view = zoomAt(m_view, m_view.left + m_view.width / 2, 1 / 1.6, m_axis.units());
    update();
}

void AddressSpaceView::fitAll()
{
    m_view = clampView(fitUnits(0, m_axis.units(), 8, std::max(100, width() - 16), 0.0), m_axis.units());
    update();
}

void AddressSpaceView::fitScenario()
{
    if (m_focusEnd > m_focusStart)
        fitAddrRange(m_focusStart, m_focusEnd);
    else
        fitAll();
}

void AddressSpaceView::resizeEvent(QResizeEvent*)
{
    const double oldWidth = m_view.width;
    m_view.left = 8;
    m_view.width = std::max(100, width() - 16);
    if (!m_viewSet && width() > 100 && !m_axis.segments.empty()) {
        m_viewSet = true;
        fitScenario();
    } else if (oldWidth > 0) {
        // Keep what was on show: scale so the same units span the new width.
        m_view.pxPerUnit *= m_view.width / oldWidth;
        m_view = clampView(m_view, m_axis.units());
    }
}

void AddressSpaceView::wheelEvent(QWheelEvent* event)
{
    const double delta = event->angleDelta().y() != 0 ? event->angleDelta().y() : event->angleDelta().x();
    // A continuous factor: touchpads send many small deltas, wheels 120 per notch (×1.25).
    m_view = zoomAt(m_view, event->position().x(), std::pow(1.0019, delta), m_axis.units());
    update();
    event->accept();
}

void AddressSpaceView::mousePressEvent(QMouseEvent* event)
{
    m_pressPos = event->position();
    m_pressU0 = m_view.u0;
    m_dragging = false;
    setFocus();
}

void AddressSpaceView::mouseMoveEvent(QMouseEvent* event)
{
    if (event->buttons() & Qt::LeftButton) {
        const double dx = event->position().x() - m_pressPos.x();
        if (std::abs(dx) > 3)
            m_dragging = true;
        if (m_dragging) {
            setCursor(Qt::ClosedHandCursor);
            m_view.u0 = m_pressU0 - dx / m_view.pxPerUnit;
            m_view = clampView(m_view, m_axis.units());
            update();
        }
        return;
    }
    const MapHit hit = hitTest(m_axis, m_view, m_rows, rowsTop(), rowHeight(), event->position());
    Q_EMIT hovered(describe(hit));
}

void AddressSpaceView::mouseReleaseEvent(QMouseEvent* event)
{
    unsetCursor();
    if (m_dragging || event->button() != Qt::LeftButton)
        return;
    const MapHit hit = hitTest(m_axis, m_view, m_rows, rowsTop(), rowHeight(), event->position());
    if (hit.proc >= 0 && hit.id != 0) {
        setSelection(hit.proc, hit.id);
        Q_EMIT vmaSelected(hit.proc, hit.id);
    }
}

void AddressSpaceView::mouseDoubleClickEvent(QMouseEvent* event)
{
    const MapHit hit = hitTest(m_axis, m_view, m_rows, rowsTop(), rowHeight(), event->position());
    if (const DrawVma* d = findDraw(hit.proc, hit.id))
        fitAddrRange(d->vma.vm_start, d->vma.vm_end);
}

void AddressSpaceView::keyPressEvent(QKeyEvent* event)
{
    const double step = m_view.width / m_view.pxPerUnit * 0.2;
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        zoomIn();
        return;
    case Qt::Key_Minus:
        zoomOut();
        return;
    case Qt::Key_0:
        fitAll();
        return;
    case Qt::Key_Left:
        m_view.u0 -= step;
        break;
    case Qt::Key_Right:
        m_view.u0 += step;
        break;
    default:
        QWidget::keyPressEvent(event);
        return;
    }
    m_view = clampView(m_view, m_axis.units());
    update();
}

QString AddressSpaceView::describe(const MapHit& hit) const
{
    if (hit.proc < 0)
        return {};
    const QString who = hit.proc < m_processNames.size() ? m_processNames[hit.proc] : QString::number(hit.proc);
    const DrawVma* d = findDraw(hit.proc, hit.id);
    if (!d)
        return tr("%1: %2 — unmapped").arg(who, hexText(hit.addr));
    const Mm& mm = m_world.procs[static_cast<std::size_t>(hit.proc)];
    QString text =
        tr("%1: VMA #%2 [%3, %4) %5 %6 %7 · %8")
            .arg(who)
            .arg(d->vma.id)
            .arg(hexText(d->vma.vm_start), hexText(d->vma.vm_end), d->perms,
                formatBytes(d->vma.vm_end - d->vma.vm_start),
                d->name.isEmpty() ? QStringLiteral("(anonymous)") : d->name, d->mnemonics.join(QLatin1Char(' ')));
    const Pte* pte = mm.ptes.find(hit.addr >> pageShift);
    text += tr("\npage %1: %2%3")
                .arg(hexText(hit.addr), QLatin1String(pageKindName(pageKind(pte))),
                    pte && pte->uffdWp ? tr(", uffd-wp") : QString());
    return text;
}

bool AddressSpaceView::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const MapHit hit = hitTest(m_axis, m_view, m_rows, rowsTop(), rowHeight(), help->pos());
        const QString text = describe(hit);
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

// ---- painting -------------------------------------------------------------------------------

void AddressSpaceView::paintEvent(QPaintEvent*)
{
    m_stats = {};
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (m_draw.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Run a scenario to see its address space"));
        return;
    }
    paintRuler(p);
    for (int r = 0; r < static_cast<int>(m_draw.size()); ++r)
        paintRow(p, r);
    paintLegend(p);
}

void AddressSpaceView::paintRuler(QPainter& p)
{
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const QFontMetrics fm(f);
    const double base = rowsTop() - 6;
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(QPointF(0, base), QPointF(width(), base));
    // Ticks at round addresses inside mapped ranges (a power-of-two number of pages apart,
    // at least a label's width), and at every segment start where there is room.
    const double labelWidth = fm.horizontalAdvance(QStringLiteral("0x7ffff7a00000")) + 16;
    std::uint64_t stepPages = 1;
    while (static_cast<double>(stepPages) * m_view.pxPerUnit < labelWidth && stepPages < (Addr { 1 } << 40))
        stepPages *= 2;
    const Addr step = stepPages << pageShift;
    std::vector<Addr> ticks;
    for (const AxisSegment& s : m_axis.segments) {
        if (m_view.unitToPx(s.u1) < 0 || m_view.unitToPx(s.u0) > width())
            continue;
        ticks.push_back(s.start);
        if (s.gap)
            continue;
        for (Addr a = (s.start + step - 1) / step * step; a < s.end; a += step)
            ticks.push_back(a);
    }
    std::sort(ticks.begin(), ticks.end());
    double lastRight = -1e9;
    p.setPen(palette().color(QPalette::Text));
    for (Addr a : ticks) {
        const double x = addrToPx(m_axis, m_view, a);
        if (x < 0 || x > width())
            continue;
        const QString label = hexText(a);
        const double w = fm.horizontalAdvance(label);
        if (x - w / 2 < lastRight + 12)
            continue;
        p.drawLine(QPointF(x, base - 4), QPointF(x, base + 4));
        p.drawText(QPointF(std::clamp(x - w / 2, 2.0, width() - w - 2), base - 7), label);
        lastRight = x + w / 2;
    }
}

void AddressSpaceView::paintRow(QPainter& p, int row)
{
    const RowGeometry g = rowGeometry(row, rowsTop(), rowHeight());
    const auto& draws = m_draw[static_cast<std::size_t>(row)];
    const Mm& mm = m_world.procs[static_cast<std::size_t>(row)];
    if (row % 2 == 1)
        p.fillRect(QRectF(0, g.top, width(), g.bottom - g.top), palette().color(QPalette::AlternateBase));
    // Row header.
    QFont hf = font();
    hf.setBold(true);
    p.setFont(hf);
    p.setPen(palette().color(QPalette::Text));
    const QString who = row < m_processNames.size() ? m_processNames[row] : QString::number(row);
    std::uint64_t rss = 0;
    mm.ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
        if (pte.state == PageState::Present && pte.kind != Pte::Kind::ZeroPage)
            rss += e - s;
    });
    p.drawText(QPointF(10, g.top + 16),
        tr("%1 · pid %2 · %3 VMAs · Rss %4").arg(who).arg(mm.pid).arg(mm.mapCount()).arg(formatBytes(rss * pageSize)));
    paintGaps(p, row, g);
    const Addr visLo = pxToAddr(m_axis, m_view, 0);
    const Addr visHi = pxToAddr(m_axis, m_view, width()) + pageSize;
    for (const DrawVma& d : draws) {
        if (d.vma.vm_end <= visLo || d.vma.vm_start >= visHi)
            continue;
        paintBar(p, d, g, row == m_selProc && d.vma.id == m_selId);
        paintPages(p, row, d, g);
    }
    paintRemoved(p, row, g);
    if (row == m_markerProc) {
        // A downward pointer over the address, through the bar and the strip.
        const double x = addrToPx(m_axis, m_view, m_markerAddr);
        if (x >= 0 && x <= width()) {
            p.setRenderHint(QPainter::Antialiasing, true);
            p.setPen(QPen(selectionColor(), 1.5, Qt::DashLine));
            p.drawLine(QPointF(x, g.barTop - 6), QPointF(x, g.stripTop + g.stripHeight + 4));
            QPainterPath tri;
            tri.moveTo(x - 7, g.barTop - 16);
            tri.lineTo(x + 7, g.barTop - 16);
            tri.lineTo(x, g.barTop - 4);
            tri.closeSubpath();
            p.fillPath(tri, selectionColor());
            p.setRenderHint(QPainter::Antialiasing, false);
        }
    }
}

void AddressSpaceView::paintGaps(QPainter& p, int row, const RowGeometry& g)
{
    const auto& draws = m_draw[static_cast<std::size_t>(row)];
    const Mm& mm = m_world.procs[static_cast<std::size_t>(row)];
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const QFontMetrics fm(f);
    const QColor line = palette().color(QPalette::Mid);
    auto gap = [&](Addr s, Addr e) {
        if (s >= e)
            return;
        const double x0 = std::max(-10.0, addrToPx(m_axis, m_view, s));
        const double x1 = std::min(width() + 10.0, addrToPx(m_axis, m_view, e));
        if (x1 <= x0 + 1)
            return;
        const double mid = g.barTop + g.barHeight / 2;
        QPen pen(line, 1, Qt::DashLine);
        p.setPen(pen);
        p.drawLine(QPointF(x0, mid), QPointF(x1, mid));
        // A break mark where the axis compresses the gap.
        for (const AxisSegment& seg : m_axis.segments) {
            if (!seg.compressed || seg.end <= s || seg.start >= e)
                continue;
            const double cx = m_view.unitToPx((seg.u0 + seg.u1) / 2);
            if (cx < x0 || cx > x1)
                continue;
            p.setPen(QPen(line, 1.5));
            p.drawLine(QPointF(cx - 5, mid + 8), QPointF(cx - 1, mid - 8));
            p.drawLine(QPointF(cx + 1, mid + 8), QPointF(cx + 5, mid - 8));
        }
        const QString label = tr("gap %1").arg(formatBytes(e - s));
        const double w = fm.horizontalAdvance(label);
        if (x1 - x0 > w + 16) {
            const double cx = std::clamp((x0 + x1) / 2, x0 + w / 2 + 4, x1 - w / 2 - 4);
            const QRectF r(cx - w / 2 - 3, mid - fm.height() - 10, w + 6, fm.height());
            p.setPen(palette().color(QPalette::PlaceholderText));
            p.drawText(r, Qt::AlignCenter, label);
            ++m_stats.gapLabels;
        }
    };
    Addr at = m_axis.segments.empty() ? 0 : m_axis.segments.front().start;
    for (const DrawVma& d : draws) {
        gap(at, d.vma.vm_start);
        at = d.vma.vm_end;
    }
    gap(at, mm.task_size);
}

void AddressSpaceView::paintBar(QPainter& p, const DrawVma& d, const RowGeometry& g, bool selected)
{
    const double x0 = addrToPx(m_axis, m_view, d.vma.vm_start);
    const double x1 = addrToPx(m_axis, m_view, d.vma.vm_end);
    const QRectF bar(x0, g.barTop, std::max(1.0, x1 - x0), g.barHeight);
    QColor fill = vmaKindColor(d.kind);
    // No access at all (a reservation): pale, so what is usable stands out.
    const bool none = (d.vma.vm_flags & VM_ACCESS_FLAGS) == 0;
    if (none)
        fill = blend(fill, Qt::white, 0.7);
    if (!d.match)
        fill = blend(fill, palette().color(QPalette::Base), 0.8);
    p.fillRect(bar, fill);
    if (none && bar.width() > 6) {
        p.fillRect(bar, QBrush(blend(fill, Qt::black, 0.25), Qt::FDiagPattern));
    }
    ++m_stats.bars;
    p.setPen(QPen(blend(fill, Qt::black, 0.45), 1));
    p.drawRect(bar.adjusted(0, 0, -1, -1));

    // Changes made by the current step: created solid, changed dashed (shape, not only colour).
    if (d.change != 0) {
        QPen pen(d.change == 1 ? createdColor() : changedColor(), 3.5, d.change == 1 ? Qt::SolidLine : Qt::DashLine);
        p.setPen(pen);
        p.drawRect(bar.adjusted(-1.5, -1.5, 1.5, 1.5));
        QFont bf = font();
        bf.setPointSizeF(bf.pointSizeF() * 0.8);
        bf.setBold(true);
        p.setFont(bf);
        const QString badge = d.change == 1 ? tr("new") : tr("changed");
        const QFontMetrics fm(bf);
        // Only where it fits above its own bar: the outline already tells the story.
        const double bw = fm.horizontalAdvance(badge) + 8;
        if (x1 - x0 >= bw) {
            const QRectF br(std::max(x0, 0.0), g.barTop - fm.height() - 4, bw, fm.height());
            p.fillRect(br, d.change == 1 ? createdColor() : changedColor());
            p.setPen(Qt::white);
            p.drawText(br, Qt::AlignCenter, badge);
        }
    }
    if (selected) {
        p.setPen(QPen(selectionColor(), 3));
        p.drawRect(bar.adjusted(-4, -4, 4, 4));
    }

    const LabelDetail lod = labelDetail(x1 - x0);
    if (lod == LabelDetail::None)
        return;
    const double pad = lod == LabelDetail::Short ? 2 : 5;
    const QRectF visible = bar.intersected(QRectF(0, 0, width(), height())).adjusted(pad, 3, -pad, -3);
    if (visible.width() < 18)
        return;
    QString name = d.name.isEmpty() ? tr("[anon]") : d.name;
    if (name.startsWith(QLatin1Char('/')) && lod != LabelDetail::Full)
        name = name.section(QLatin1Char('/'), -1);
    QStringList lines;
    switch (lod) {
    case LabelDetail::Short:
        lines << (d.name.isEmpty() ? d.perms.left(3) : name);
        break;
    case LabelDetail::Medium:
        lines << name << d.perms + QStringLiteral("  ") + formatBytes(d.vma.vm_end - d.vma.vm_start);
        break;
    case LabelDetail::Full:
        lines << QStringLiteral("%1   #%2").arg(name).arg(d.vma.id)
              << d.perms + QStringLiteral("  ") + formatBytes(d.vma.vm_end - d.vma.vm_start) + QStringLiteral("  ")
                + hexText(d.vma.vm_start) + QStringLiteral("–") + hexText(d.vma.vm_end);
        if (g.barHeight >= 54)
            lines << d.mnemonics.join(QLatin1Char(' '));
        break;
    case LabelDetail::None:
        break;
    }
    QFont lf = font();
    p.setFont(lf);
    const QFontMetrics fm(lf);
    const int maxLines = std::max(1, static_cast<int>(visible.height() / fm.height()));
    while (lines.size() > maxLines)
        lines.removeLast();
    p.setPen(d.match ? textOn(fill) : palette().color(QPalette::PlaceholderText));
    QStringList elided;
    for (const QString& l : lines)
        elided << fm.elidedText(l, Qt::ElideRight, static_cast<int>(visible.width()));
    p.drawText(visible, Qt::AlignLeft | Qt::AlignVCenter, elided.join(QLatin1Char('\n')));
    ++m_stats.labels;
}

void AddressSpaceView::paintPages(QPainter& p, int row, const DrawVma& d, const RowGeometry& g)
{
    const Mm& mm = m_world.procs[static_cast<std::size_t>(row)];
    const double pxPerPage = m_view.pxPerUnit;
    const Addr visLo = std::max(d.vma.vm_start, pxToAddr(m_axis, m_view, -2));
    const Addr visHi = std::min(d.vma.vm_end, pxToAddr(m_axis, m_view, width() + 2) + pageSize);
    if (visLo >= visHi)
        return;
    const double x0 = addrToPx(m_axis, m_view, visLo);
    const double x1 = addrToPx(m_axis, m_view, visHi);
    const QRectF strip(x0, g.stripTop, std::max(1.0, x1 - x0), g.stripHeight);
    p.fillRect(strip, pageKindColor(PageKind::None));
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawRect(strip.adjusted(0, 0, -1, -1));
    mm.ptes.forEach(visLo >> pageShift, visHi >> pageShift, [&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
        const PageKind k = pageKind(&pte);
        const double rx0 = addrToPx(m_axis, m_view, s << pageShift);
        const double rx1 = addrToPx(m_axis, m_view, e << pageShift);
        const QRectF r(rx0, g.stripTop, std::max(1.5, rx1 - rx0), g.stripHeight);
        if (k == PageKind::Guard) {
            // Hazard stripes in black on yellow: nothing else on the map looks like this.
            p.fillRect(r, QColor(0xf0, 0xe4, 0x42));
            p.fillRect(r, guardBrush());
            p.setPen(QPen(Qt::black, 2));
            p.drawRect(r.adjusted(1, 1, -1, -1));
            ++m_stats.guardRuns;
        } else if (k != PageKind::None) {
            p.fillRect(r, pageKindColor(k));
        }
        if (pte.uffdWp)
            p.fillRect(QRectF(r.x(), r.y(), r.width(), 4), uffdWpColor());
        ++m_stats.pageRuns;
    });
    if (pageCellsVisible(pxPerPage)) {
        // Page boundaries, so single pages can be counted.
        p.setPen(QPen(palette().color(QPalette::Base), 1));
        for (Addr a = visLo + pageSize; a < visHi; a += pageSize) {
            const double x = addrToPx(m_axis, m_view, a);
            p.drawLine(QPointF(x, g.stripTop + 1), QPointF(x, g.stripTop + g.stripHeight - 1));
        }
    }
    if (pageAddressesVisible(pxPerPage)) {
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 0.75);
        p.setFont(f);
        p.setPen(palette().color(QPalette::Text));
        for (Addr a = visLo; a < visHi; a += pageSize) {
            const double x = addrToPx(m_axis, m_view, a);
            const Pte* pte = mm.ptes.find(a >> pageShift);
            p.drawText(QRectF(x + 3, g.stripTop + g.stripHeight + 1, pxPerPage - 6, 14), Qt::AlignLeft,
                hexText(a) + QStringLiteral(" ") + QLatin1String(pageKindName(pageKind(pte))));
        }
    }
}

void AddressSpaceView::paintRemoved(QPainter& p, int row, const RowGeometry& g)
{
    for (const RemovedVma& r : m_changes.removed) {
        // Drawn only where nothing took its place: a VMA replaced or absorbed shows as changed.
        if (r.proc != row || m_world.procs[static_cast<std::size_t>(row)].anyVmaIn(r.vma.vm_start, r.vma.vm_end))
            continue;
        // Still present under another identity at the same place (a merge): the surviving
        // VMA is marked changed; draw the removed one as a dashed outline only.
        const double x0 = addrToPx(m_axis, m_view, r.vma.vm_start);
        const double x1 = addrToPx(m_axis, m_view, r.vma.vm_end);
        const QRectF box(x0, g.barTop + g.barHeight * 0.15, std::max(2.0, x1 - x0), g.barHeight * 0.7);
        p.setPen(QPen(removedColor(), 2.5, Qt::DotLine));
        p.setBrush(Qt::NoBrush);
        p.drawRect(box);
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 0.8);
        f.setBold(true);
        p.setFont(f);
        const QFontMetrics fm(f);
        const QString label = tr("removed #%1").arg(r.vma.id);
        if (x1 - x0 > fm.horizontalAdvance(label) + 8
            && !m_world.procs[static_cast<std::size_t>(row)].anyVmaIn(r.vma.vm_start, r.vma.vm_end)) {
            p.setPen(removedColor());
            p.drawText(box, Qt::AlignCenter, label);
        }
    }
}

void AddressSpaceView::paintLegend(QPainter& p)
{
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const QFontMetrics fm(f);
    double y = height() - legendHeight() + 4;
    double x = 10;
    auto item = [&](const QBrush& b, const QColor& under, const QString& label) {
        const double w = 21 + fm.horizontalAdvance(label) + 14;
        if (x + w > width() && x > 10) {
            x = 10;
            y += 20;
        }
        const QRectF sw(x, y + 3, 16, 12);
        if (under.isValid())
            p.fillRect(sw, under);
        p.fillRect(sw, b);
        p.setPen(palette().color(QPalette::Mid));
        p.drawRect(sw);
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QPointF(x + 21, y + 14), label);
        x += w;
    };
    for (int k = 0; k < vmaKindCount; ++k)
        item(
            vmaKindColor(static_cast<VmaKind>(k)), QColor(), QString::fromLatin1(vmaKindName(static_cast<VmaKind>(k))));
    item(QBrush(blend(vmaKindColor(VmaKind::Anonymous), Qt::black, 0.25), Qt::FDiagPattern),
        blend(vmaKindColor(VmaKind::Anonymous), Qt::white, 0.7), tr("no access (---p)"));
    x = 10;
    y += 20;
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QPointF(x, y + 14), tr("pages:"));
    x += fm.horizontalAdvance(tr("pages:")) + 8;
    for (PageKind k : { PageKind::None, PageKind::Anon, PageKind::ZeroPage, PageKind::File, PageKind::Swap })
        item(pageKindColor(k), QColor(), QString::fromLatin1(pageKindName(k)));
    item(guardBrush(), QColor(0xf0, 0xe4, 0x42), tr("guard marker"));
    item(uffdWpColor(), QColor(), tr("uffd-wp"));
}

} // namespace vmalab::ui
