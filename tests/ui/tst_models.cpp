#include "core/vm_flags.h"
#include "ui/flags_model.h"
#include "ui/scenario_session.h"
#include "ui/timeline_model.h"
#include "ui/trace_model.h"
#include "ui/vma_table_model.h"

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QTest>

#include "ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

class TestModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void vmaTableListsEveryVma()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        VmaTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        s.jumpTo(3); // a split in three
        model.setWorld(s.world(), s.processNames(), &s.changes());
        QCOMPARE(model.rowCount(), static_cast<int>(s.world().procs[0].mapCount()));
        QCOMPARE(model.columnCount(), int(VmaTableModel::ColumnCount));
        // The read-only middle third.
        int readOnly = -1;
        for (int r = 0; r < model.rowCount(); ++r)
            if (model.index(r, VmaTableModel::Perms).data().toString() == QLatin1String("r--p")
                && model.index(r, VmaTableModel::Size).data().toString() == QLatin1String("8 KiB"))
                readOnly = r;
        QVERIFY(readOnly >= 0);
        const QModelIndex flags = model.index(readOnly, VmaTableModel::Flags);
        QVERIFY(flags.data().toString().startsWith(QLatin1String("rd mr mw me")));
        QCOMPARE(model.index(readOnly, VmaTableModel::Process).data().toString(), QStringLiteral("main"));
        // Created by this step: highlighted.
        int created = 0;
        for (int r = 0; r < model.rowCount(); ++r)
            created += model.index(r, 0).data(Qt::BackgroundRole).isValid() ? 1 : 0;
        QCOMPARE(created, static_cast<int>(s.changes().created.size() + s.changes().changed.size()));
        const VmaId id = model.index(readOnly, 0).data(VmaTableModel::VmaIdRole).toULongLong();
        QCOMPARE(model.rowOf(0, id), readOnly);
        QCOMPARE(model.rowOf(0, 999999), -1);
        // Sorting by address goes by the number, not the text.
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(VmaTableModel::SortRole);
        proxy.sort(VmaTableModel::Size, Qt::DescendingOrder);
        for (int r = 1; r < proxy.rowCount(); ++r)
            QVERIFY(proxy.index(r - 1, VmaTableModel::Size).data(VmaTableModel::SortRole).toULongLong()
                >= proxy.index(r, VmaTableModel::Size).data(VmaTableModel::SortRole).toULongLong());
        // "4 KiB" sorts below "1.9 MiB" although it is greater as text.
        QCOMPARE(proxy.index(0, VmaTableModel::Size).data().toString(), QStringLiteral("1.9 MiB"));
        s.jumpTo(5);
        model.setWorld(s.world(), s.processNames(), &s.changes());
        QCOMPARE(model.rowCount(), static_cast<int>(s.world().procs[0].mapCount()));
    }

    void traceShowsStepsOfTheOperation()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        TraceModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const OpTrace& t = s.history()->op(3);
        model.setTrace(t, 1);
        QCOMPARE(model.rowCount(), static_cast<int>(t.steps.size()));
        QCOMPARE(model.index(0, TraceModel::Function).data().toString(),
            QString::fromStdString(t.steps[0].kernelFn) + QStringLiteral("()"));
        QVERIFY(model.index(1, TraceModel::Function).data(Qt::FontRole).value<QFont>().bold());
        QVERIFY(!model.index(0, TraceModel::Function).data(Qt::FontRole).value<QFont>().bold());
        bool anyCreated = false;
        for (int r = 0; r < model.rowCount(); ++r)
            anyCreated =
                anyCreated || model.index(r, TraceModel::Vmas).data().toString().startsWith(QLatin1String("new #"));
        QVERIFY(anyCreated);
        const QString md = traceMarkdown(t, QStringLiteral("main"));
        QVERIFY(md.contains(QStringLiteral("| # | kernel function |")));
        QCOMPARE(md.count(QLatin1Char('\n')), 4 + static_cast<int>(t.steps.size()));
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void timelineHasAStartRowAndEveryOperation()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        TimelineModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setHistory(s.history(), s.processNames());
        QCOMPARE(model.rowCount(), s.opCount() + 1);
        QVERIFY(model.index(1, TimelineModel::Call).data().toString().startsWith(QLatin1String("mmap(")));
        QVERIFY(model.index(1, TimelineModel::Result).data().toString().startsWith(QLatin1String("0x7ff")));
        QCOMPARE(model.index(4, TimelineModel::Line).data().toInt(), 7);
        QCOMPARE(model.index(4, TimelineModel::Result).data().toString(), QStringLiteral("0"));
        model.setCurrent(2);
        QVERIFY(model.index(TimelineModel::rowOfOp(2), 0).data(Qt::FontRole).value<QFont>().bold());
        QVERIFY(!model.index(TimelineModel::rowOfOp(1), 0).data(Qt::FontRole).value<QFont>().bold());
        QCOMPARE(TimelineModel::opOfRow(0), -1);
    }

    void timelineSpellsErrnos()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(
            s, QStringLiteral("maybe-guard-fixed"), QStringLiteral("expect munmap(4097, page_size) == -EINVAL\n")));
        TimelineModel model;
        model.setHistory(s.history(), s.processNames());
        QCOMPARE(model.index(1, TimelineModel::Result).data().toString(), QStringLiteral("-EINVAL"));
        QVERIFY(model.index(1, TimelineModel::Result).data(Qt::ForegroundRole).isValid());
    }

    void flagsShowEveryNamedBit()
    {
        FlagsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const Profile p = *builtinProfile("maybe-guard");
        model.setFlags(VM_READ | VM_WRITE | VM_MAYREAD | VM_ACCOUNT | VM_MAYBE_GUARD, p);
        int named = 0;
        for (unsigned b = 0; b < 64; ++b)
            named += *vmFlagName(b) ? 1 : 0;
        QCOMPARE(model.rowCount(), named);
        int set = 0;
        for (int r = 0; r < model.rowCount(); ++r)
            set += model.index(r, FlagsModel::Set).data().toString() == QLatin1String("1") ? 1 : 0;
        QCOMPARE(set, 5);
        model.setOnlySet(true);
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.index(0, FlagsModel::Name).data().toString(), QStringLiteral("VM_READ"));
        QCOMPARE(model.index(0, FlagsModel::Mnemonic).data().toString(), QStringLiteral("rd"));
        QVERIFY(!model.index(0, FlagsModel::Meaning).data().toString().isEmpty());
        // VM_MAYBE_GUARD is in VM_COPY_ON_FORK, and sticky with the series.
        int guardRow = -1;
        for (int r = 0; r < model.rowCount(); ++r)
            if (model.index(r, FlagsModel::Name).data().toString() == QLatin1String("VM_MAYBE_GUARD"))
                guardRow = r;
        QVERIFY(guardRow >= 0);
        const QString roles = model.index(guardRow, FlagsModel::ProfileRole).data().toString();
        QVERIFY(roles.contains(QStringLiteral("fork copy")));
        QCOMPARE(roles.contains(QStringLiteral("sticky")), (p.stickyFlags() & VM_MAYBE_GUARD) != 0);
        QCOMPARE(roles.contains(QStringLiteral("no-merge")), (p.mergeIgnoredFlags() & VM_MAYBE_GUARD) != 0);
        QCOMPARE(model.index(0, FlagsModel::ProfileRole).data().toString(), QString()); // VM_READ: none
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        for (unsigned b = 0; b < 64; ++b)
            if (*vmFlagName(b))
                QVERIFY2(*vmFlagMeaning(b), vmFlagName(b));
    }
};

QTEST_MAIN(TestModels)
#include "tst_models.moc"
