// Side by side profiles (compareWorlds(), CompareWindow), the page-table charts, export
// (SVG, PNG series, animated GIF, Markdown), play/pause and the themes.
#include "core/vm_flags.h"
#include "ui/address_space_view.h"
#include "ui/chart_view.h"
#include "ui/compare_window.h"
#include "ui/export.h"
#include "ui/main_window.h"
#include "ui/world_diff.h"

#include <QApplication>
#include <QFile>
#include <QImageReader>
#include <QListWidget>
#include <QPalette>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

namespace {

constexpr Addr P = pageSize;

QString readSource(const char* relative)
{
    QFile f(QStringLiteral(VMALAB_SOURCE_DIR "/") + QLatin1String(relative));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// §17 P4: in v6.18 guard install gives a shared memfd VMA an anon_vma, so after fork the
// child's new neighbour does not merge; with the VM_MAYBE_GUARD series it does.
const char* p4Scenario = "resources/scenarios/fork_new_neighbour_merges_with_guarded_vma.vlab";

World oneVma(Addr start, std::uint64_t pages, VmFlags flags)
{
    World w;
    w.procs.resize(1);
    Vma v;
    v.id = 1;
    v.vm_start = start;
    v.vm_end = start + pages * P;
    v.vm_flags = flags;
    w.procs[0].insert(v);
    return w;
}

} // namespace

class TestCompareExport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("vmalab-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_compare_export"));
    }

    void compareWorldsFindsEachKind()
    {
        const Addr base = 0x7f0000000000;
        World a = oneVma(base, 8, VM_READ | VM_WRITE);
        World b = oneVma(base, 8, VM_READ | VM_WRITE | VM_MAYBE_GUARD);
        QVERIFY(compareWorlds(a, a, {}, QStringLiteral("A"), QStringLiteral("B")).empty());
        auto d = compareWorlds(a, b, { QStringLiteral("main") }, QStringLiteral("A"), QStringLiteral("B"));
        QCOMPARE(d.size(), std::size_t { 1 });
        QCOMPARE(d[0].kind, WorldDifference::Kind::VmaFlags);
        QVERIFY(d[0].text.contains(QStringLiteral("VM_MAYBE_GUARD only under B")));
        QCOMPARE(d[0].start, base);

        // A split on one side: two ranges only under B, one only under A, and the counts.
        World c = oneVma(base, 4, VM_READ | VM_WRITE);
        Vma second = c.procs[0].vmas.begin()->second;
        second.id = 2;
        second.vm_start = base + 4 * P;
        second.vm_end = base + 8 * P;
        c.procs[0].insert(second);
        d = compareWorlds(a, c, {}, QStringLiteral("A"), QStringLiteral("B"));
        int onlyA = 0, onlyB = 0, stats = 0;
        for (const auto& x : d) {
            onlyA += x.kind == WorldDifference::Kind::VmaOnlyInA;
            onlyB += x.kind == WorldDifference::Kind::VmaOnlyInB;
            stats += x.kind == WorldDifference::Kind::Stat;
        }
        QCOMPARE(onlyA, 1);
        QCOMPARE(onlyB, 2);
        QCOMPARE(stats, 1); // VMAs: 1 vs 2

        // Pages: a guard marker on one side only, joined into one run of 2 pages.
        World g = a;
        Pte guard;
        guard.state = PageState::Guard;
        guard.kind = Pte::Kind::Marker;
        g.procs[0].ptes.assign((base >> pageShift) + 2, (base >> pageShift) + 4, guard);
        d = compareWorlds(a, g, {}, QStringLiteral("A"), QStringLiteral("B"));
        bool pages = false;
        for (const auto& x : d)
            if (x.kind == WorldDifference::Kind::Pages) {
                pages = true;
                QCOMPARE(x.start, base + 2 * P);
                QCOMPARE(x.end, base + 4 * P);
                QVERIFY(x.text.contains(QStringLiteral("guard marker under B")));
            }
        QVERIFY(pages);
    }

    void compareWindowStepsBothAndShowsTheSeries()
    {
        const QString text = readSource(p4Scenario);
        QVERIFY(!text.isEmpty());
        CompareWindow w;
        w.setProfiles(QStringLiteral("v6.18"), QStringLiteral("maybe-guard"));
        QVERIFY(w.setScenario(text, QStringLiteral("p4.vlab")));
        QCOMPARE(w.sessionA()->effectiveProfile(), QStringLiteral("v6.18"));
        QCOMPARE(w.sessionB()->effectiveProfile(), QStringLiteral("maybe-guard"));
        QVERIFY(w.opCount() > 5);
        // Nothing differs before the guard is installed; from then on the runs differ.
        w.jumpTo(-1);
        QVERIFY(w.differences().empty());
        QVERIFY(w.firstDifferingOp() >= 0);
        w.jumpToFirstDifference();
        QCOMPARE(w.currentOp(), w.firstDifferingOp());
        QCOMPARE(w.sessionA()->currentOp(), w.currentOp());
        QCOMPARE(w.sessionB()->currentOp(), w.currentOp());
        QVERIFY(!w.differences().empty());
        QCOMPARE(w.differenceList()->count(), static_cast<int>(w.differences().size()));
        // At the end: the child's new mapping merged under the series, not under v6.18.
        w.jumpTo(w.opCount() - 1);
        bool layout = false, flags = false;
        for (const auto& d : w.differences()) {
            layout = layout || (d.kind == WorldDifference::Kind::VmaOnlyInB && d.proc == 1);
            flags = flags || (d.kind == WorldDifference::Kind::VmaFlags && d.text.contains(QStringLiteral("MAYBE_GUARD")));
        }
        QVERIFY(layout);
        QVERIFY(flags);
        w.stepBack();
        QCOMPARE(w.currentOp(), w.opCount() - 2);
        QCOMPARE(w.sessionB()->currentOp(), w.opCount() - 2);
        // Both maps share one axis, and a zoom on one shows on the other.
        QCOMPARE(w.mapA()->axis().units(), w.mapB()->axis().units());
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.mapA()->zoomIn();
        QCOMPARE(w.mapB()->viewport().pxPerUnit, w.mapA()->viewport().pxPerUnit);
        QCOMPARE(w.mapB()->viewport().u0, w.mapA()->viewport().u0);
        QImage img(w.mapA()->size(), QImage::Format_ARGB32);
        w.mapA()->render(&img);
        QVERIFY(w.mapA()->lastPaintStats().differences > 0);
        // The chart: PTE tables and PTEs copied at fork under each profile.
        QCOMPARE(w.chart()->seriesCount(), 4);
        QCOMPARE(static_cast<int>(w.chart()->values(0).size()), w.opCount() + 1);
        QVERIFY(w.chart()->values(1).back() > 0); // fork copied PTEs under v6.18
    }

    void chartsCountPageTablesAndForkCopies()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s, QStringLiteral("v6.18"), readSource(p4Scenario)));
        const std::vector<WorldStats> st = historyStats(*s.history());
        QVERIFY(st.front().pteTables >= 0);
        QCOMPARE(st.front().forkPtesCopied, 0LL);
        QVERIFY(st.back().forkPtesCopied > 0);
        QVERIFY(st.back().pteTables > st.front().pteTables);
        ChartView chart;
        chart.setHistory(s.history());
        QCOMPARE(chart.pageTableChart()->seriesCount(), 2);
        QCOMPARE(chart.pageTableChart()->values(0).back(), static_cast<double>(st.back().pteTables));
        QCOMPARE(chart.pageTableChart()->values(1).back(), static_cast<double>(st.back().forkPtesCopied));
    }

    void gifPaletteKeepsFlatColours()
    {
        QImage a(40, 20, QImage::Format_RGB32);
        a.fill(QColor(0x56, 0xb4, 0xe9));
        for (int x = 0; x < 10; ++x)
            a.setPixelColor(x, 0, QColor(0xf0, 0xe4, 0x42));
        const auto pal = gifPalette({ a });
        QCOMPARE(pal.size(), std::size_t { 2 });
        QCOMPARE(pal[0], qRgb(0x56, 0xb4, 0xe9)); // most frequent first
        // More than 256 colours: the frequent ones stay exact, with a grey ramp for the rest.
        QImage g(300, 300, QImage::Format_RGB32);
        g.fill(QColor(0x00, 0x9e, 0x73));
        for (int i = 0; i < 290; ++i)
            g.setPixelColor(i, 299, QColor(i % 256, (i * 7) % 256, 100));
        const auto big = gifPalette({ g });
        QCOMPARE(big.size(), std::size_t { 256 });
        QCOMPARE(big[0], qRgb(0x00, 0x9e, 0x73));
    }

    void exportsFromTheWindow()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.setProfile(QStringLiteral("v6.18"));
        w.openText(test::splitMergeScenario(), QStringLiteral("split.vlab"));
        w.resize(1200, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.jumpToOperation(3));
        const int ops = w.session()->opCount();

        const QString svg = dir.filePath(QStringLiteral("map.svg"));
        QVERIFY(w.exportMapSvg(svg));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray svgText = f.readAll();
        QVERIFY(svgText.contains("<svg"));
        QVERIFY(svgText.contains("main")); // the row header's text is text, not pixels
        QVERIFY(!w.exportMapSvg(dir.filePath(QStringLiteral("no/such/dir/map.svg"))));

        const QStringList series = w.exportPngSeries(dir.filePath(QStringLiteral("series")));
        QCOMPARE(series.size(), ops + 1);
        QVERIFY(series.front().endsWith(QStringLiteral("split-000.png")));
        QCOMPARE(QImage(series.back()).size(), w.mapView()->size());
        QCOMPARE(w.session()->currentOp(), 2); // the position is restored

        const QString md = dir.filePath(QStringLiteral("trace.md"));
        QVERIFY(w.exportHistoryMarkdown(md));
        QFile mf(md);
        QVERIFY(mf.open(QIODevice::ReadOnly));
        const QString mdText = QString::fromUtf8(mf.readAll());
        QCOMPARE(mdText.count(QStringLiteral("\n## Operation ")), ops);
        QVERIFY(mdText.contains(QStringLiteral("mprotect(")));
        QVERIFY(mdText.contains(QStringLiteral("| # | kernel function |")));

        if (!gifSupported())
            QSKIP("built without giflib");
        const QString gif = dir.filePath(QStringLiteral("steps.gif"));
        QString err;
        QVERIFY2(w.exportGif(gif, &err), qPrintable(err));
        QFile gf(gif);
        QVERIFY(gf.open(QIODevice::ReadOnly));
        QCOMPARE(gf.read(6), QByteArray("GIF89a"));
        QImageReader reader(gif);
        if (reader.canRead()) {
            QCOMPARE(reader.imageCount(), ops + 1);
            QCOMPARE(reader.size(), w.mapView()->size());
            QVERIFY(reader.loopCount() != 0); // loops
        }
        QVERIFY(!writeAnimatedGif({}, 100, gif, &err));
    }

    void playStepsToTheEndAndStops()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.setProfile(QStringLiteral("v6.18"));
        w.openText(test::splitMergeScenario(), QStringLiteral("split.vlab"));
        w.setPlaySpeed(50);
        QCOMPARE(w.playSpeed(), 50.0);
        QSignalSpy moved(w.session(), &ScenarioSession::currentChanged);
        w.setPlaying(true);
        QVERIFY(w.isPlaying());
        QTRY_VERIFY_WITH_TIMEOUT(!w.isPlaying(), 5000);
        QCOMPARE(w.session()->currentOp(), w.session()->opCount() - 1);
        QCOMPARE(moved.count(), w.session()->opCount());
        // Pause in the middle keeps the position.
        w.setPlaySpeed(2);
        w.setPlaying(true); // at the end: starts again from the beginning
        QCOMPARE(w.session()->currentOp(), -1);
        w.setPlaying(false);
        QTest::qWait(700);
        QCOMPARE(w.session()->currentOp(), -1);
    }

    void themesFollowTheChoice()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.setDarkTheme(true);
        QVERIFY(w.darkTheme());
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() < 128);
        w.setDarkTheme(false);
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() >= 128);
    }
};

QTEST_MAIN(TestCompareExport)
#include "tst_compare_export.moc"
