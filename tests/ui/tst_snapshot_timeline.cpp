// The snapshot timeline window (issue 8, "Watch and diff" and "Summary"): a watch of a live
// process filled by a capture function, the semantic diff's events per capture, the make-up
// charts and tables, saving and reopening, and handing a capture to the main window.
#include "core/snapshot/snapshot_format.h"
#include "tests/ui/snapshot_fixture.h"
#include "ui/chart_view.h"
#include "ui/main_window.h"
#include "ui/snapshot_timeline_window.h"

#include <QAction>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QToolBar>
#include <QtTest>

#include <algorithm>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

const QString fixture = test::snapshotFixture;

snapshot::Snapshot loadFixture()
{
    return test::loadSnapshotFixture();
}

std::vector<snapshot::SnapshotVma>::iterator heapOf(snapshot::SnapshotProcess& p)
{
    return std::find_if(p.vmas.begin(), p.vmas.end(), [](const auto& v) { return v.vma.name == "[heap]"; });
}

// The fixture's process after "mprotect(heap, page_size, PROT_READ)": its heap split in two.
snapshot::Snapshot withHeapSplit(snapshot::Snapshot s)
{
    auto& p = s.processes.front();
    auto heap = heapOf(p);
    snapshot::SnapshotVma first = *heap;
    first.vma.end = first.vma.start + 4096;
    first.vma.perms = "r--p";
    heap->vma.start = first.vma.end;
    p.vmas.insert(heap, first);
    s.monotonicNs += 1'000'000'000;
    return s;
}

// ... and then the heap's first page unmapped.
snapshot::Snapshot withHeapPageUnmapped(snapshot::Snapshot s)
{
    auto& p = s.processes.front();
    p.vmas.erase(heapOf(p) - 1);
    s.monotonicNs += 1'000'000'000;
    return s;
}

QAction* toolbarAction(SnapshotTimelineWindow& w, const QString& text)
{
    for (QToolBar* tb : w.findChildren<QToolBar*>())
        for (QAction* a : tb->actions())
            if (a->text() == text)
                return a;
    return nullptr;
}

} // namespace

class TestSnapshotTimeline : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eventsAndSummaryPerCapture()
    {
        const snapshot::Snapshot a = loadFixture();
        const snapshot::Snapshot b = withHeapSplit(a);
        const snapshot::Snapshot c = withHeapPageUnmapped(b);
        SnapshotTimelineWindow w(nullptr);
        w.setTimeline({ a, b, c }, QStringLiteral("three.vsnap"));
        QCOMPARE(w.entryCount(), 3);
        QCOMPARE(w.selectedEntry(), 2); // the newest capture first

        w.selectEntry(1);
        const auto& events = w.selectedEvents();
        QVERIFY(!events.empty());
        const bool split = std::any_of(events.begin(), events.end(), [](const snapshot::DiffEvent& e) {
            return e.kind == snapshot::EventKind::Split || e.kind == snapshot::EventKind::ProtectionChanged;
        });
        QVERIFY2(split, "the heap's mprotect shows as a split or a protection change");

        w.selectEntry(2);
        const bool shrank = std::any_of(w.selectedEvents().begin(), w.selectedEvents().end(),
            [](const snapshot::DiffEvent& e) { return e.kind == snapshot::EventKind::Unmapped; });
        QVERIFY2(shrank, "the unmapped page shows as unmapped");

        w.selectEntry(0);
        QVERIFY(w.selectedEvents().empty());
        const snapshot::ProcessSummary* s = w.selectedSummary();
        QVERIFY(s);
        const auto& vmas = a.processes.front().vmas;
        QCOMPARE(s->total.vmas, vmas.size());
        QCOMPARE(s->kinds[static_cast<std::size_t>(snapshot::RegionKind::Heap)].vmas, std::uint64_t { 1 });
        QCOMPARE(w.largestRows(), static_cast<int>(std::min<std::size_t>(10, vmas.size())));
        QVERIFY(w.fragmentedRows() > 0); // a program's segments sit side by side
        // The tables and the chart show this capture: the largest VMA first.
        const std::uint64_t biggest = std::max_element(vmas.begin(), vmas.end(), [](const auto& x, const auto& y) {
            return x.vma.end - x.vma.start < y.vma.end - y.vma.start;
        })->vma.end - std::max_element(vmas.begin(), vmas.end(), [](const auto& x, const auto& y) {
            return x.vma.end - x.vma.start < y.vma.end - y.vma.start;
        })->vma.start;
        QCOMPARE(s->largest.front().end - s->largest.front().start, biggest);

        // The split capture has one VMA more, the last one the same count as the first.
        w.selectEntry(1);
        QCOMPARE(w.selectedSummary()->total.vmas, vmas.size() + 1);
        w.selectEntry(2);
        QCOMPARE(w.selectedSummary()->total.vmas, vmas.size());
    }

    void saveAndReopen()
    {
        const snapshot::Snapshot a = loadFixture();
        SnapshotTimelineWindow w(nullptr);
        w.setTimeline({ a, withHeapSplit(a) }, QStringLiteral("two"));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("t.vsnap"));
        QCOMPARE(w.saveFile(path), QString());
        SnapshotTimelineWindow again(nullptr);
        QCOMPARE(again.loadFile(path), QString());
        QCOMPARE(again.entryCount(), 2);
        again.selectEntry(1);
        QVERIFY(!again.selectedEvents().empty());
        // A broken file is an error message, and the timeline stays as it was.
        QFile bad(dir.filePath(QStringLiteral("bad.vsnap")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{ not a snapshot");
        bad.close();
        QVERIFY(!again.loadFile(bad.fileName()).isEmpty());
        QCOMPARE(again.entryCount(), 2);
    }

    void watchUntilTheProcessExits()
    {
        const snapshot::Snapshot a = loadFixture();
        std::vector<snapshot::Snapshot> script { a, withHeapSplit(a), withHeapPageUnmapped(withHeapSplit(a)) };
        int calls = 0;
        CaptureFunction capture = [&script, &calls](std::int64_t pid, bool) -> Result<snapshot::Snapshot> {
            const int i = calls++;
            if (pid != 4242)
                return Diagnostics { Diagnostic { {}, 0, 0, "wrong pid" } };
            if (i < static_cast<int>(script.size()))
                return script[static_cast<std::size_t>(i)];
            return Diagnostics { Diagnostic { {}, 0, 0, "process 4242 no longer exists" } };
        };
        SnapshotTimelineWindow w(capture);
        QSignalSpy added(&w, &SnapshotTimelineWindow::entryAdded);
        w.startWatching(4242, 50);
        QVERIFY(w.watching());
        QTRY_VERIFY_WITH_TIMEOUT(!w.watching(), 10000);
        QCOMPARE(w.entryCount(), 3);
        QCOMPARE(added.count(), 3);
        QVERIFY2(w.statusText().contains(QStringLiteral("no longer exists")), qPrintable(w.statusText()));
        // The captures keep what the watch saw, newest selected.
        QCOMPARE(w.selectedEntry(), 2);
        QVERIFY(!w.selectedEvents().empty());
    }

    void startFromHandsTheCaptureOver()
    {
        const snapshot::Snapshot a = loadFixture();
        SnapshotTimelineWindow w(nullptr);
        w.setTimeline({ a, withHeapSplit(a) }, QStringLiteral("two"));
        w.selectEntry(1);
        std::vector<std::size_t> handed; // VMA counts of the captures handed over
        connect(&w, &SnapshotTimelineWindow::startFromRequested, this,
            [&handed](const snapshot::Snapshot& snap, const QString&) { handed.push_back(snap.processes.front().vmas.size()); });
        QAction* start = toolbarAction(w, QStringLiteral("Start from this capture"));
        QVERIFY(start);
        start->trigger();
        QCOMPARE(handed.size(), std::size_t { 1 });
        QCOMPARE(handed.front(), a.processes.front().vmas.size() + 1);
    }

    void mainWindowOpensTimelineFiles()
    {
        const snapshot::Snapshot a = loadFixture();
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("watch.vsnap"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const std::string bytes = snapshot::writeSnapshots({ a, withHeapSplit(a) });
        f.write(bytes.data(), static_cast<qint64>(bytes.size()));
        f.close();
        MainWindow window;
        QCOMPARE(window.openSnapshot(path), QString());
        auto* timeline = window.findChild<SnapshotTimelineWindow*>();
        QVERIFY2(timeline, "a watch file opens the timeline too");
        QCOMPARE(timeline->entryCount(), 2);
        // A single capture does not.
        MainWindow other;
        QCOMPARE(other.openSnapshot(fixture), QString());
        QVERIFY(!other.findChild<SnapshotTimelineWindow*>());
    }
};

QTEST_MAIN(TestSnapshotTimeline)
#include "tst_snapshot_timeline.moc"
