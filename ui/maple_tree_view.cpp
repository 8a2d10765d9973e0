#include "ui/maple_tree_view.h"

#include "core/vm_flags.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"

#include <QMouseEvent>
#include <QPainter>

namespace vmalab::ui {

namespace {

constexpr double headerHeight = 40;

QString shortHex(Addr a)
{
    return a == ~Addr { 0 } ? QStringLiteral("ULONG_MAX") : QStringLiteral("0x") + QString::number(a, 16);
}

} // namespace

MapleTreeView::MapleTreeView(QWidget* parent)
    : QWidget(parent)
{
    QFont f = font();
    m_geometry.slotHeight = QFontMetrics(f).height() + 5;
    m_geometry.leafWidth = QFontMetrics(f).horizontalAdvance(QStringLiteral("#000 rw-p 1.9 MiB")) + 16;
    m_geometry.internalSlotWidth = QFontMetrics(f).horizontalAdvance(QStringLiteral("0x7ffff7a00000")) + 10;
}

void MapleTreeView::setWorld(const World& world, const QStringList& processNames)
{
    m_world = world;
    m_processNames = processNames;
    if (m_proc >= static_cast<int>(m_world.procs.size()))
        m_proc = 0;
    rebuild();
}

void MapleTreeView::setSelection(int proc, VmaId id)
{
    if (proc >= 0 && proc < static_cast<int>(m_world.procs.size()) && proc != m_proc) {
        m_proc = proc;
        m_selId = id;
        rebuild();
        return;
    }
    m_selId = id;
    rebuild();
}

void MapleTreeView::rebuild()
{
    m_layout =
        m_world.procs.empty() ? MapleLayout {} : buildMapleLayout(m_world.procs[static_cast<std::size_t>(m_proc)]);
    MapleGeometry g = m_geometry;
    g.margin = 10;
    m_rects = mapleNodeRects(m_layout, g);
    for (QRectF& r : m_rects)
        r.translate(0, headerHeight);
    // The path from the root to the selected VMA's leaf.
    m_onPath.assign(m_layout.nodes.size(), false);
    const auto [leaf, slot] = mapleFind(m_layout, m_selId);
    (void)slot;
    if (leaf >= 0) {
        m_onPath[static_cast<std::size_t>(leaf)] = true;
        for (std::size_t i = 0; i < m_layout.nodes.size(); ++i)
            for (int c : m_layout.nodes[i].children)
                if (m_onPath[static_cast<std::size_t>(c)])
                    m_onPath[i] = true;
    }
    updateGeometry();
    const QSize s = sizeHint();
    setMinimumSize(s);
    update();
}

QSize MapleTreeView::sizeHint() const
{
    QRectF all;
    for (const QRectF& r : m_rects)
        all = all.united(r);
    return { static_cast<int>(all.right()) + 20, static_cast<int>(all.bottom()) + 20 };
}

void MapleTreeView::paintEvent(QPaintEvent*)
{
    m_selectionDrawn = false;
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (m_layout.nodes.empty())
        return;
    int vmas = 0;
    for (const MapleNode& n : m_layout.nodes)
        for (const MapleRange& r : n.ranges)
            vmas += r.id != 0 ? 1 : 0;
    const int leaves = static_cast<int>(
        std::count_if(m_layout.nodes.begin(), m_layout.nodes.end(), [](const MapleNode& n) { return n.leaf; }));
    p.setPen(palette().color(QPalette::Text));
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    const QString who = m_proc < m_processNames.size() ? m_processNames[m_proc] : QString::number(m_proc);
    p.drawText(QPointF(10, 16),
        tr("%1: mm_mt with %2 VMAs in %3 leaves, height %4").arg(who).arg(vmas).arg(leaves).arg(m_layout.height));
    p.setFont(font());
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QPointF(10, 33),
        tr("Layout by rule (node sizes as the kernel's: leaf 16 slots, arange_64 10 slots with gaps); "
           "the kernel's real node boundaries depend on its store history."));
    p.setRenderHint(QPainter::Antialiasing, true);
    // Edges first, so nodes paint over them.
    for (std::size_t i = 0; i < m_layout.nodes.size(); ++i) {
        const MapleNode& n = m_layout.nodes[i];
        const QRectF& r = m_rects[i];
        for (std::size_t s = 0; s < n.children.size(); ++s) {
            const int c = n.children[s];
            const QRectF& cr = m_rects[static_cast<std::size_t>(c)];
            const QPointF from(r.left() + m_geometry.internalSlotWidth * (static_cast<double>(s) + 0.5), r.bottom());
            const bool path = m_onPath[i] && m_onPath[static_cast<std::size_t>(c)];
            p.setPen(QPen(path ? selectionColor() : palette().color(QPalette::Mid), path ? 2.5 : 1));
            p.drawLine(from, QPointF(cr.center().x(), cr.top()));
        }
    }
    p.setRenderHint(QPainter::Antialiasing, false);
    for (std::size_t i = 0; i < m_layout.nodes.size(); ++i) {
        const MapleNode& n = m_layout.nodes[i];
        if (n.leaf)
            paintLeaf(p, n, m_rects[i]);
        else
            paintInternal(p, n, m_rects[i], m_onPath[i]);
    }
}

void MapleTreeView::paintInternal(QPainter& p, const MapleNode& n, const QRectF& r, bool onPath)
{
    p.fillRect(r, palette().color(QPalette::AlternateBase));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p.setFont(small);
    for (std::size_t s = 0; s < n.children.size(); ++s) {
        const QRectF slot(r.left() + m_geometry.internalSlotWidth * static_cast<double>(s), r.top(),
            m_geometry.internalSlotWidth, r.height());
        p.setPen(palette().color(QPalette::Mid));
        p.drawRect(slot);
        p.setPen(palette().color(QPalette::Text));
        const Addr pivot =
            s + 1 < n.children.size() ? m_layout.nodes[static_cast<std::size_t>(n.children[s])].max : n.max;
        p.drawText(slot.adjusted(3, 2, -3, -slot.height() / 2), Qt::AlignLeft | Qt::AlignVCenter, shortHex(pivot));
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(slot.adjusted(3, slot.height() / 2, -3, -2), Qt::AlignLeft | Qt::AlignVCenter,
            tr("gap %1").arg(formatBytes(n.gaps[s])));
    }
    p.setPen(QPen(onPath ? selectionColor() : palette().color(QPalette::Text), onPath ? 2.5 : 1.2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(r);
    p.setFont(font());
}

void MapleTreeView::paintLeaf(QPainter& p, const MapleNode& n, const QRectF& r)
{
    const Mm& mm = m_world.procs[static_cast<std::size_t>(m_proc)];
    const double h = m_geometry.slotHeight;
    p.fillRect(QRectF(r.left(), r.top(), r.width(), h), palette().color(QPalette::AlternateBase));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p.setFont(small);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRectF(r.left() + 4, r.top(), r.width() - 8, h), Qt::AlignLeft | Qt::AlignVCenter,
        tr("leaf · %1/16 slots").arg(n.ranges.size()));
    p.setFont(font());
    for (std::size_t s = 0; s < n.ranges.size(); ++s) {
        const MapleRange& range = n.ranges[s];
        const QRectF slot(r.left(), r.top() + h * static_cast<double>(s + 1), r.width(), h);
        const Vma* v = range.id ? mm.vmaAt(range.first) : nullptr;
        if (v) {
            const QColor c = vmaKindColor(vmaKind(m_world, mm, *v));
            p.fillRect(QRectF(slot.left() + 1, slot.top() + 2, 8, slot.height() - 4), c);
            p.setPen(palette().color(QPalette::Text));
            p.drawText(slot.adjusted(14, 0, -4, 0), Qt::AlignLeft | Qt::AlignVCenter,
                QStringLiteral("#%1 %2 %3")
                    .arg(v->id)
                    .arg(QString::fromStdString(mapsPerms(v->vm_flags)), formatBytes(v->vm_end - v->vm_start)));
        } else {
            p.setPen(palette().color(QPalette::PlaceholderText));
            const Addr size = range.last - range.first + (range.last == ~Addr { 0 } ? 0 : 1);
            p.drawText(
                slot.adjusted(14, 0, -4, 0), Qt::AlignLeft | Qt::AlignVCenter, tr("NULL · %1").arg(formatBytes(size)));
        }
        if (range.id != 0 && range.id == m_selId) {
            m_selectionDrawn = true;
            p.setPen(QPen(selectionColor(), 2.5));
            p.drawRect(slot.adjusted(1, 1, -1, -1));
        }
    }
    p.setPen(QPen(palette().color(QPalette::Text), 1.2));
    p.setBrush(Qt::NoBrush);
    p.drawRect(r);
}

void MapleTreeView::mousePressEvent(QMouseEvent* event)
{
    for (std::size_t i = 0; i < m_layout.nodes.size(); ++i) {
        const MapleNode& n = m_layout.nodes[i];
        if (!n.leaf || !m_rects[i].contains(event->position()))
            continue;
        const int s = static_cast<int>((event->position().y() - m_rects[i].top()) / m_geometry.slotHeight) - 1;
        if (s >= 0 && s < static_cast<int>(n.ranges.size()) && n.ranges[static_cast<std::size_t>(s)].id != 0) {
            m_selId = n.ranges[static_cast<std::size_t>(s)].id;
            rebuild();
            Q_EMIT vmaSelected(m_proc, m_selId);
        }
    }
}

} // namespace vmalab::ui
