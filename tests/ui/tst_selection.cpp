// Stepping keeps a VMA the user selected while it lives (issue 7): the selection follows what
// each step made only until the user picks one.
#include "ui/address_space_view.h"
#include "ui/inspector_widget.h"
#include "ui/main_window.h"
#include "ui/scenario_session.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

// Three separate mappings, then operations that change only the last two.
const QString splitScenario = QStringLiteral(
    "arena_len = 64 * page_size\n"
    "arena = mmap(NULL, arena_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\n"
    "a = mmap(arena, 4 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)\n"
    "b = mmap(arena + 16 * page_size, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)\n"
    "c = mmap(arena + 32 * page_size, 4 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)\n"
    "mprotect(b, page_size, PROT_READ)\n"
    "mprotect(c + page_size, page_size, PROT_NONE)\n");

} // namespace

class TestSelection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void userSelectionSurvivesSteps()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.session()->setReferenceMachine(true);
        w.openText(splitScenario, QStringLiteral("sel.vlab"));
        QVERIFY(w.jumpToOperation(4)); // after the three mmaps
        const Mm& mm = w.session()->world().procs.at(0);
        const Vma* a = mm.vmaAt(EngineWindowStart(w));
        QVERIFY(a);
        const VmaId id = a->id;
        auto* inspector = w.findChild<InspectorWidget*>();
        QVERIFY(inspector);
        // The user picks `a` on the map.
        Q_EMIT w.mapView()->vmaSelected(0, id);
        const QString tag = QStringLiteral("VMA #%1<").arg(id);
        QVERIFY2(inspector->summaryText().contains(tag), qPrintable(inspector->summaryText()));
        // Steps that split b and c leave the user's choice selected, forwards and back.
        QVERIFY(w.jumpToOperation(5));
        QVERIFY2(inspector->summaryText().contains(tag), qPrintable(inspector->summaryText()));
        QVERIFY(w.jumpToOperation(6));
        QVERIFY2(inspector->summaryText().contains(tag), qPrintable(inspector->summaryText()));
        QVERIFY(w.jumpToOperation(4));
        QVERIFY2(inspector->summaryText().contains(tag), qPrintable(inspector->summaryText()));
    }

    void withoutAUserChoiceTheSelectionFollowsTheStep()
    {
        QTemporaryDir dir;
        MainWindow w(dir.path());
        w.session()->setReferenceMachine(true);
        w.openText(splitScenario, QStringLiteral("sel.vlab"));
        QVERIFY(w.jumpToOperation(6)); // mprotect(c + page_size, ...) splits c
        auto* inspector = w.findChild<InspectorWidget*>();
        const Mm& mm = w.session()->world().procs.at(0);
        // The step split c: the selection is one of c's pieces, not a VMA the step left alone.
        const Addr c = EngineWindowStart(w) + 32 * 4096;
        bool onAPiece = false;
        for (Addr at = c; at < c + 4 * 4096; at += 4096)
            if (const Vma* v = mm.vmaAt(at))
                onAPiece = onAPiece || inspector->summaryText().contains(QStringLiteral("VMA #%1<").arg(v->id));
        QVERIFY2(onAPiece, qPrintable(inspector->summaryText()));
    }

private:
    // Where the scenario's arena lies: the variable `arena` after the run.
    static Addr EngineWindowStart(MainWindow& w)
    {
        for (const auto& var : w.session()->outcome().vars)
            if (var.name == "arena")
                return static_cast<Addr>(var.value);
        return 0;
    }
};

QTEST_MAIN(TestSelection)
#include "tst_selection.moc"
