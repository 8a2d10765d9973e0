#include "ui/address_space_view.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QTimer>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

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
    m_animTimer = new QTimer(this);
    m_animTimer->setInterval(15);
    connect(m_animTimer, &QTimer::timeout, this, [this] {
        if (!m_anim.active || m_anim.held)
            return;
        m_anim.t = m_animMs > 0 ? static_cast<double>(m_animClock.elapsed()) / m_animMs : 1.0;
        if (m_anim.t >= 1)
            finishAnimation();
        update();
    });
}

void AddressSpaceView::setWorld(const World& world, const QStringList& processNames, const PositionChanges& changes)
{
    // Keep the address at the centre where it is while the axis is rebuilt.
    const bool had = m_viewSet && !m_axis.segments.empty();
    const Addr centre = had ? pxToAddr(m_axis, m_view, m_view.left + m_view.width / 2) : 0;
    const double pxPerPage = m_view.pxPerUnit;
    std::size_t vmaCount = 0;
    for (const Mm& mm : world.procs)
        vmaCount += mm.vmas.size();
    for (const Mm& mm : m_world.procs)
        vmaCount += mm.vmas.size();
    const bool animate = m_animMs > 0 && isVisible() && m_viewSet && !m_draw.empty() && vmaCount <= maxAnimatedVmas;
    MapAxis oldAxis;
    const Viewport oldView = m_view;
    const double oldRowHeight = rowHeight();
    if (animate)
        oldAxis = m_axis;
    finishAnimation();
    World old = std::move(m_world);
    PositionChanges oldChanges = std::move(m_changes);
    m_world = world;
    m_processNames = processNames;
    m_changes = changes;
    const bool patched = patchScene(old, oldChanges);
    if (!patched)
        rebuildScene();
    m_rss.assign(m_world.procs.size(), 0);
    for (std::size_t p = 0; p < m_world.procs.size(); ++p)
        m_world.procs[p].ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
            if (pte.state == PageState::Present && pte.kind != Pte::Kind::ZeroPage)
                m_rss[p] += e - s;
        });
    ++m_generation;
    if (had && !patched) { // a patched scene kept its axis, so the view still fits
        m_view.pxPerUnit = pxPerPage;
        m_view = centreOn(m_view, addrToUnit(m_axis, centre), m_axis.units());
    }
    if (!findDraw(m_selProc, m_selId)) {
        m_selProc = -1;
        m_selId = 0;
    }
    if (animate)
        startAnimation(old, oldAxis, oldView, oldRowHeight);
    update();
}

namespace {

QColor barFill(const World& world, const Mm& mm, const Vma& v)
{
    const QColor fill = vmaKindColor(vmaKind(world, mm, v));
    return (v.vm_flags & VM_ACCESS_FLAGS) == 0 ? blend(fill, Qt::white, 0.7) : fill;
}

double easeInOut(double t)
{
    t = std::clamp(t, 0.0, 1.0);
    return t < 0.5 ? 4 * t * t * t : 1 - std::pow(-2 * t + 2, 3) / 2;
}

QRectF lerp(const QRectF& a, const QRectF& b, double t)
{
    return { a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t, a.width() + (b.width() - a.width()) * t,
        a.height() + (b.height() - a.height()) * t };
}

} // namespace

void AddressSpaceView::startAnimation(const World& old, const MapAxis& oldAxis, const Viewport& oldView, double oldRowHeight)
{
    using Kind = StepChange::Kind;
    const std::vector<StepChange> changes = diffSteps(old, m_world);
    if (changes.empty())
        return;
    Animation a;
    a.oldAxis = oldAxis;
    a.oldView = oldView;
    a.oldRowHeight = oldRowHeight;
    for (std::size_t p = 0; p < m_world.procs.size(); ++p) {
        const Mm& mm = m_world.procs[p];
        const int proc = static_cast<int>(p);
        std::map<VmaId, const StepChange*> byId;
        for (const StepChange& c : changes)
            if (c.proc == proc && c.kind != Kind::Pages)
                byId[c.id] = &c;
        for (const auto& e : mm.vmas) {
            const Vma& v = e.second;
            AnimItem item;
            item.proc = proc;
            item.id = v.id;
            item.after = true;
            item.start = v.vm_start;
            item.end = v.vm_end;
            item.fill = barFill(m_world, mm, v);
            item.oldFill = item.fill;
            const auto it = byId.find(v.id);
            const StepChange* c = it == byId.end() ? nullptr : it->second;
            item.before = !c || c->kind != Kind::Appeared;
            item.oldStart = c && item.before ? c->oldStart : v.vm_start;
            item.oldEnd = c && item.before ? c->oldEnd : v.vm_end;
            if (c && item.before && p < old.procs.size())
                if (const Vma* o = old.procs[p].vmaAt(item.oldStart); o && o->id == v.id) {
                    item.oldFill = barFill(old, old.procs[p], *o);
                    item.flash = o->vm_flags != v.vm_flags;
                }
            a.items.push_back(item);
        }
    }
    for (const StepChange& c : changes) {
        if (c.kind == Kind::Pages) {
            a.pages.push_back(c);
            continue;
        }
        if (c.kind != Kind::Disappeared || c.proc >= static_cast<int>(old.procs.size()))
            continue;
        const Mm& om = old.procs[static_cast<std::size_t>(c.proc)];
        AnimItem item;
        item.proc = c.proc;
        item.id = c.id;
        item.before = true;
        item.oldStart = item.start = c.oldStart;
        item.oldEnd = item.end = c.oldEnd;
        if (const Vma* o = om.vmaAt(c.oldStart))
            item.fill = item.oldFill = barFill(old, om, *o);
        a.items.push_back(item);
    }
    a.active = true;
    m_anim = std::move(a);
    m_animClock.start();
    m_animTimer->start();
}

void AddressSpaceView::setAnimationDuration(int ms)
{
    m_animMs = std::max(0, ms);
    if (m_animMs == 0)
        finishAnimation();
}

void AddressSpaceView::setAnimationProgress(double t)
{
    if (!m_anim.active)
        return;
    m_anim.held = true;
    m_anim.t = t;
    if (t >= 1)
        finishAnimation();
    update();
}

void AddressSpaceView::finishAnimation()
{
    if (m_animTimer)
        m_animTimer->stop();
    if (!m_anim.active)
        return;
    m_anim = {};
    update();
}

QRectF AddressSpaceView::barRect(int proc, Addr start, Addr end) const
{
    const RowGeometry g = rowGeometry(proc, rowsTop(), rowHeight());
    const double x0 = addrToPx(m_axis, m_view, start);
    const double x1 = addrToPx(m_axis, m_view, end);
    return { x0, g.barTop, std::max(1.0, x1 - x0), g.barHeight };
}

std::vector<AddressSpaceView::AnimatedBar> AddressSpaceView::animationFrame(double t) const
{
    std::vector<AnimatedBar> out;
    if (!m_anim.active)
        return out;
    const double e = easeInOut(t);
    auto oldRect = [&](int proc, Addr s, Addr end) {
        const RowGeometry g = rowGeometry(proc, rowsTop(), m_anim.oldRowHeight);
        const double x0 = addrToPx(m_anim.oldAxis, m_anim.oldView, s);
        const double x1 = addrToPx(m_anim.oldAxis, m_anim.oldView, end);
        return QRectF(x0, g.barTop, std::max(1.0, x1 - x0), g.barHeight);
    };
    for (const AnimItem& i : m_anim.items) {
        AnimatedBar b;
        b.proc = i.proc;
        b.id = i.id;
        const QRectF from = i.before ? oldRect(i.proc, i.oldStart, i.oldEnd) : oldRect(i.proc, i.start, i.end);
        const QRectF to = i.after ? barRect(i.proc, i.start, i.end) : barRect(i.proc, i.oldStart, i.oldEnd);
        b.rect = lerp(from, to, e);
        b.opacity = i.before && i.after ? 1.0 : i.after ? e : 1.0 - e;
        b.fill = blend(i.oldFill, i.fill, e);
        b.flash = i.flash;
        out.push_back(b);
    }
    return out;
}

std::vector<AddressSpaceView::AnimatedFlash> AddressSpaceView::animationFlashes(double t) const
{
    std::vector<AnimatedFlash> out;
    if (!m_anim.active)
        return out;
    const double rh = rowHeight();
    for (const StepChange& c : m_anim.pages) {
        const RowGeometry g = rowGeometry(c.proc, rowsTop(), rh);
        const double x0 = addrToPx(m_axis, m_view, c.start);
        const double x1 = addrToPx(m_axis, m_view, c.end);
        QRectF r(x0, g.stripTop, std::max(1.0, x1 - x0), g.stripHeight);
        if (r.width() < 6) // a flash must be seen, as guard cells are
            r = QRectF(r.center().x() - 3, r.y(), 6, r.height());
        out.push_back({ c.proc, r.adjusted(-2, -2, 2, 2), 1.0 - easeInOut(t) });
    }
    return out;
}

void AddressSpaceView::paintAnimation(QPainter& p)
{
    paintRuler(p);
    const double rh = rowHeight();
    for (int r = 0; r < static_cast<int>(m_draw.size()); ++r) {
        const RowGeometry g = rowGeometry(r, rowsTop(), rh);
        if (r % 2 == 1)
            p.fillRect(QRectF(0, g.top, width(), g.bottom - g.top), palette().color(QPalette::AlternateBase));
        paintRowHeader(p, r, g);
    }
    const QRectF screen(-50, 0, width() + 100, height());
    const double t = m_anim.t;
    const std::vector<AnimatedBar> frame = animationFrame(t);
    for (std::size_t idx = 0; idx < frame.size(); ++idx) {
        const AnimatedBar& b = frame[idx];
        const AnimItem& i = m_anim.items[idx]; // animationFrame() keeps the items' order
        if (!b.rect.intersects(screen))
            continue;
        const RowGeometry g = rowGeometry(b.proc, rowsTop(), rh);
        p.setOpacity(b.opacity);
        p.fillRect(b.rect, b.fill);
        p.setPen(QPen(blend(b.fill, Qt::black, 0.45), 1));
        p.drawRect(b.rect.adjusted(0, 0, -1, -1));
        if (b.flash) {
            p.setPen(QPen(changedColor(), 3.5, Qt::DashLine));
            p.drawRect(b.rect.adjusted(-1.5, -1.5, 1.5, 1.5));
        }
        // The new world's pages, squeezed into the moving bar, so the strip does not blink.
        const QRectF strip(b.rect.x(), g.stripTop, b.rect.width(), g.stripHeight);
        p.fillRect(strip, pageKindColor(PageKind::None));
        const Mm& mm = m_world.procs[static_cast<std::size_t>(b.proc)];
        if (i.after) {
            const double span = static_cast<double>(i.end - i.start);
            mm.ptes.forEach(i.start >> pageShift, i.end >> pageShift, [&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
                const PageKind k = pageKind(&pte);
                if (k == PageKind::None)
                    return;
                const double f0 = static_cast<double>((s << pageShift) - i.start) / span;
                const double f1 = static_cast<double>((e << pageShift) - i.start) / span;
                const QRectF rr(strip.x() + f0 * strip.width(), strip.y(), std::max(1.5, (f1 - f0) * strip.width()),
                    strip.height());
                if (k == PageKind::Guard) {
                    p.fillRect(rr, QColor(0xf0, 0xe4, 0x42));
                    p.fillRect(rr, guardBrush());
                } else {
                    p.fillRect(rr, pageKindColor(k));
                }
            });
        }
    }
    p.setOpacity(1);
    for (const AnimatedFlash& f : animationFlashes(t)) {
        QColor c = changedColor();
        c.setAlphaF(static_cast<float>(0.55 * f.strength));
        p.fillRect(f.rect, c);
        QColor edge = changedColor();
        edge.setAlphaF(static_cast<float>(f.strength));
        p.setPen(QPen(edge, 2.5));
        p.drawRect(f.rect);
    }
    paintLegend(p);
}

int AddressSpaceView::changeOf(VmaId id) const
{
    return m_changes.created.count(id) ? 1 : m_changes.changed.count(id) ? 2 : 0;
}

AddressSpaceView::DrawVma AddressSpaceView::makeDraw(const Mm& mm, const Vma& v) const
{
    DrawVma d;
    d.vma = v;
    d.kind = vmaKind(m_world, mm, v);
    return d;
}

namespace {

// The parts of [s, e) that proc's VMAs or its removed VMAs cover, merged.
std::vector<std::pair<Addr, Addr>> coverage(const Mm& mm, const std::vector<RemovedVma>& removed, int proc, Addr s, Addr e)
{
    std::vector<std::pair<Addr, Addr>> r;
    for (const Vma* v = mm.findVma(s); v && v->vm_start < e; v = mm.nextOf(*v))
        r.emplace_back(std::max(v->vm_start, s), std::min(v->vm_end, e));
    for (const RemovedVma& x : removed)
        if (x.proc == proc && x.vma.vm_start < e && x.vma.vm_end > s)
            r.emplace_back(std::max(x.vma.vm_start, s), std::min(x.vma.vm_end, e));
    std::sort(r.begin(), r.end());
    std::vector<std::pair<Addr, Addr>> out;
    for (const auto& x : r) {
        if (!out.empty() && x.first <= out.back().second)
            out.back().second = std::max(out.back().second, x.second);
        else
            out.push_back(x);
    }
    return out;
}

} // namespace

bool AddressSpaceView::patchScene(const World& old, const PositionChanges& oldChanges)
{
    // Fork links and fork parents span processes: several rows take the full rebuild.
    const bool forkChild = !m_givenForkParents.empty() && m_givenForkParents.front() >= 0;
    if (m_world.procs.size() != 1 || old.procs.size() != 1 || m_draw.size() != 1 || m_axis.segments.empty()
        || forkChild)
        return false;
    const Mm& om = old.procs[0];
    const Mm& nm = m_world.procs[0];
    if (om.task_size != nm.task_size)
        return false;
    // A merge walk over both versions: values the two share (the persistent map keeps one
    // box for an unchanged VMA) are skipped by address, so this is cheap per VMA.
    struct Edit
    {
        std::size_t at; // index into the old scene
        enum { Replace, Erase, Insert } op;
        const Vma* v;
    };
    std::vector<Edit> edits;
    std::vector<std::pair<Addr, Addr>> touched;
    auto a = om.vmas.begin();
    auto b = nm.vmas.begin();
    std::size_t idx = 0;
    constexpr std::size_t maxEdits = 64;
    while (a != om.vmas.end() || b != nm.vmas.end()) {
        if (a != om.vmas.end() && b != nm.vmas.end() && a->first == b->first) {
            if (&a->second != &b->second && !(a->second == b->second)) {
                edits.push_back({ idx, Edit::Replace, &b->second });
                touched.emplace_back(a->second.vm_start, a->second.vm_end);
                touched.emplace_back(b->second.vm_start, b->second.vm_end);
            }
            ++a;
            ++b;
            ++idx;
        } else if (b == nm.vmas.end() || (a != om.vmas.end() && a->first < b->first)) {
            edits.push_back({ idx, Edit::Erase, nullptr });
            touched.emplace_back(a->second.vm_start, a->second.vm_end);
            ++a;
            ++idx;
        } else {
            edits.push_back({ idx, Edit::Insert, &b->second });
            touched.emplace_back(b->second.vm_start, b->second.vm_end);
            ++b;
        }
        if (edits.size() > maxEdits)
            return false;
    }
    // The axis is the union of every mapped and removed range: keep it when that union is
    // the same wherever something changed (a split, a flag change, a fault).
    for (const std::vector<RemovedVma>* list : { &oldChanges.removed, static_cast<const std::vector<RemovedVma>*>(&m_changes.removed) })
        for (const RemovedVma& r : *list)
            touched.emplace_back(r.vma.vm_start, r.vma.vm_end);
    for (const auto& t : touched)
        if (coverage(om, oldChanges.removed, 0, t.first, t.second)
            != coverage(nm, m_changes.removed, 0, t.first, t.second))
            return false;
    auto& draws = m_draw[0];
    auto& rows = m_rows[0];
    auto matches = [&](DrawVma& d) {
        if (!m_filter.isEmpty()) {
            withText(d, 0);
            d.match = vmaMatchesFilter(m_filter, d.name, d.perms, d.mnemonics, d.vma.vm_flags);
        }
        return d.match ? 1 : 0;
    };
    // Applied from the back so that the indices before an edit stay valid.
    for (auto it = edits.rbegin(); it != edits.rend(); ++it) {
        const auto at = static_cast<std::ptrdiff_t>(it->at);
        switch (it->op) {
        case Edit::Replace:
            m_matches -= draws[it->at].match ? 1 : 0;
            draws[it->at] = makeDraw(nm, *it->v);
            m_matches += matches(draws[it->at]);
            rows[it->at] = { 0, it->v->id, it->v->vm_start, it->v->vm_end };
            break;
        case Edit::Erase:
            m_matches -= draws[it->at].match ? 1 : 0;
            draws.erase(draws.begin() + at);
            rows.erase(rows.begin() + at);
            break;
        case Edit::Insert:
            m_matches += matches(*draws.insert(draws.begin() + at, makeDraw(nm, *it->v)));
            rows.insert(rows.begin() + at, { 0, it->v->id, it->v->vm_start, it->v->vm_end });
            break;
        }
    }
    m_links.clear();
    return true;
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
        m_rows[p].reserve(mm.vmas.size());
        m_draw[p].reserve(mm.vmas.size());
        for (const auto& e : mm.vmas) {
            const Vma& v = e.second;
            ranges.emplace_back(v.vm_start, v.vm_end);
            m_rows[p].push_back({ static_cast<int>(p), v.id, v.vm_start, v.vm_end });
            m_draw[p].push_back(makeDraw(mm, v));
        }
    }
    for (const RemovedVma& r : m_changes.removed)
        ranges.emplace_back(r.vma.vm_start, r.vma.vm_end);
    ranges.insert(ranges.end(), m_extraRanges.begin(), m_extraRanges.end());
    m_links = m_world.procs.size() > 1 ? cowLinks(m_world) : std::vector<CowLink> {};
    m_forkParent.assign(m_world.procs.size(), -1);
    for (std::size_t p = 0; p < m_world.procs.size(); ++p)
        m_forkParent[p] = p < m_givenForkParents.size() ? m_givenForkParents[p]
            : m_world.procs.size() > 1                  ? forkParentOf(m_world, static_cast<int>(p))
                                                        : -1;
    m_axis = buildAxis(std::move(ranges), 0, high == 0 ? Addr { 0x7ffffffff000 } : high);
    applyFilter();
    ++m_generation;
    if (!m_viewSet) {
        m_view = fitUnits(0, m_axis.units(), 8, std::max(100, width() - 16));
        m_viewSet = width() > 100;
        if (m_focusEnd > m_focusStart)
            fitAddrRange(m_focusStart, m_focusEnd);
    }
}

void AddressSpaceView::setAxisExtraRanges(std::vector<std::pair<Addr, Addr>> ranges)
{
    m_extraRanges = std::move(ranges);
    rebuildScene();
    update();
}

void AddressSpaceView::setForkParents(std::vector<int> parents)
{
    m_givenForkParents = std::move(parents);
    for (std::size_t p = 0; p < m_forkParent.size() && p < m_givenForkParents.size(); ++p)
        m_forkParent[p] = m_givenForkParents[p];
    update();
}

void AddressSpaceView::setDifferences(std::vector<WorldDifference> differences)
{
    m_differences = std::move(differences);
    ++m_generation;
    update();
}

void AddressSpaceView::setViewport(const Viewport& view)
{
    m_view = view;
    m_viewSet = true;
    update();
}

const AddressSpaceView::DrawVma& AddressSpaceView::withText(const DrawVma& d, int proc) const
{
    if (!d.textReady) {
        const Mm& mm = m_world.procs[static_cast<std::size_t>(proc)];
        d.name = QString::fromStdString(vmaName(m_world, mm, d.vma));
        d.perms = QString::fromStdString(mapsPerms(d.vma.vm_flags));
        for (const std::string& m : vmFlagMnemonics(d.vma.vm_flags))
            d.mnemonics << QString::fromStdString(m);
        d.textReady = true;
    }
    return d;
}

void AddressSpaceView::applyFilter()
{
    m_matches = 0;
    for (std::size_t p = 0; p < m_draw.size(); ++p)
        for (DrawVma& d : m_draw[p]) {
            if (m_filter.isEmpty()) {
                d.match = true;
            } else {
                withText(d, static_cast<int>(p));
                d.match = vmaMatchesFilter(m_filter, d.name, d.perms, d.mnemonics, d.vma.vm_flags);
            }
            m_matches += d.match ? 1 : 0;
        }
}

void AddressSpaceView::setFilter(const QString& filter)
{
    m_filter = filter;
    applyFilter();
    ++m_generation;
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
    // A selection naming no VMA of that process (a step's created VMA that lives in another
    // process) would highlight nothing: drop it.
    const bool exists = findDraw(proc, id) != nullptr;
    m_selProc = exists ? proc : -1;
    m_selId = exists ? id : 0;
    ++m_generation; // the selected bar is drawn on its own
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
    viewChanged();
    update();
}

void AddressSpaceView::fitAddrRange(Addr start, Addr end)
{
    const double u0 = addrToUnit(m_axis, start);
    const double u1 = addrToUnit(m_axis, end);
    m_view = clampView(fitUnits(u0, u1, 8, std::max(100, width() - 16), 0.05), m_axis.units());
    viewChanged();
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
    viewChanged();
    update();
}

void AddressSpaceView::zoomOut()
{
    m_view = zoomAt(m_view, m_view.left + m_view.width / 2, 1 / 1.6, m_axis.units());
    viewChanged();
    update();
}

void AddressSpaceView::fitAll()
{
    m_view = clampView(fitUnits(0, m_axis.units(), 8, std::max(100, width() - 16), 0.0), m_axis.units());
    viewChanged();
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
    viewChanged();
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
            viewChanged();
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
    viewChanged();
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
    withText(*d, hit.proc);
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
    if (event->type() == QEvent::PaletteChange)
        ++m_generation; // the summary's faded colours blend with the palette
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
    m_rowStats.clear();
    m_drawn.clear();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (m_draw.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Run a scenario to see its address space"));
        return;
    }
    if (m_anim.active && m_anim.t < 1) {
        paintAnimation(p);
        return;
    }
    ensureCache();
    paintRuler(p);
    for (int r = 0; r < static_cast<int>(m_draw.size()); ++r) {
        const PaintStats before = m_stats;
        paintRow(p, r);
        PaintStats row;
        row.bars = m_stats.bars - before.bars;
        row.labels = m_stats.labels - before.labels;
        row.pageRuns = m_stats.pageRuns - before.pageRuns;
        row.gapLabels = m_stats.gapLabels - before.gapLabels;
        row.guardRuns = m_stats.guardRuns - before.guardRuns;
        row.forkBadges = m_stats.forkBadges - before.forkBadges;
        row.differences = m_stats.differences - before.differences;
        m_rowStats.push_back(row);
    }
    paintForkLinks(p);
    paintLegend(p);
}

// ---- the per-column summary ----------------------------------------------------------------

namespace {

constexpr double wideBarPx = 3.0; // narrower bars are summarised per pixel column

} // namespace

void AddressSpaceView::ensureCache()
{
    const bool same = m_cacheGeneration == m_generation && m_cacheWidth == width() && m_cacheView.u0 == m_view.u0
        && m_cacheView.pxPerUnit == m_view.pxPerUnit && m_cacheView.left == m_view.left
        && m_cache.size() == m_draw.size();
    if (same)
        return;
    m_cache.assign(m_draw.size(), {});
    for (std::size_t r = 0; r < m_draw.size(); ++r)
        buildRowCache(static_cast<int>(r), m_cache[r]);
    m_cacheGeneration = m_generation;
    m_cacheWidth = width();
    m_cacheView = m_view;
}

void AddressSpaceView::buildRowCache(int row, RowCache& cache) const
{
    const auto& draws = m_draw[static_cast<std::size_t>(row)];
    const Mm& mm = m_world.procs[static_cast<std::size_t>(row)];
    const int w = std::max(1, width());
    cache.columns.assign(static_cast<std::size_t>(w), {});
    std::vector<std::array<float, vmaKindCount + 2>> cover(static_cast<std::size_t>(w)); // kinds, no access, faded
    std::vector<std::array<float, pageKindCount>> pages(static_cast<std::size_t>(w));
    std::vector<float> total(static_cast<std::size_t>(w), 0.0f);
    // Spreads [x0, x1) over the columns it touches, by how much of each it covers.
    auto spread = [&](double x0, double x1, auto&& add) {
        x0 = std::max(0.0, x0);
        x1 = std::min(static_cast<double>(w), x1);
        for (int c = static_cast<int>(std::floor(x0)); c < w && c < x1; ++c) {
            const double part = std::min(x1, c + 1.0) - std::max(x0, static_cast<double>(c));
            if (part > 0)
                add(static_cast<std::size_t>(c), static_cast<float>(part));
        }
    };
    const Addr visLo = pxToAddr(m_axis, m_view, 0);
    const Addr visHi = pxToAddr(m_axis, m_view, width()) + pageSize;
    auto from = std::lower_bound(
        draws.begin(), draws.end(), visLo, [](const DrawVma& d, Addr a) { return d.vma.vm_end <= a; });
    Addr prevEnd = from == draws.begin() ? (m_axis.segments.empty() ? 0 : m_axis.segments.front().start)
                                         : std::prev(from)->vma.vm_end;
    // Addresses are asked for in ascending order: a cursor over the axis replaces a binary
    // search over its (at 60,000 VMAs, 120,000) segments, the cost of a step's rebuild.
    const auto& segs = m_axis.segments;
    auto seg = std::upper_bound(segs.begin(), segs.end(), visLo, [](Addr x, const AxisSegment& sg) { return x < sg.end; });
    auto px = [&](Addr a) {
        if (segs.empty() || a <= segs.front().start || a >= segs.back().end || seg == segs.end() || a < seg->start)
            return addrToPx(m_axis, m_view, a);
        while (a >= seg->end)
            ++seg;
        const double f = static_cast<double>(a - seg->start) / static_cast<double>(seg->end - seg->start);
        return m_view.unitToPx(seg->u0 + f * (seg->u1 - seg->u0));
    };
    auto gap = [&](Addr s, Addr e) {
        if (s < e && px(e) - px(s) > 1)
            cache.gaps.emplace_back(s, e);
    };
    // The visible page runs in one walk of the page map, consumed VMA by VMA.
    struct Run
    {
        std::uint64_t s, e;
        const Pte* pte;
    };
    std::vector<Run> runs;
    mm.ptes.forEach(visLo >> pageShift, (visHi >> pageShift) + 1,
        [&](std::uint64_t s, std::uint64_t e, const Pte& pte) { runs.push_back({ s, e, &pte }); });
    std::size_t ri = 0;
    auto it = from;
    for (; it != draws.end() && it->vma.vm_start < visHi; ++it) {
        const DrawVma& d = *it;
        gap(prevEnd, d.vma.vm_start);
        prevEnd = d.vma.vm_end;
        const double x0 = px(d.vma.vm_start);
        const bool selected = row == m_selProc && d.vma.id == m_selId;
        // A VMA lies inside one mapped segment: its end from the same segment, the cursor
        // left where the pages will need it.
        const double x1 = seg != segs.end() && seg->start <= d.vma.vm_start && d.vma.vm_end <= seg->end
            ? m_view.unitToPx(seg->u0
                + static_cast<double>(d.vma.vm_end - seg->start) / static_cast<double>(seg->end - seg->start)
                    * (seg->u1 - seg->u0))
            : addrToPx(m_axis, m_view, d.vma.vm_end);
        if (x1 - x0 >= wideBarPx || selected || changeOf(d.vma.id) != 0) {
            cache.wide.push_back(static_cast<std::size_t>(it - draws.begin()));
            continue;
        }
        ++cache.narrow;
        const bool none = (d.vma.vm_flags & VM_ACCESS_FLAGS) == 0;
        const auto kind = static_cast<std::size_t>(d.kind);
        spread(x0, std::max(x1, x0 + 0.05), [&](std::size_t c, float part) {
            cover[c][kind] += part;
            if (none)
                cover[c][vmaKindCount] += part;
            if (!d.match)
                cover[c][vmaKindCount + 1] += part;
            total[c] += part;
        });
        if (x0 >= 0 && x0 < w)
            cache.columns[static_cast<std::size_t>(x0)].edge = true;
        const std::uint64_t p0 = d.vma.vm_start >> pageShift, p1 = d.vma.vm_end >> pageShift;
        while (ri < runs.size() && runs[ri].e <= p0)
            ++ri;
        for (std::size_t j = ri; j < runs.size() && runs[j].s < p1; ++j) {
            const std::uint64_t s = std::max(runs[j].s, p0), e = std::min(runs[j].e, p1);
            const Pte& pte = *runs[j].pte;
            {
                const PageKind k = pageKind(&pte);
                const double rx0 = px(s << pageShift);
                const double rx1 = std::max(px(e << pageShift), rx0 + 0.05);
                spread(rx0, rx1, [&](std::size_t c, float part) {
                    pages[c][static_cast<std::size_t>(k)] += part;
                    if (k == PageKind::Guard)
                        cache.columns[c].guard = true;
                    if (pte.uffdWp)
                        cache.columns[c].uffdWp = true;
                });
                ++cache.pageRuns;
                cache.guardRuns += k == PageKind::Guard ? 1 : 0;
            }
        }
    }
    gap(prevEnd, it == draws.end() ? mm.task_size : it->vma.vm_start);
    for (std::size_t c = 0; c < cache.columns.size(); ++c) {
        if (total[c] <= 0)
            continue;
        Column& col = cache.columns[c];
        int best = 0;
        for (int k = 1; k < vmaKindCount; ++k)
            if (cover[c][static_cast<std::size_t>(k)] > cover[c][static_cast<std::size_t>(best)])
                best = k;
        col.kind = static_cast<std::uint8_t>(best);
        col.noAccess = cover[c][vmaKindCount] * 2 > total[c];
        col.faded = cover[c][vmaKindCount + 1] * 2 > total[c];
        // Pages no run covers are "none": what is left of the VMAs' share of the column.
        float present = 0;
        for (int k = 1; k < pageKindCount; ++k)
            present += pages[c][static_cast<std::size_t>(k)];
        pages[c][0] = std::max(0.0f, total[c] - present);
        int bestPage = 0;
        for (int k = 1; k < pageKindCount; ++k)
            if (pages[c][static_cast<std::size_t>(k)] > pages[c][static_cast<std::size_t>(bestPage)])
                bestPage = k;
        col.page = static_cast<std::uint8_t>(bestPage);
    }
}

void AddressSpaceView::paintColumns(QPainter& p, RowCache& cache, const RowGeometry& g)
{
    // The columns become two one-pixel-high images, stretched to the bar's and the strip's
    // height: a couple of image draws per row, whatever the number of VMAs. Guard and
    // uffd-wp marks and the no-access hatching go on top, by runs.
    const auto& cols = cache.columns;
    const int n = static_cast<int>(cols.size());
    auto barColour = [&](const Column& c) {
        QColor fill = vmaKindColor(static_cast<VmaKind>(c.kind));
        if (c.noAccess)
            fill = blend(fill, Qt::white, 0.7);
        if (c.faded)
            fill = blend(fill, palette().color(QPalette::Base), 0.8);
        return fill;
    };
    if (cache.bars.isNull() && n > 0) {
        cache.bars = QImage(n, 3, QImage::Format_ARGB32_Premultiplied);
        cache.bars.fill(Qt::transparent);
        cache.strip = QImage(n, 1, QImage::Format_ARGB32_Premultiplied);
        cache.strip.fill(Qt::transparent);
        QRgb fills[vmaKindCount][4];
        QRgb frames[vmaKindCount][4];
        for (int k = 0; k < vmaKindCount; ++k)
            for (int v = 0; v < 4; ++v) {
                Column c;
                c.kind = static_cast<std::uint8_t>(k);
                c.noAccess = v & 1;
                c.faded = v & 2;
                const QColor f = barColour(c);
                fills[k][v] = f.rgba();
                frames[k][v] = blend(f, Qt::black, 0.45).rgba();
            }
        QRgb pages[pageKindCount];
        for (int k = 0; k < pageKindCount; ++k)
            pages[k] = pageKindColor(static_cast<PageKind>(k)).rgba();
        auto* top = reinterpret_cast<QRgb*>(cache.bars.scanLine(0));
        auto* mid = reinterpret_cast<QRgb*>(cache.bars.scanLine(1));
        auto* bottom = reinterpret_cast<QRgb*>(cache.bars.scanLine(2));
        auto* strip = reinterpret_cast<QRgb*>(cache.strip.scanLine(0));
        for (int c = 0; c < n; ++c) {
            const Column& col = cols[static_cast<std::size_t>(c)];
            if (col.kind == 255)
                continue;
            const int v = (col.noAccess ? 1 : 0) | (col.faded ? 2 : 0);
            // A boundary shows as the frame colour where VMAs are a few pixels wide; where
            // every column holds one, lines would only darken the bar.
            const bool lone = !(c > 0 && cols[static_cast<std::size_t>(c - 1)].edge)
                && !(c + 1 < n && cols[static_cast<std::size_t>(c + 1)].edge);
            const bool start = c == 0 || cols[static_cast<std::size_t>(c - 1)].kind == 255;
            top[c] = bottom[c] = frames[col.kind][v];
            mid[c] = (col.edge && lone) || start ? frames[col.kind][v] : fills[col.kind][v];
            strip[c] = pages[col.page];
        }
    }
    if (n == 0)
        return;
    p.drawImage(QRectF(0, g.barTop, n, 1), cache.bars, QRectF(0, 0, n, 1));
    p.drawImage(QRectF(0, g.barTop + 1, n, g.barHeight - 2), cache.bars, QRectF(0, 1, n, 1));
    p.drawImage(QRectF(0, g.barTop + g.barHeight - 1, n, 1), cache.bars, QRectF(0, 2, n, 1));
    p.drawImage(QRectF(0, g.stripTop, n, g.stripHeight), cache.strip);
    for (int c = 0; c < n;) {
        const Column& col = cols[static_cast<std::size_t>(c)];
        if (col.kind == 255 || !col.noAccess) {
            ++c;
            continue;
        }
        int e = c + 1;
        while (e < n && cols[static_cast<std::size_t>(e)].kind == col.kind && cols[static_cast<std::size_t>(e)].noAccess)
            ++e;
        if (e - c > 6)
            p.fillRect(QRectF(c, g.barTop, e - c, g.barHeight),
                QBrush(blend(barColour(col), Qt::black, 0.25), Qt::FDiagPattern));
        c = e;
    }
    for (int c = 0; c < n;) {
        if (!cols[static_cast<std::size_t>(c)].guard) {
            ++c;
            continue;
        }
        int e = c + 1;
        while (e < n && cols[static_cast<std::size_t>(e)].guard)
            ++e;
        // Never thinner than a hatched cell: a guard page must be seen at any zoom.
        QRectF r(c, g.stripTop, e - c, g.stripHeight);
        if (r.width() < 8)
            r = QRectF(r.center().x() - 4, r.y(), 8, r.height());
        p.fillRect(r, QColor(0xf0, 0xe4, 0x42));
        p.fillRect(r, guardBrush());
        p.setPen(QPen(Qt::black, 2));
        p.drawRect(r.adjusted(1, 1, -1, -1));
        c = e;
    }
    for (int c = 0; c < n;) {
        if (!cols[static_cast<std::size_t>(c)].uffdWp) {
            ++c;
            continue;
        }
        int e = c + 1;
        while (e < n && cols[static_cast<std::size_t>(e)].uffdWp)
            ++e;
        p.fillRect(QRectF(c, g.stripTop, e - c, 4), uffdWpColor());
        c = e;
    }
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
    // Visible segments only, and once labels are dense, straight to the first segment with
    // room for the next one: 120,000 segments at full zoom-out cost a few binary searches.
    const auto& segs = m_axis.segments;
    auto segAt = [&](double u) {
        return std::upper_bound(segs.begin(), segs.end(), u, [](double x, const AxisSegment& s) { return x < s.u1; });
    };
    double lastRight = -1e9;
    p.setPen(palette().color(QPalette::Text));
    const double typical = fm.horizontalAdvance(QStringLiteral("0x7ffff7a00000"));
    double need = -1e9; // no label may be centred left of this
    auto tick = [&](Addr a, double x) {
        if (x < 0 || x > width() || x < need)
            return;
        const QString label = hexText(a);
        const double w = fm.horizontalAdvance(label);
        if (x - w / 2 < lastRight + 12) {
            need = lastRight + 12 + w / 2; // a label this wide fits no sooner: skip to there
            return;
        }
        p.drawLine(QPointF(x, base - 4), QPointF(x, base + 4));
        p.drawText(QPointF(std::clamp(x - w / 2, 2.0, width() - w - 2), base - 7), label);
        lastRight = x + w / 2;
        need = lastRight + 12 + typical / 2;
    };
    const Addr visLo = pxToAddr(m_axis, m_view, 0);
    for (auto it = segAt(m_view.u0); it != segs.end();) {
        const AxisSegment& s = *it;
        if (m_view.unitToPx(s.u0) > width())
            break;
        tick(s.start, m_view.unitToPx(s.u0));
        if (!s.gap) {
            const Addr from = std::max(s.start, visLo);
            for (Addr a = (from + step - 1) / step * step; a < s.end; a += step) {
                const double x = addrToPx(m_axis, m_view, a);
                if (x > width())
                    break;
                tick(a, x);
            }
        }
        ++it;
        if (it != segs.end() && m_view.unitToPx(it->u1) < need)
            it = segAt(m_view.pxToUnit(need));
    }
}

void AddressSpaceView::paintRowHeader(QPainter& p, int row, const RowGeometry& g)
{
    const Mm& mm = m_world.procs[static_cast<std::size_t>(row)];
    QFont hf = font();
    hf.setBold(true);
    p.setFont(hf);
    p.setPen(palette().color(QPalette::Text));
    const QString who = row < m_processNames.size() ? m_processNames[row] : QString::number(row);
    const std::uint64_t rss = static_cast<std::size_t>(row) < m_rss.size() ? m_rss[static_cast<std::size_t>(row)] : 0;
    QString header =
        tr("%1 · pid %2 · %3 VMAs · Rss %4").arg(who).arg(mm.pid).arg(mm.mapCount()).arg(formatBytes(rss * pageSize));
    if (mm.forkPtesCopied || mm.forkVmasPtCopied)
        header += tr(" · fork copied %1 PTEs of %2 VMAs").arg(mm.forkPtesCopied).arg(mm.forkVmasPtCopied);
    const QFontMetrics hfm(hf);
    double hx = 10;
    const int parent = row < static_cast<int>(m_forkParent.size()) ? m_forkParent[static_cast<std::size_t>(row)] : -1;
    if (parent >= 0) {
        // A "fork" badge: this row is a child; its parent's row shares the axis above.
        const QString pw = parent < m_processNames.size() ? m_processNames[parent] : QString::number(parent);
        const QString badge = tr("forked from %1").arg(pw);
        const QRectF br(hx, g.top + 3, hfm.horizontalAdvance(badge) + 10, hfm.height() + 2);
        p.fillRect(br, forkColor());
        p.setPen(Qt::black);
        p.drawText(br, Qt::AlignCenter, badge);
        hx += br.width() + 8;
        ++m_stats.forkBadges;
    }
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QPointF(hx, g.top + 16), header);
}

void AddressSpaceView::paintRow(QPainter& p, int row)
{
    const RowGeometry g = rowGeometry(row, rowsTop(), rowHeight());
    const auto& draws = m_draw[static_cast<std::size_t>(row)];
    if (row % 2 == 1)
        p.fillRect(QRectF(0, g.top, width(), g.bottom - g.top), palette().color(QPalette::AlternateBase));
    paintRowHeader(p, row, g);
    RowCache& cache = m_cache[static_cast<std::size_t>(row)];
    paintGaps(p, row, g);
    m_drawRow = row;
    paintColumns(p, cache, g);
    for (std::size_t i : cache.wide) {
        const DrawVma& d = draws[i];
        paintBar(p, d, g, row == m_selProc && d.vma.id == m_selId);
        paintPages(p, row, d, g);
    }
    m_stats.bars += cache.narrow;
    m_stats.pageRuns += cache.pageRuns;
    m_stats.guardRuns += cache.guardRuns;
    paintRemoved(p, row, g);
    paintDifferences(p, row, g);
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
        // A break mark where the axis compresses the gap (segments are in address order).
        auto first = std::upper_bound(m_axis.segments.begin(), m_axis.segments.end(), s,
            [](Addr a, const AxisSegment& seg) { return a < seg.end; });
        for (auto it = first; it != m_axis.segments.end() && it->start < e; ++it) {
            const AxisSegment& seg = *it;
            if (!seg.compressed || seg.end <= s || seg.start >= e)
                continue;
            const double cx = m_view.unitToPx((seg.u0 + seg.u1) / 2);
            if (cx < x0 || cx > x1)
                continue;
            p.setPen(QPen(line, 1.5));
            p.drawLine(QPointF(cx - 5, mid + 8), QPointF(cx - 1, mid - 8));
            p.drawLine(QPointF(cx + 1, mid + 8), QPointF(cx + 5, mid - 8));
        }
        if (x1 - x0 < 48)
            return; // no room for a label; skip making one
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
    for (const auto& gp : m_cache[static_cast<std::size_t>(row)].gaps)
        gap(gp.first, gp.second);
}

void AddressSpaceView::paintBar(QPainter& p, const DrawVma& d, const RowGeometry& g, bool selected)
{
    const double x0 = addrToPx(m_axis, m_view, d.vma.vm_start);
    const double x1 = addrToPx(m_axis, m_view, d.vma.vm_end);
    const QRectF bar(x0, g.barTop, std::max(1.0, x1 - x0), g.barHeight);
    QColor fill = vmaKindColor(d.kind);
    // No access at all (a reservation): pale, so what is usable stands out.
    const bool none = (d.vma.vm_flags & VM_ACCESS_FLAGS) == 0;
    const int change = changeOf(d.vma.id);
    if (none)
        fill = blend(fill, Qt::white, 0.7);
    if (!d.match)
        fill = blend(fill, palette().color(QPalette::Base), 0.8);
    p.fillRect(bar, fill);
    m_drawn.push_back({ m_drawRow, d.vma.id, bar, selected, change, {} });
    if (none && bar.width() > 6) {
        p.fillRect(bar, QBrush(blend(fill, Qt::black, 0.25), Qt::FDiagPattern));
    }
    ++m_stats.bars;
    p.setPen(QPen(blend(fill, Qt::black, 0.45), 1));
    p.drawRect(bar.adjusted(0, 0, -1, -1));

    // Changes made by the current step: created solid, changed dashed (shape, not only colour).
    if (change != 0) {
        QPen pen(change == 1 ? createdColor() : changedColor(), 3.5, change == 1 ? Qt::SolidLine : Qt::DashLine);
        p.setPen(pen);
        p.drawRect(bar.adjusted(-1.5, -1.5, 1.5, 1.5));
        QFont bf = font();
        bf.setPointSizeF(bf.pointSizeF() * 0.8);
        bf.setBold(true);
        p.setFont(bf);
        const QString badge = change == 1 ? tr("new") : tr("changed");
        const QFontMetrics fm(bf);
        // Only where it fits above its own bar: the outline already tells the story.
        const double bw = fm.horizontalAdvance(badge) + 8;
        if (x1 - x0 >= bw) {
            const QRectF br(std::max(x0, 0.0), g.barTop - fm.height() - 4, bw, fm.height());
            p.fillRect(br, change == 1 ? createdColor() : changedColor());
            p.setPen(Qt::white);
            p.drawText(br, Qt::AlignCenter, badge);
        }
    }
    if (selected) {
        p.setPen(QPen(palette().color(QPalette::Text), 3));
        p.drawRect(bar.adjusted(-4, -4, 4, 4));
    }

    const LabelDetail lod = labelDetail(x1 - x0);
    if (lod == LabelDetail::None)
        return;
    withText(d, m_drawRow);
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
    m_drawn.back().label = elided.join(QLatin1Char('\n'));
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
        QRectF r(rx0, g.stripTop, std::max(1.5, rx1 - rx0), g.stripHeight);
        if (k == PageKind::Guard) {
            if (r.width() < 8) // as in the column summary: never too thin to see
                r = QRectF(r.center().x() - 4, r.y(), 8, r.height());
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

void AddressSpaceView::paintForkLinks(QPainter& p)
{
    // COW-shared folios joined between the rows that map them: a translucent band from the
    // upper row's page strip down to the lower row's bar, the same address in both.
    if (m_links.empty())
        return;
    const double rh = rowHeight();
    QColor band = forkColor();
    band.setAlpha(90);
    QColor edge = forkColor().darker(140);
    for (const CowLink& l : m_links) {
        const RowGeometry ga = rowGeometry(l.procA, rowsTop(), rh);
        const RowGeometry gb = rowGeometry(l.procB, rowsTop(), rh);
        const double x0 = addrToPx(m_axis, m_view, l.start);
        const double x1 = addrToPx(m_axis, m_view, l.end);
        if (x1 < 0 || x0 > width())
            continue;
        // Two bands — below the upper row's strip, and between the lower row's header and its
        // bar — joined by the edges, so the row header stays readable.
        const double top = ga.stripTop + ga.stripHeight + 10;
        const double bottom = gb.barTop - 2;
        const double headerTop = gb.top + 2, headerBottom = gb.top + 22;
        const double w = std::max(1.5, x1 - x0);
        const QRectF upper(x0, top, w, std::max(0.0, headerTop - top));
        const QRectF lower(x0, headerBottom, w, std::max(0.0, bottom - headerBottom));
        p.fillRect(upper, QBrush(band, Qt::Dense4Pattern));
        p.fillRect(lower, QBrush(band, Qt::Dense4Pattern));
        p.setPen(QPen(edge, 1.5, Qt::DashLine));
        p.drawLine(QPointF(x0, top), QPointF(x0, bottom));
        p.drawLine(QPointF(x0 + w, top), QPointF(x0 + w, bottom));
        // A label once the band is wide enough: how many folios it stands for.
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 0.8);
        p.setFont(f);
        const QFontMetrics fm(f);
        const QString label = tr("COW-shared ×%1").arg((l.end - l.start) >> pageShift);
        const QRectF room = upper.height() >= fm.height() ? upper : lower;
        if (w > fm.horizontalAdvance(label) + 8 && room.height() >= fm.height()) {
            const double lw = fm.horizontalAdvance(label) + 6;
            const QRectF lr(x0 + (w - lw) / 2, room.center().y() - fm.height() / 2.0, lw, fm.height());
            p.fillRect(lr, palette().color(QPalette::Base));
            p.setPen(palette().color(QPalette::Text));
            p.drawText(lr, Qt::AlignCenter, label);
        }
        ++m_stats.forkLinks;
    }
}

void AddressSpaceView::paintDifferences(QPainter& p, int row, const RowGeometry& g)
{
    // A hatched vermilion band just under the page strip, and a "≠" badge on the bar: shape
    // and colour, so the difference reads without colour vision too.
    for (const WorldDifference& d : m_differences) {
        if (d.proc != row || d.end <= d.start)
            continue;
        const double x0 = addrToPx(m_axis, m_view, d.start);
        const double x1 = addrToPx(m_axis, m_view, d.end);
        if (x1 < 0 || x0 > width())
            continue;
        const QRectF band(x0, g.stripTop + g.stripHeight + 2, std::max(3.0, x1 - x0), 7);
        p.fillRect(band, differenceColor());
        p.fillRect(band, QBrush(Qt::white, Qt::BDiagPattern));
        if (d.kind != WorldDifference::Kind::Pages) {
            p.setPen(QPen(differenceColor(), 2.5, Qt::DashDotLine));
            p.setBrush(Qt::NoBrush);
            p.drawRect(QRectF(x0, g.barTop, std::max(3.0, x1 - x0), g.barHeight).adjusted(-3, -3, 3, 3));
        }
        QFont f = font();
        f.setBold(true);
        p.setFont(f);
        const QFontMetrics fm(f);
        const QRectF badge(std::clamp(x0, 0.0, width() - 20.0), g.barTop + g.barHeight - fm.height() - 2, 18,
            fm.height());
        p.fillRect(badge, differenceColor());
        p.setPen(Qt::white);
        p.drawText(badge, Qt::AlignCenter, QStringLiteral("≠"));
        ++m_stats.differences;
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
