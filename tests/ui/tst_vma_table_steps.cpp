// The VMA table follows a step with fine-grained signals (issue 7): rows a step inserts,
// removes or changes, never a model reset, so the view keeps its scroll position and selection.
#include "ui/scenario_session.h"
#include "ui/vma_table_model.h"

#include <QAbstractItemModelTester>
#include <QHeaderView>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include "tests/ui/many_small_vmas.h"
#include "tests/ui/ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

namespace {

const QStringList kNames { QStringLiteral("main") };

// Every cell a view shows, row by row, to compare a diffed model with a freshly reset one.
QStringList cells(const QAbstractItemModel& model)
{
    QStringList out;
    for (int r = 0; r < model.rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < model.columnCount(); ++c)
            row << model.index(r, c).data().toString();
        row << (model.index(r, 0).data(Qt::BackgroundRole).isValid() ? QStringLiteral("hl") : QString());
        out << row.join(QLatin1Char('|'));
    }
    return out;
}

Vma vmaAt(const World& world, int index)
{
    int i = 0;
    for (const auto& e : world.procs[0].vmas)
        if (i++ == index)
            return e.second;
    return {};
}

// The VMA at `index` (in address order) of process 0 with VM_EXEC added, as mprotect would.
World withFlagsChanged(const World& world, int index)
{
    World w = world;
    Mm& mm = w.procs[0];
    Vma v = vmaAt(w, index);
    v.vm_flags |= VM_EXEC;
    mm.erase(v.vm_start);
    mm.insert(v);
    return w;
}

// The VMA at `index` split after its first page; the upper half is a new VMA.
World withSplit(const World& world, int index, VmaId* upperId)
{
    World w = world;
    Mm& mm = w.procs[0];
    Vma v = vmaAt(w, index);
    Vma upper = v;
    upper.id = w.newVmaId();
    upper.vm_start = v.vm_start + pageSize;
    v.vm_end = upper.vm_start;
    mm.erase(v.vm_start);
    mm.insert(v);
    mm.insert(upper);
    *upperId = upper.id;
    return w;
}

int vmaIndexWithPages(const World& world, int from, std::uint64_t pages)
{
    int i = 0;
    for (const auto& e : world.procs[0].vmas) {
        if (i >= from && e.second.pages() >= pages)
            return i;
        ++i;
    }
    return -1;
}

} // namespace

class TestVmaTableSteps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Every position of a run, forward then back, through one model: the tester checks each
    // signal, and the rows always equal those of a model given that world from scratch.
    void everyStepMatchesAFreshModel()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        VmaTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        std::vector<int> order;
        for (int op = -1; op < s.opCount(); ++op)
            order.push_back(op);
        for (int op = s.opCount() - 2; op >= -1; --op)
            order.push_back(op);
        for (int op : order) {
            s.jumpTo(op);
            model.setWorld(s.world(), s.processNames(), &s.changes());
            VmaTableModel fresh;
            fresh.setWorld(s.world(), s.processNames(), &s.changes());
            QCOMPARE(cells(model), cells(fresh));
        }
        // Only the first fill may reset; every step after it is fine-grained.
        QVERIFY(resets.count() <= 1);
    }

    void flagChangeAmongManyIsOneDataChanged()
    {
        const World before = test::manySmallVmas(3000, [](int) { return false; });
        const World after = withFlagsChanged(before, 1500);
        VmaTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorld(before, kNames);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.setWorld(after, kNames);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1500);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1500);
        QVERIFY(model.index(1500, VmaTableModel::Perms).data().toString().contains(QLatin1Char('x')));
    }

    // A split far below the visible rows, in a sorted view scrolled to the middle with a row
    // selected: no reset, one row inserted, the scroll position and the selection stay.
    void splitAmongManyKeepsScrollAndSelection()
    {
        const World before = test::manySmallVmas(3000, [](int) { return false; });
        const int splitAt = vmaIndexWithPages(before, 2500, 2);
        QVERIFY(splitAt >= 0);
        VmaId upperId = 0;
        const World after = withSplit(before, splitAt, &upperId);

        VmaTableModel model;
        VmaSortProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTableView view;
        view.setModel(&proxy);
        view.setSortingEnabled(true);
        view.sortByColumn(VmaTableModel::Start, Qt::AscendingOrder);
        view.setSelectionBehavior(QAbstractItemView::SelectRows);
        view.resize(800, 400);
        model.setWorld(before, kNames);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QModelIndex selected = proxy.index(1000, 0);
        const VmaId selectedId = selected.data(VmaTableModel::VmaIdRole).toULongLong();
        view.selectionModel()->setCurrentIndex(
            selected, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        view.scrollTo(selected, QAbstractItemView::PositionAtTop);
        QCoreApplication::processEvents();
        const int scroll = view.verticalScrollBar()->value();
        QVERIFY(scroll > 0);

        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy proxyResets(&proxy, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        PositionChanges changes;
        changes.created.insert(upperId);
        model.setWorld(after, kNames, &changes);
        QCoreApplication::processEvents();
        QCOMPARE(resets.count(), 0);
        QCOMPARE(proxyResets.count(), 0);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), splitAt + 1);
        QCOMPARE(inserted.at(0).at(2).toInt(), splitAt + 1);
        QCOMPARE(model.rowCount(), 3001);
        QCOMPARE(view.verticalScrollBar()->value(), scroll);
        QCOMPARE(view.currentIndex().data(VmaTableModel::VmaIdRole).toULongLong(), selectedId);
        QVERIFY(view.selectionModel()->isRowSelected(view.currentIndex().row(), {}));
        QVERIFY(model.index(splitAt + 1, 0).data(Qt::BackgroundRole).isValid());

        // Back: the new half is removed, the old one changes back, still no reset.
        model.setWorld(before, kNames);
        QCoreApplication::processEvents();
        QCOMPARE(resets.count(), 0);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowCount(), 3000);
        QCOMPARE(view.verticalScrollBar()->value(), scroll);
        QCOMPARE(view.currentIndex().data(VmaTableModel::VmaIdRole).toULongLong(), selectedId);
    }

    // A fork adds the child's rows after the parent's; the parent's rows are untouched.
    void forkAppendsTheChildsRows()
    {
        const World parent = test::manySmallVmas(20, [](int) { return false; });
        World forked = parent;
        forked.procs.push_back(forked.procs[0]);
        forked.procs[1].pid = 1001;
        const QStringList names { QStringLiteral("main"), QStringLiteral("child") };
        VmaTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorld(parent, kNames);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        model.setWorld(forked, names);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 20);
        QCOMPARE(inserted.at(0).at(2).toInt(), 39);
        QCOMPARE(model.index(39, VmaTableModel::Process).data().toString(), QStringLiteral("child"));
        QCOMPARE(model.rowOf(1, model.index(25, 0).data(VmaTableModel::VmaIdRole).toULongLong()), 25);
        model.setWorld(parent, kNames);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowCount(), 20);
    }

    // A different address space altogether (another snapshot) resets instead of emitting
    // thousands of row signals.
    void replacingMostRowsResets()
    {
        const World small = test::manySmallVmas(10, [](int) { return false; });
        const World big = test::manySmallVmas(3000, [](int) { return false; });
        VmaTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorld(small, kNames);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        model.setWorld(big, kNames);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 3000);
    }

    // The widths come from the font; every column gets one wide enough for its header.
    void columnWidthsFitTheHeader()
    {
        VmaTableModel model;
        QTableView view;
        const QFontMetrics fm(view.font());
        for (int c = 0; c < VmaTableModel::ColumnCount; ++c)
            QVERIFY(model.columnWidth(c, view.font())
                > fm.horizontalAdvance(model.headerData(c, Qt::Horizontal).toString()));
    }
};

QTEST_MAIN(TestVmaTableSteps)
#include "tst_vma_table_steps.moc"
