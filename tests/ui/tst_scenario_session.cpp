#include "ui/scenario_session.h"

#include <QSignalSpy>
#include <QTest>

#include "ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

class TestScenarioSession : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void runsAndStartsBeforeFirstOperation()
    {
        ScenarioSession s;
        QSignalSpy changed(&s, &ScenarioSession::currentChanged);
        QVERIFY(test::runReference(s));
        QVERIFY(s.diagnostics().empty());
        // mmap, mmap, touch, mprotect, mprotect, munmap
        QCOMPARE(s.opCount(), 6);
        QCOMPARE(s.currentOp(), -1);
        QVERIFY(changed.count() >= 1);
        QCOMPARE(s.world().procs.size(), std::size_t { 1 });
        QCOMPARE(s.effectiveProfile(), QStringLiteral("maybe-guard-fixed"));
        QCOMPARE(s.world().profile().name, std::string("maybe-guard-fixed"));
    }

    void stepsForwardAndBack()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        const std::size_t initialVmas = s.world().procs[0].mapCount();
        s.stepForward(); // the reservation
        QCOMPARE(s.currentOp(), 0);
        QVERIFY(s.atWholeOp());
        QCOMPARE(s.world().procs[0].mapCount(), initialVmas + 1);
        QCOMPARE(s.changes().created.size(), std::size_t { 1 });
        s.stepForward(); // MAP_FIXED inside it: splits the reservation around it
        QCOMPARE(s.world().procs[0].mapCount(), initialVmas + 3);
        s.stepForward(); // the first fault gives a its anon_vma: a change
        QCOMPARE(s.changes().changed.size(), std::size_t { 1 });
        QVERIFY(s.changes().created.empty());
        s.stepForward(); // mprotect splits a in three
        QCOMPARE(s.currentOp(), 3);
        QCOMPARE(s.world().procs[0].mapCount(), initialVmas + 5);
        QCOMPARE(s.changes().created.size(), std::size_t { 2 });
        s.stepForward(); // and merges it back
        QCOMPARE(s.world().procs[0].mapCount(), initialVmas + 3);
        QVERIFY(!s.changes().removed.empty());
        s.stepBack();
        QCOMPARE(s.currentOp(), 3);
        QCOMPARE(s.world().procs[0].mapCount(), initialVmas + 5);
        s.toStart();
        QCOMPARE(s.currentOp(), -1);
        s.stepBack(); // stays at the start
        QCOMPARE(s.currentOp(), -1);
        s.runToEnd();
        QCOMPARE(s.currentOp(), 5);
        s.stepForward(); // stays at the end
        QCOMPARE(s.currentOp(), 5);
    }

    void microStepsWalkTheTrace()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        s.jumpTo(2); // after the touch
        const int steps = s.stepCount(3);
        QVERIFY2(steps >= 2, "mprotect in the middle takes several kernel steps");
        s.microStepForward();
        QCOMPARE(s.currentOp(), 3);
        QCOMPARE(s.currentStep(), 0);
        QVERIFY(!s.atWholeOp());
        for (int i = 1; i < steps; ++i)
            s.microStepForward();
        QCOMPARE(s.currentStep(), steps - 1);
        s.microStepForward(); // into the next operation
        QCOMPARE(s.currentOp(), 4);
        s.microStepBack();
        QCOMPARE(s.currentOp(), 3);
        QVERIFY(s.atWholeOp());
        s.microStepBack();
        QCOMPARE(s.currentStep(), steps - 2);
        // A step inside is what the whole operation shows once its last step is done.
        s.jumpTo(3, steps - 1);
        const std::size_t atLast = s.world().procs[0].mapCount();
        s.jumpTo(3);
        QCOMPARE(s.world().procs[0].mapCount(), atLast);
    }

    void jumpsAreClamped()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        s.jumpTo(100);
        QCOMPARE(s.currentOp(), 5);
        s.jumpTo(-7);
        QCOMPARE(s.currentOp(), -1);
        s.jumpTo(1, 999);
        QVERIFY(s.atWholeOp());
    }

    void mapsOperationsToLinesAndNarration()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        QCOMPARE(s.lineOfOp(0), 2);
        QCOMPARE(s.lineOfOp(3), 7);
        QCOMPARE(s.opsOfLine(8), std::vector<int> { 4 });
        QCOMPARE(s.narrationForOp(-1), QStringLiteral("Reserve a window."));
        QCOMPARE(s.narrationForOp(1), QStringLiteral("Map eight pages inside it."));
        QCOMPARE(s.narrationForOp(2), QStringLiteral("Map eight pages inside it.")); // still in effect
        QCOMPARE(s.narrationForOp(4), QStringLiteral("Split it in three."));
    }

    void parseErrorsKeepThePreviousRun()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        s.jumpTo(3);
        QVERIFY(!s.run(QStringLiteral("a = mmap(NULL, page_size\nb = frobnicate(1)\n"), QStringLiteral("bad.vlab")));
        QVERIFY(!s.diagnostics().empty());
        QCOMPARE(s.diagnostics().front().file, std::string("bad.vlab"));
        QVERIFY(s.diagnostics().front().line >= 1);
        QCOMPARE(s.opCount(), 6); // still the last good run
        QCOMPARE(s.currentOp(), 3);
        QVERIFY(!ScenarioSession::check(QStringLiteral("x = nosuchcall(1)\n"), QStringLiteral("t")).empty());
        QVERIFY(ScenarioSession::check(test::splitMergeScenario(), QStringLiteral("t")).empty());
    }

    void profileSwitchReruns()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s, QStringLiteral("v6.18")));
        s.jumpTo(4);
        QCOMPARE(s.world().profile().name, std::string("v6.18"));
        s.setProfileName(QStringLiteral("maybe-guard"));
        QVERIFY(s.run(test::splitMergeScenario(), QStringLiteral("test.vlab")));
        QCOMPARE(s.effectiveProfile(), QStringLiteral("maybe-guard"));
        QCOMPARE(s.world().profile().name, std::string("maybe-guard"));
        QCOMPARE(s.currentOp(), 4); // the position survives a re-run
        s.setProfileName(QStringLiteral("no-such-profile"));
        QVERIFY(!s.run(test::splitMergeScenario(), QStringLiteral("test.vlab")));
        QVERIFY(QString::fromStdString(s.diagnostics().front().message).contains(QStringLiteral("no-such-profile")));
    }

    void scenarioProfileStatementIsFollowed()
    {
        ScenarioSession s;
        s.setReferenceMachine(true);
        QVERIFY(s.run(QStringLiteral("profile \"v6.18\"\n") + test::splitMergeScenario(), QStringLiteral("p.vlab")));
        QCOMPARE(s.effectiveProfile(), QStringLiteral("v6.18"));
    }
};

QTEST_GUILESS_MAIN(TestScenarioSession)
#include "tst_scenario_session.moc"
