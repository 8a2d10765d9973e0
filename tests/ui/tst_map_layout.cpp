#include "tests/ui/many_small_vmas.h"
#include "core/engine/layout.h"
#include "core/vm_flags.h"
#include "ui/address_space_view.h"
#include "ui/chart_view.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"
#include "ui/maple_layout.h"

#include <QImage>
#include <QPainter>
#include <QTest>

#include "ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

namespace {

constexpr Addr P = pageSize;

// Two small VMAs with a one-page gap, then a gap of 1 TiB, then a third.
MapAxis smallAxis()
{
    return buildAxis({ { 0x10000, 0x10000 + 4 * P }, { 0x10000 + 5 * P, 0x10000 + 7 * P },
                         { 0x10000 + (Addr { 1 } << 40), 0x10000 + (Addr { 1 } << 40) + 2 * P } },
        0x10000, 0x10000 + (Addr { 1 } << 40) + 2 * P);
}

// Splits the VMA at index i of process 0 after its first page, as mprotect would; returns the new VMA's id.
VmaId splitAt(World& w, std::size_t i)
{
    Mm& mm = w.procs[0];
    auto it = mm.vmas.begin();
    for (std::size_t k = 0; k < i; ++k)
        ++it;
    Vma v = it->second;
    while (v.pages() < 2) {
        ++it;
        v = it->second;
    }
    Vma upper = v;
    upper.id = w.newVmaId();
    upper.vm_start = v.vm_start + pageSize;
    upper.vm_flags ^= VM_WRITE;
    mm.erase(v.vm_start);
    v.vm_end = upper.vm_start;
    mm.insert(v);
    mm.insert(upper);
    return upper.id;
}

} // namespace

class TestMapLayout : public QObject
{
    Q_OBJECT
private Q_SLOTS:

    void columnSummaryAtFullZoomOut()
    {
        // 6,000 VMAs in 1,200 pixels: drawn as per-column summaries, every VMA counted, and
        // the one guard page still hatched black on yellow.
        const World w = vmalab::ui::test::manySmallVmas(6000, [](int i) { return i == 3000; });
        AddressSpaceView view;
        view.resize(1200, 400);
        view.setWorld(w, { QStringLiteral("main") }, {});
        view.fitAll();
        QImage img(view.size(), QImage::Format_ARGB32);
        view.render(&img);
        const auto stats = view.lastPaintStats();
        QCOMPARE(stats.bars, 6000);
        QCOMPARE(stats.guardRuns, 1);
        QCOMPARE(stats.labels, 0);
        const RowGeometry g = rowGeometry(0, 34.0, std::clamp((400.0 - 34 - 50 - 6), 110.0, 330.0));
        int yellow = 0, black = 0;
        for (int x = 0; x < img.width(); ++x)
            for (int dy = 2; dy < 10; ++dy) {
                const QColor c = img.pixelColor(x, static_cast<int>(g.stripTop) + dy);
                yellow += c == QColor(0xf0, 0xe4, 0x42) ? 1 : 0;
                black += c == QColor(Qt::black) ? 1 : 0;
            }
        QVERIFY(yellow > 0 && black > 0);
        // The bar row is coloured (anonymous) across the mapped part, not left blank.
        const QColor anon = vmaKindColor(VmaKind::Anonymous);
        int anonPixels = 0;
        for (int x = 0; x < img.width(); ++x)
            anonPixels += img.pixelColor(x, static_cast<int>(g.barTop + g.barHeight / 2)) == anon ? 1 : 0;
        QVERIFY(anonPixels > img.width() / 2);
    }

    void stepPatchesSceneLikeAFullBuild()
    {
        // A step (split one VMA) and back: the patched scene draws exactly what a view
        // given the same world from scratch draws, and keeps the axis.
        const World before = vmalab::ui::test::manySmallVmas(3000, [](int i) { return i == 10; });
        World after = before;
        const VmaId created = splitAt(after, 1500);
        AddressSpaceView view;
        view.resize(1200, 400);
        view.setWorld(before, { QStringLiteral("main") }, {});
        const Mm& mm = before.procs[0];
        auto it = mm.vmas.begin();
        for (int k = 0; k < 1480; ++k)
            ++it;
        const Addr from = it->second.vm_start;
        for (int k = 0; k < 40; ++k)
            ++it;
        view.fitRange(from, it->second.vm_end);
        QImage img(view.size(), QImage::Format_ARGB32);
        view.render(&img);
        const std::size_t segments = view.axis().segments.size();
        const double units = view.axis().units();

        PositionChanges changes;
        changes.created.insert(created);
        view.setWorld(after, { QStringLiteral("main") }, changes);
        QCOMPARE(view.axis().segments.size(), segments); // the union of ranges is unchanged
        QCOMPARE(view.axis().units(), units);
        view.setSelection(0, created);
        QCOMPARE(view.selectedId(), created); // the patched scene holds the new VMA
        view.render(&img);

        AddressSpaceView fresh;
        fresh.resize(1200, 400);
        fresh.setWorld(after, { QStringLiteral("main") }, changes);
        fresh.setViewport(view.viewport());
        fresh.setSelection(0, created);
        QImage img2(fresh.size(), QImage::Format_ARGB32);
        fresh.render(&img2);
        QCOMPARE(view.lastPaintStats().bars, fresh.lastPaintStats().bars);
        QVERIFY(img == img2);

        // And back: the new VMA is gone again, so is the selection.
        view.setWorld(before, { QStringLiteral("main") }, {});
        QCOMPARE(view.selectedId(), VmaId { 0 });
        view.render(&img);
        AddressSpaceView fresh2;
        fresh2.resize(1200, 400);
        fresh2.setWorld(before, { QStringLiteral("main") }, {});
        fresh2.setViewport(view.viewport());
        fresh2.render(&img2);
        QVERIFY(img == img2);
    }
    void axisIsToScaleInsideMappings()
    {
        const MapAxis a = smallAxis();
        QCOMPARE(a.segments.size(), std::size_t { 5 }); // vma, gap, vma, gap, vma
        QVERIFY(!a.segments[0].gap);
        QVERIFY(a.segments[1].gap && !a.segments[1].compressed);
        QVERIFY(a.segments[3].gap && a.segments[3].compressed);
        QCOMPARE(addrToUnit(a, 0x10000), 0.0);
        QCOMPARE(addrToUnit(a, 0x10000 + 4 * P), 4.0);
        QCOMPARE(addrToUnit(a, 0x10000 + 5 * P), 5.0); // the small gap is one page wide
        QCOMPARE(addrToUnit(a, 0x10000 + 7 * P), 7.0);
        // The big gap is compressed but still wider than the small one, and monotonic.
        const double big = a.segments[3].u1 - a.segments[3].u0;
        QVERIFY(big > 16 && big < 100);
        QVERIFY(addrToUnit(a, 0x10000 + (Addr { 1 } << 39)) > 7.0);
        for (Addr addr : { Addr { 0x10000 }, 0x10000 + 3 * P, 0x10000 + 6 * P, 0x10000 + (Addr { 1 } << 40) + P })
            QCOMPARE(unitToAddr(a, addrToUnit(a, addr)), addr);
        QCOMPARE(gapUnits(8, 16), 8.0);
        QVERIFY(gapUnits(1 << 20, 16) > gapUnits(1 << 10, 16));
    }

    void axisOverUnionOfProcesses()
    {
        // Overlapping ranges of two processes make one mapped run (fork children line up).
        const MapAxis a = buildAxis({ { 0x1000, 0x5000 }, { 0x3000, 0x9000 } }, 0x1000, 0x9000);
        QCOMPARE(a.segments.size(), std::size_t { 1 });
        QCOMPARE(a.units(), 8.0);
    }

    void pixelsAndZoom()
    {
        const MapAxis a = smallAxis();
        Viewport v = fitUnits(0, 7, 10, 700, 0.0);
        QCOMPARE(v.pxPerUnit, 100.0);
        QCOMPARE(addrToPx(a, v, 0x10000), 10.0);
        QCOMPARE(addrToPx(a, v, 0x10000 + 2 * P), 210.0);
        QCOMPARE(pxToAddr(a, v, 215.0), 0x10000 + 2 * P);
        // Zooming keeps the address under the pointer in place.
        const Addr under = pxToAddr(a, v, 310.0);
        const Viewport z = zoomAt(v, 310.0, 2.0, a.units());
        QCOMPARE(z.pxPerUnit, 200.0);
        QCOMPARE(pxToAddr(a, z, 310.0), under);
        // Never beyond one page = maxPxPerPage, never smaller than the whole axis.
        const Viewport in = zoomAt(v, 310.0, 1000.0, a.units());
        QCOMPARE(in.pxPerUnit, maxPxPerPage);
        const Viewport out = zoomAt(v, 310.0, 1e-9, a.units());
        QVERIFY(out.pxPerUnit * a.units() >= 0.85 * v.width);
        // Panning stops at the ends.
        Viewport pan = v;
        pan.u0 = -1000;
        QVERIFY(clampView(pan, a.units()).u0 >= -1e-9);
    }

    void levelOfDetail()
    {
        QCOMPARE(labelDetail(5), LabelDetail::None);
        QCOMPARE(labelDetail(60), LabelDetail::Short);
        QCOMPARE(labelDetail(200), LabelDetail::Medium);
        QCOMPARE(labelDetail(900), LabelDetail::Full);
        QVERIFY(!pageCellsVisible(1.0));
        QVERIFY(pageCellsVisible(8.0));
        QVERIFY(!pageAddressesVisible(20.0));
        QVERIFY(pageAddressesVisible(200.0));
    }

    void hitTesting()
    {
        const MapAxis a = smallAxis();
        const Viewport v = fitUnits(0, 7, 0, 700, 0.0);
        const std::vector<std::vector<SceneVma>> rows = {
            { { 0, 11, 0x10000, 0x10000 + 4 * P }, { 0, 12, 0x10000 + 5 * P, 0x10000 + 7 * P } },
            { { 1, 21, 0x10000, 0x10000 + 4 * P } },
        };
        const double top = 30, rowH = 150;
        const RowGeometry g0 = rowGeometry(0, top, rowH);
        const RowGeometry g1 = rowGeometry(1, top, rowH);
        MapHit h = hitTest(a, v, rows, top, rowH, QPointF(150, g0.barTop + 5));
        QCOMPARE(h.proc, 0);
        QCOMPARE(h.id, VmaId { 11 });
        QCOMPARE(h.addr, 0x10000 + P);
        QVERIFY(!h.inStrip);
        h = hitTest(a, v, rows, top, rowH, QPointF(450, g0.barTop + 5)); // the one-page gap
        QCOMPARE(h.proc, 0);
        QCOMPARE(h.id, VmaId { 0 });
        h = hitTest(a, v, rows, top, rowH, QPointF(550, g0.stripTop + 2));
        QCOMPARE(h.id, VmaId { 12 });
        QVERIFY(h.inStrip);
        h = hitTest(a, v, rows, top, rowH, QPointF(50, g1.barTop + 5));
        QCOMPARE(h.proc, 1);
        QCOMPARE(h.id, VmaId { 21 });
        QCOMPARE(hitTest(a, v, rows, top, rowH, QPointF(50, 5)).proc, -1);
        // At full zoom-out a one-page VMA is a sliver; it is still hit within 3 pixels.
        const Viewport far = fitUnits(0, a.units(), 0, 200, 0.0);
        const double x = addrToPx(a, far, 0x10000 + (Addr { 1 } << 40));
        const std::vector<std::vector<SceneVma>> tiny = {
            { { 0, 7, 0x10000 + (Addr { 1 } << 40), 0x10000 + (Addr { 1 } << 40) + P } }
        };
        QCOMPARE(hitTest(a, far, tiny, top, rowH, QPointF(x - 2, g0.barTop + 5)).id, VmaId { 7 });
    }

    void textHelpers()
    {
        QCOMPARE(formatBytes(4096), QStringLiteral("4 KiB"));
        QCOMPARE(formatBytes(3 << 19), QStringLiteral("1.5 MiB"));
        QCOMPARE(formatBytes(Addr { 85 } << 40), QStringLiteral("85 TiB"));
        Addr x = 0;
        QVERIFY(parseAddress(QStringLiteral(" 0x7ffff7a00000 "), &x));
        QCOMPARE(x, Addr { 0x7ffff7a00000 });
        QVERIFY(parseAddress(QStringLiteral("7fff_f7a0_0000"), &x));
        QCOMPARE(x, Addr { 0x7ffff7a00000 });
        QVERIFY(parseAddress(QStringLiteral("0d4096"), &x));
        QCOMPARE(x, Addr { 4096 });
        QVERIFY(!parseAddress(QStringLiteral("hello"), &x));
        QVERIFY(!parseAddress(QString(), &x));
    }

    void filterWords()
    {
        const QStringList mn = { QStringLiteral("rd"), QStringLiteral("wr"), QStringLiteral("ac") };
        const VmFlags f = VM_READ | VM_WRITE | VM_ACCOUNT;
        QVERIFY(vmaMatchesFilter(QString(), QStringLiteral("[heap]"), QStringLiteral("rw-p"), mn, f));
        QVERIFY(vmaMatchesFilter(QStringLiteral("heap"), QStringLiteral("[heap]"), QStringLiteral("rw-p"), mn, f));
        QVERIFY(vmaMatchesFilter(QStringLiteral("rw-"), QStringLiteral(""), QStringLiteral("rw-p"), mn, f));
        QVERIFY(!vmaMatchesFilter(QStringLiteral("r-x"), QStringLiteral(""), QStringLiteral("rw-p"), mn, f));
        QVERIFY(vmaMatchesFilter(QStringLiteral("ac"), QStringLiteral(""), QStringLiteral("rw-p"), mn, f));
        QVERIFY(vmaMatchesFilter(QStringLiteral("VM_ACCOUNT"), QStringLiteral(""), QStringLiteral("rw-p"), mn, f));
        QVERIFY(
            vmaMatchesFilter(QStringLiteral("account heap"), QStringLiteral("[heap]"), QStringLiteral("rw-p"), mn, f));
        QVERIFY(!vmaMatchesFilter(QStringLiteral("locked"), QStringLiteral("[heap]"), QStringLiteral("rw-p"), mn, f));
    }

    void kindsAndPages()
    {
        World w;
        w.procs.push_back(makeDefaultProcess(w, 1000));
        const Mm& mm = w.procs[0];
        int heap = 0, stack = 0, file = 0, special = 0;
        for (const auto& e : mm.vmas) {
            switch (vmaKind(w, mm, e.second)) {
            case VmaKind::Heap:
                ++heap;
                break;
            case VmaKind::Stack:
                ++stack;
                break;
            case VmaKind::File:
                ++file;
                break;
            case VmaKind::Special:
                ++special;
                break;
            default:
                break;
            }
        }
        QCOMPARE(heap, 1);
        QCOMPARE(stack, 1);
        QVERIFY(file >= 8);
        QVERIFY(special >= 2);
        Pte guard;
        guard.state = PageState::Guard;
        guard.kind = Pte::Kind::Marker;
        QCOMPARE(pageKind(&guard), PageKind::Guard);
        Pte zero;
        zero.kind = Pte::Kind::ZeroPage;
        QCOMPARE(pageKind(&zero), PageKind::ZeroPage);
        QCOMPARE(pageKind(nullptr), PageKind::None);
        // Every kind has its own colour.
        for (int i = 0; i < vmaKindCount; ++i)
            for (int j = i + 1; j < vmaKindCount; ++j)
                QVERIFY(vmaKindColor(static_cast<VmaKind>(i)) != vmaKindColor(static_cast<VmaKind>(j)));
    }

    // The view paints what the world holds: a bar per visible VMA, guard markers drawn as
    // their own runs, labels only where they fit.
    void viewPaintsStructure()
    {
        World w;
        w.procs.push_back(makeDefaultProcess(w, 1000));
        Mm& mm = w.procs[0];
        const Vma heap = *mm.vmaAt(mm.start_brk);
        Pte guard;
        guard.state = PageState::Guard;
        guard.kind = Pte::Kind::Marker;
        mm.ptes.assign((heap.vm_start >> pageShift) + 2, (heap.vm_start >> pageShift) + 4, guard);
        Pte anon;
        mm.ptes.assign(heap.vm_start >> pageShift, (heap.vm_start >> pageShift) + 1, anon);
        AddressSpaceView view;
        view.resize(1200, 400);
        PositionChanges changes;
        changes.created.insert(heap.id);
        view.setWorld(w, { QStringLiteral("main") }, changes);
        view.setFocusRange(heap.vm_start, heap.vm_end);
        view.fitScenario();
        QImage img(view.size(), QImage::Format_ARGB32);
        view.render(&img);
        auto stats = view.lastPaintStats();
        int visible = 0;
        for (const auto& e : mm.vmas)
            visible += addrToPx(view.axis(), view.viewport(), e.second.vm_end) > 0
                    && addrToPx(view.axis(), view.viewport(), e.second.vm_start) < view.width()
                ? 1
                : 0;
        QVERIFY(visible >= 1);
        QCOMPARE(stats.bars, visible);
        QCOMPARE(stats.guardRuns, 1);
        QCOMPARE(stats.pageRuns, 2);
        QVERIFY(stats.labels >= 1); // the heap, wide enough to be labelled
        // The guard run is hatched black on yellow: both colours appear in its cells.
        const double gx = addrToPx(view.axis(), view.viewport(), heap.vm_start + 2 * P) + 3;
        const RowGeometry g = rowGeometry(0, 34.0, std::clamp((400.0 - 34 - 50 - 6), 110.0, 330.0));
        bool yellow = false, black = false;
        for (int dx = 0; dx < 12; ++dx)
            for (int dy = 2; dy < 10; ++dy) {
                const QColor c = img.pixelColor(static_cast<int>(gx) + dx, static_cast<int>(g.stripTop) + dy);
                yellow = yellow || c == QColor(0xf0, 0xe4, 0x42);
                black = black || c == QColor(Qt::black);
            }
        QVERIFY(yellow && black);

        view.fitAll();
        view.render(&img);
        stats = view.lastPaintStats();
        QCOMPARE(stats.bars, static_cast<int>(mm.mapCount()));
        QVERIFY(stats.gapLabels >= 2); // below the program and between heap and libc
        QVERIFY(stats.labels < stats.bars); // small VMAs get no text at this zoom
    }

    void lookupSelectsAndCentres()
    {
        World w;
        w.procs.push_back(makeDefaultProcess(w, 1000));
        const Mm& mm = w.procs[0];
        AddressSpaceView view;
        view.resize(1000, 400);
        view.setWorld(w, { QStringLiteral("main") }, {});
        view.fitAll();
        const Vma heap = *mm.vmaAt(mm.start_brk);
        const QString msg = view.lookupAddress(heap.vm_start + 5 * P);
        QVERIFY(msg.contains(QStringLiteral("VMA #%1").arg(heap.id)));
        QCOMPARE(view.selectedId(), heap.id);
        const double x = addrToPx(view.axis(), view.viewport(), heap.vm_start + 5 * P);
        QVERIFY(x > 0 && x < 1000);
        const QString gap = view.lookupAddress(0x600000000000);
        QVERIFY(gap.contains(QStringLiteral("not mapped")));
    }

    void mapleLeavesFollowNodeSizes()
    {
        QCOMPARE(evenSplit(16, 16), std::vector<int>({ 16 }));
        QCOMPARE(evenSplit(17, 16), std::vector<int>({ 9, 8 }));
        QCOMPARE(evenSplit(45, 16), std::vector<int>({ 15, 15, 15 }));
        QVERIFY(evenSplit(0, 16).empty());

        // A small tree is one leaf and nothing else.
        std::vector<MapleRange> few = { { 0, 0xfff, 0 }, { 0x1000, 0x1fff, 1 }, { 0x2000, ~Addr { 0 }, 0 } };
        MapleLayout one = buildMapleLayout(few);
        QCOMPARE(one.nodes.size(), std::size_t { 1 });
        QCOMPARE(one.height, 1);

        // The default process: ranges cover [0, ULONG_MAX] without holes, VMA / NULL alternate.
        World w;
        w.procs.push_back(makeDefaultProcess(w, 1000));
        const auto ranges = mapleRanges(w.procs[0]);
        QCOMPARE(ranges.front().first, Addr { 0 });
        QCOMPARE(ranges.back().last, ~Addr { 0 });
        for (std::size_t i = 1; i < ranges.size(); ++i) {
            QCOMPARE(ranges[i].first, ranges[i - 1].last + 1);
            QVERIFY(ranges[i].id != 0 || ranges[i - 1].id != 0); // NULLs coalesce
        }
        const MapleLayout t = buildMapleLayout(w.procs[0]);
        int leaves = 0;
        std::size_t slotCount = 0;
        for (std::size_t i = 0; i < t.nodes.size(); ++i) {
            const MapleNode& n = t.nodes[i];
            if (n.leaf) {
                ++leaves;
                slotCount += n.ranges.size();
                QVERIFY(static_cast<int>(n.ranges.size()) <= mapleLeafSlots);
                QVERIFY(static_cast<int>(n.ranges.size()) >= mapleLeafSlots / 2);
                if (i + 1 < t.nodes.size() && t.nodes[i + 1].leaf)
                    QVERIFY2(n.ranges.back().id != 0, "only the last leaf may end with NULL");
            } else {
                QVERIFY(static_cast<int>(n.children.size()) <= mapleArangeSlots);
            }
        }
        QCOMPARE(slotCount, ranges.size());
        QCOMPARE(leaves, static_cast<int>((ranges.size() + 15) / 16));
        const MapleNode& root = t.nodes[static_cast<std::size_t>(t.root())];
        QCOMPARE(root.min, Addr { 0 });
        QCOMPARE(root.max, ~Addr { 0 });
        // Gap tracking: the first leaf's largest NULL range is the one below the program
        // (~85 TiB); the largest of all is above the stack, up to ULONG_MAX.
        QCOMPARE(t.height, 2);
        QCOMPARE(root.gaps.front(), Addr { 0x555555554000 });
        QCOMPARE(root.gaps.back(), ~Addr { 0 } - 0x7ffffffff000);

        // Drawn without overlaps; every VMA found in some leaf.
        const auto rects = mapleNodeRects(t, MapleGeometry {});
        for (std::size_t i = 0; i < rects.size(); ++i)
            for (std::size_t j = i + 1; j < rects.size(); ++j)
                QVERIFY(!rects[i].intersects(rects[j]));
        for (const auto& e : w.procs[0].vmas)
            QVERIFY(mapleFind(t, e.second.id).first >= 0);
        QCOMPARE(mapleFind(t, 999999).first, -1);
    }

    void chartStatsCountPages()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        const auto stats = historyStats(*s.history());
        QCOMPARE(static_cast<int>(stats.size()), s.opCount() + 1);
        QCOMPARE(stats[3].rssPages - stats[2].rssPages, 2LL); // the touch of two pages
        QCOMPARE(stats[2].vmas - stats[1].vmas, 2); // MAP_FIXED splits the reservation
        ChartView chart;
        chart.setHistory(s.history());
        QCOMPARE(chart.pointCount(), s.opCount() + 1);
    }
};

QTEST_MAIN(TestMapLayout)
#include "tst_map_layout.moc"
