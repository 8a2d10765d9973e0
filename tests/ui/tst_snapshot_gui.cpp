// Snapshots in the GUI (issue 8): a captured process as the start of a run ("what if"), the
// assumptions the prediction rests on in the narration, and the capture dialog.
#include "core/snapshot/snapshot_format.h"
#include "tests/ui/snapshot_fixture.h"
#include "ui/address_space_view.h"
#include "ui/capture_dialog.h"
#include "ui/inspector_widget.h"
#include "ui/main_window.h"
#include "ui/narration_widget.h"
#include "ui/scenario_session.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

constexpr Addr page_size_for_test = 4096;

const QString fixture = test::snapshotFixture;

snapshot::Snapshot loadFixture()
{
    return test::loadSnapshotFixture();
}

// The start of the captured process's [heap], where the what-if scenario splits it.
Addr heapStart(const snapshot::Snapshot& snap)
{
    for (const auto& v : snap.processes.front().vmas)
        if (v.vma.name == "[heap]")
            return v.vma.start;
    return 0;
}

QString whatIf(Addr heap)
{
    const QString a = QStringLiteral("0x") + QString::number(heap, 16);
    return QStringLiteral("/// Make the heap's first page read-only.\nmprotect(%1, page_size, PROT_READ)\n"
                          "munmap(%1, page_size)\n")
        .arg(a);
}

} // namespace

class TestSnapshotGui : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sessionStartsFromSnapshot()
    {
        const snapshot::Snapshot snap = loadFixture();
        const Addr heap = heapStart(snap);
        QVERIFY(heap != 0);
        ScenarioSession s;
        s.setReferenceMachine(true);
        s.setProfileName(QStringLiteral("maybe-guard-fixed"));
        QCOMPARE(s.loadSnapshot(fixture), QString());
        QVERIFY(s.hasSnapshot());
        QVERIFY(s.run(whatIf(heap), QStringLiteral("whatif.vlab")));
        QCOMPARE(s.opCount(), 2);
        // The start is the captured process: its VMAs (less [vsyscall], above TASK_SIZE).
        const Mm& start = s.history()->initial().procs.at(0);
        std::size_t below = 0;
        for (const auto& v : snap.processes.front().vmas)
            below += v.vma.end <= start.task_size ? 1 : 0;
        QCOMPARE(start.mapCount(), below);
        QVERIFY(start.vmaAt(heap) != nullptr);
        QVERIFY(s.processNames().at(0).contains(QStringLiteral("(captured)")));
        QVERIFY(!s.assumptions().empty());
        // Nothing changed yet: no assumption is in play. After the split, some are.
        s.jumpTo(-1);
        QVERIFY(s.assumptionsInEffect().isEmpty());
        s.jumpTo(0);
        QCOMPARE(s.world().procs[0].mapCount(), start.mapCount() + 1);
        QVERIFY(!s.assumptionsInEffect().isEmpty());
        QVERIFY(s.assumptionsInEffect().size() <= static_cast<int>(s.assumptions().size()));
        // Back to the scenario's own start.
        s.clearSnapshot();
        QVERIFY(!s.hasSnapshot());
        QVERIFY(s.run(QStringLiteral("x = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n"),
            QStringLiteral("plain.vlab")));
        QVERIFY(!s.processNames().at(0).contains(QStringLiteral("(captured)")));
        QVERIFY(s.assumptions().empty());
    }

    void loadSnapshotErrors()
    {
        ScenarioSession s;
        const QString missing = s.loadSnapshot(QStringLiteral("/nonexistent/x.vsnap"));
        QVERIFY(missing.contains(QStringLiteral("cannot read")));
        QTemporaryDir dir;
        const QString junk = dir.filePath(QStringLiteral("junk.vsnap"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{ not a snapshot");
        f.close();
        QVERIFY(!s.loadSnapshot(junk).isEmpty());
        QVERIFY(!s.hasSnapshot());
    }

    void windowNarratesAssumptions()
    {
        const Addr heap = heapStart(loadFixture());
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.resize(1400, 900);
        w.session()->setReferenceMachine(true);
        w.setProfile(QStringLiteral("maybe-guard-fixed"));
        w.openText(whatIf(heap), QStringLiteral("whatif.vlab"));
        QCOMPARE(w.openSnapshot(fixture), QString());
        QVERIFY(w.jumpToOperation(1));
        auto* narration = w.findChild<NarrationWidget*>();
        QVERIFY(narration);
        const QString text = narration->narration();
        QVERIFY(text.contains(QStringLiteral("heap's first page"))); // the scenario's own narration stays
        QVERIFY(text.contains(QStringLiteral("sleep.vsnap")));
        QVERIFY(text.contains(QStringLiteral("assumption")));
        const QStringList used = w.session()->assumptionsInEffect();
        QVERIFY(!used.isEmpty());
        QVERIFY(text.contains(used.front()));
        // The map shows the captured process after the split.
        QCOMPARE(w.mapView()->matchCount(), static_cast<int>(w.session()->world().procs[0].mapCount()));
        QVERIFY(w.openSnapshot(QStringLiteral("/nonexistent.vsnap")).contains(QStringLiteral("cannot read")));
        w.closeSnapshot();
        QVERIFY(!w.session()->hasSnapshot());
        QVERIFY(!w.findChild<NarrationWidget*>()->narration().contains(QStringLiteral("assumption")));
    }

    void inspectorMarksWhatWasAssumed()
    {
        const snapshot::Snapshot snap = loadFixture();
        const Addr heap = heapStart(snap);
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.session()->setReferenceMachine(true);
        w.openText(whatIf(heap), QStringLiteral("whatif.vlab"));
        QCOMPARE(w.openSnapshot(fixture), QString());
        auto* inspector = w.findChild<InspectorWidget*>();
        QVERIFY(inspector);
        const Mm& mm = w.session()->world().procs.at(0);
        const Vma* heapVma = mm.vmaAt(heap + page_size_for_test);
        QVERIFY(heapVma);
        w.selectVma(0, heapVma->id);
        QVERIFY2(inspector->summaryText().contains(QStringLiteral("vmalab assumed")), qPrintable(inspector->summaryText()));
        // Each listed assumption is one the snapshot made for this process.
        const QStringList listed = assumptionsFor(w.session()->assumptions(), mm.pid, *heapVma);
        QVERIFY(!listed.isEmpty());
        for (const QString& a : listed)
            QVERIFY(inspector->summaryText().contains(a));
        // A scenario without a snapshot assumes nothing.
        w.closeSnapshot();
        const Mm& own = w.session()->world().procs.at(0);
        w.selectVma(0, own.vmas.begin()->second.id);
        QVERIFY(!inspector->summaryText().contains(QStringLiteral("vmalab assumed")));
    }

    void listsOwnProcess()
    {
        const auto procs = listReadableProcesses();
        QFile comm(QStringLiteral("/proc/self/comm"));
        QVERIFY(comm.open(QIODevice::ReadOnly));
        const QString name = QString::fromLocal8Bit(comm.readAll()).trimmed();
        bool found = false;
        for (const ProcessEntry& e : procs)
            if (e.pid == ::getpid()) {
                found = true;
                QCOMPARE(e.name, name);
                QCOMPARE(e.uid, static_cast<unsigned>(::getuid()));
                QVERIFY(e.commandLine.contains(QStringLiteral("tst_snapshot_gui")));
            }
        QVERIFY(found);
        for (std::size_t i = 1; i < procs.size(); ++i)
            QVERIFY(procs[i - 1].pid < procs[i].pid);
    }

    void captureDialogSearchAndErrors()
    {
        std::int64_t askedPid = 0;
        bool askedFreeze = true;
        bool fail = true;
        const snapshot::Snapshot snap = loadFixture();
        CaptureDialog d([&](std::int64_t pid, bool freeze) -> Result<snapshot::Snapshot> {
            askedPid = pid;
            askedFreeze = freeze;
            if (fail)
                return Diagnostics { Diagnostic { "", 0, 0,
                    "permission denied reading /proc/42/pagemap: capturing process 42 needs the same user as it "
                    "or CAP_SYS_PTRACE" } };
            return snap;
        });
        d.setProcesses({ { 1, QStringLiteral("systemd"), 0, QStringLiteral("root"), QStringLiteral("/sbin/init") },
            { 42, QStringLiteral("firefox"), 1000, QStringLiteral("ann"), QStringLiteral("/usr/lib/firefox/firefox") },
            { 77, QStringLiteral("bash"), 1000, QStringLiteral("ann"), QStringLiteral("-bash") } });
        QCOMPARE(d.visibleCount(), 3);
        d.setSearch(QStringLiteral("FIRE"));
        QCOMPARE(d.visibleCount(), 1);
        d.setSearch(QStringLiteral("ann"));
        QCOMPARE(d.visibleCount(), 2);
        QVERIFY(!d.selectPid(1)); // filtered out
        d.setSearch(QString());
        QVERIFY(!d.captureSelected()); // nothing selected yet
        QVERIFY(d.errorText().contains(QStringLiteral("Choose")));
        QVERIFY(d.selectPid(42));
        QVERIFY(!d.captureSelected());
        QCOMPARE(askedPid, std::int64_t { 42 });
        QCOMPARE(askedFreeze, false);
        QVERIFY(d.errorText().contains(QStringLiteral("CAP_SYS_PTRACE")));
        QVERIFY(!d.snapshot());
        fail = false;
        QVERIFY(d.captureSelected());
        QVERIFY(d.snapshot().has_value());
        QCOMPARE(d.snapshot()->processes.front().pid, snap.processes.front().pid);
    }
};

QTEST_MAIN(TestSnapshotGui)
#include "tst_snapshot_gui.moc"
