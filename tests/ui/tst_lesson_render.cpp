// Every lesson rendered in a real X window (xcb, run under xvfb-run by ctest) at its start,
// its quiz points, a middle step and its end; checks the structure of what is drawn, never
// pixels: one bar per VMA, labels where there is room, guard hatching where the world has
// guard markers, the selected VMA highlighted in the map, the table, the tree and the
// inspector, the trace naming each kernel function, no diagnostics in the editor.
//
// VMALAB_WRITE_SCREENSHOTS=DIR also writes the README screenshots there (docs/screenshots/):
// one per lesson at its most telling step and an overview of the main window, 1600×1000.
#include "ui/address_space_view.h"
#include "ui/inspector_widget.h"
#include "ui/main_window.h"
#include "ui/maple_tree_view.h"
#include "ui/scenario_editor.h"
#include "ui/scenario_session.h"
#include "ui/trace_model.h"
#include "ui/vma_table_model.h"
#include "ui/world_diff.h"

#include <QDir>
#include <QGuiApplication>
#include <QListWidget>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <set>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

const QSize windowSize(1600, 1000);

// The most telling step of each lesson for its screenshot (an operation count, as --step
// takes), where the rule below would pick a less telling one.
const std::map<QString, int> shotOverrides = {};

QString lessonDir()
{
    return QStringLiteral(VMALAB_SOURCE_DIR "/resources/lessons");
}

// Source lines of the statements marked `/// quiz:` (docs/lessons.md): the first line after
// the marker's narration block that is no comment.
std::vector<int> quizLines(const QString& text)
{
    std::vector<int> lines;
    const QStringList all = text.split(QLatin1Char('\n'));
    bool pending = false;
    for (int i = 0; i < all.size(); ++i) {
        const QString t = all[i].trimmed();
        if (t.startsWith(QLatin1String("/// quiz:")))
            pending = true;
        else if (pending && !t.isEmpty() && !t.startsWith(QLatin1String("//"))) {
            lines.push_back(i + 1);
            pending = false;
        }
    }
    return lines;
}

bool hasGuard(const Mm& mm, Addr start, Addr end)
{
    bool found = false;
    mm.ptes.forEach(start >> pageShift, end >> pageShift, [&](std::uint64_t, std::uint64_t, const Pte& pte) {
        found = found || pte.state == PageState::Guard;
    });
    return found;
}

// How much a step shows: merges, splits, unmaps and flag changes count most.
int interest(const World& before, const World& after)
{
    int score = 0;
    for (const StepChange& c : diffSteps(before, after))
        score += c.kind == StepChange::Kind::Appeared || c.kind == StepChange::Kind::Pages ? 1 : 3;
    return score;
}

template <typename T>
T* findTable(MainWindow& w)
{
    for (QTableView* v : w.findChildren<QTableView*>()) {
        if (auto* m = qobject_cast<T*>(v->model()))
            return m;
        if (auto* proxy = qobject_cast<QSortFilterProxyModel*>(v->model()))
            if (auto* m = qobject_cast<T*>(proxy->sourceModel()))
                return m;
    }
    return nullptr;
}

QTableView* viewOf(MainWindow& w, const QAbstractItemModel* model)
{
    for (QTableView* v : w.findChildren<QTableView*>()) {
        if (v->model() == model)
            return v;
        if (auto* proxy = qobject_cast<QSortFilterProxyModel*>(v->model()))
            if (proxy->sourceModel() == model)
                return v;
    }
    return nullptr;
}

} // namespace

class TestLessonRender : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // recent files and settings stay out of $HOME
        if (QGuiApplication::platformName() != QLatin1String("xcb"))
            qWarning("running on the %s platform, not xcb: run under xvfb-run for the real window system",
                qPrintable(QGuiApplication::platformName()));
        m_shotDir = qEnvironmentVariable("VMALAB_WRITE_SCREENSHOTS");
        if (!m_shotDir.isEmpty())
            QVERIFY(QDir().mkpath(m_shotDir));
    }

    void everyLesson_data()
    {
        QTest::addColumn<QString>("file");
        const QStringList files = QDir(lessonDir()).entryList({ QStringLiteral("*.vlab") }, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 12);
        for (const QString& f : files)
            QTest::newRow(qPrintable(f)) << f;
    }

    void everyLesson()
    {
        QFETCH(QString, file);
        QTemporaryDir recovery;
        MainWindow w(recovery.path());
        w.mapView()->setAnimationDuration(0); // tests look at static layouts only
        w.session()->setReferenceMachine(true);
        QVERIFY(w.openFile(lessonDir() + QLatin1Char('/') + file));
        w.resize(windowSize);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        ScenarioSession* s = w.session();
        QVERIFY2(s->hasRun(), qPrintable(file));
        QVERIFY2(s->diagnostics().empty(),
            s->diagnostics().empty() ? "" : qPrintable(QString::fromStdString(s->diagnostics().front().format())));
        QVERIFY(w.editor()->diagnostics().empty());
        const int ops = s->opCount();
        QVERIFY(ops > 2);

        // Start, a middle step, the end, and before and after each quiz point.
        std::set<int> steps = { 0, ops / 2, ops };
        QFile f(lessonDir() + QLatin1Char('/') + file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        for (int line : quizLines(QString::fromUtf8(f.readAll()))) {
            const std::vector<int> lineOps = s->opsOfLine(line);
            QVERIFY2(!lineOps.empty(), qPrintable(QStringLiteral("%1:%2: quiz point runs no operation").arg(file).arg(line)));
            steps.insert(lineOps.front());
            steps.insert(lineOps.back() + 1);
        }
        for (int step : steps)
            checkStep(w, file, step);

        // A kernel step inside the middle operation: the trace selects that step.
        const int mid = ops / 2;
        s->jumpTo(mid, 0);
        QCoreApplication::processEvents();
        if (s->stepCount(mid) > 0 && !s->atWholeOp()) {
            auto* trace = findTable<TraceModel>(w);
            QVERIFY(trace);
            QTableView* view = viewOf(w, trace);
            QVERIFY(view && view->selectionModel()->isRowSelected(0, {}));
            QCOMPARE(trace->data(trace->index(0, TraceModel::Function)).toString(),
                QString::fromStdString(s->history()->op(static_cast<std::size_t>(mid)).steps.front().kernelFn)
                    + QStringLiteral("()"));
        }

        if (!m_shotDir.isEmpty())
            writeScreenshots(w, file);
    }

private:
    // The structure of the window at `step` (operations done, as --step counts).
    void checkStep(MainWindow& w, const QString& file, int step)
    {
        const QString where = QStringLiteral("%1 at step %2").arg(file).arg(step);
        QVERIFY2(w.jumpToOperation(step), qPrintable(where));
        QCoreApplication::processEvents();
        ScenarioSession* s = w.session();
        const World& world = s->world();
        AddressSpaceView* map = w.mapView();

        // The whole address space: one bar per VMA in every row, guard hatching wherever
        // the world has a guard marker.
        map->fitAll();
        map->repaint();
        const auto& rows = map->lastRowStats();
        QCOMPARE(rows.size(), world.procs.size());
        for (std::size_t p = 0; p < world.procs.size(); ++p) {
            const Mm& mm = world.procs[p];
            QVERIFY2(rows[p].bars == static_cast<int>(mm.mapCount()),
                qPrintable(QStringLiteral("%1: row %2 drew %3 bars for %4 VMAs")
                               .arg(where)
                               .arg(p)
                               .arg(rows[p].bars)
                               .arg(mm.mapCount())));
            if (hasGuard(mm, 0, mm.task_size))
                QVERIFY2(rows[p].guardRuns > 0, qPrintable(where + QStringLiteral(": guard markers not hatched")));
        }

        // The scenario's window, as the window shows it.
        map->fitScenario();
        const int selProc = map->selectedProc();
        const VmaId selId = map->selectedId();
        if (selId != 0)
            map->setSelection(selProc, selId, true); // fitting may have moved it off screen
        map->repaint();
        const auto& drawn = map->lastDrawnBars();
        QVERIFY2(!drawn.empty(), qPrintable(where + QStringLiteral(": the map is empty")));
        std::map<int, std::vector<const AddressSpaceView::DrawnBar*>> byRow;
        int selectedBars = 0;
        for (const auto& b : drawn) {
            byRow[b.proc].push_back(&b);
            const Mm& mm = world.procs[static_cast<std::size_t>(b.proc)];
            const Vma* v = nullptr;
            for (const auto& e : mm.vmas)
                v = e.second.id == b.id ? &e.second : v;
            QVERIFY2(v, qPrintable(where + QStringLiteral(": a bar for VMA #%1 the engine does not have").arg(b.id)));
            // Room for a label means a label: the name, or the perms of an unnamed VMA.
            const double onScreen = b.rect.intersected(QRectF(0, 0, map->width(), map->height())).width();
            if (onScreen >= 40) {
                QVERIFY2(!b.label.isEmpty(), qPrintable(where + QStringLiteral(": VMA #%1 unlabelled").arg(b.id)));
                QVERIFY2(!b.label.startsWith(QStringLiteral("…")),
                    qPrintable(where + QStringLiteral(": VMA #%1 label elided to nothing").arg(b.id)));
            }
            if (hasGuard(mm, v->vm_start, v->vm_end) && onScreen > 0)
                QVERIFY2(map->lastRowStats()[static_cast<std::size_t>(b.proc)].guardRuns > 0,
                    qPrintable(where + QStringLiteral(": VMA #%1 has guard markers, none hatched").arg(b.id)));
            if (b.selected) {
                ++selectedBars;
                QCOMPARE(b.id, selId);
            }
        }
        // Bars of one row never overlap: the layout keeps address order.
        for (auto& [proc, bars] : byRow) {
            std::sort(bars.begin(), bars.end(), [](auto* a, auto* b) { return a->rect.left() < b->rect.left(); });
            for (std::size_t i = 1; i < bars.size(); ++i)
                QVERIFY2(bars[i]->rect.left() >= bars[i - 1]->rect.right() - 1.0,
                    qPrintable(where + QStringLiteral(": bars #%1 and #%2 overlap").arg(bars[i - 1]->id).arg(bars[i]->id)));
        }

        // The selection, highlighted everywhere.
        if (selId != 0) {
            const Mm& selMm = world.procs[static_cast<std::size_t>(selProc)];
            const Vma* sel = nullptr;
            for (const auto& e : selMm.vmas)
                sel = e.second.id == selId ? &e.second : sel;
            QVERIFY2(sel, qPrintable(where + QStringLiteral(": selected #%1 is no VMA").arg(selId)));
            const QRectF selRect = map->barRect(selProc, sel->vm_start, sel->vm_end);
            if (selectedBars != 1)
                qWarning("selected #%llu [%llx, %llx) at x=%g w=%g y=%g, map %dx%d", static_cast<unsigned long long>(selId),
                    static_cast<unsigned long long>(sel->vm_start), static_cast<unsigned long long>(sel->vm_end),
                    selRect.x(), selRect.width(), selRect.y(), map->width(), map->height());
            QCOMPARE(selectedBars, 1);
            auto* tree = w.findChild<MapleTreeView*>();
            QVERIFY(tree);
            QCOMPARE(tree->selectedId(), selId);
            if (tree->process() == selProc) {
                tree->grab(); // paints it even when its tab is behind another
                QVERIFY2(tree->selectionDrawn(), qPrintable(where + QStringLiteral(": tree shows no selection")));
            }
            auto* inspector = w.findChild<InspectorWidget*>();
            QVERIFY(inspector);
            QVERIFY2(inspector->summaryText().contains(QStringLiteral("VMA #%1<").arg(selId)),
                qPrintable(where + QStringLiteral(": inspector does not show #%1").arg(selId)));
            auto* table = findTable<VmaTableModel>(w);
            QVERIFY(table);
            QTableView* tv = viewOf(w, table);
            QVERIFY(tv);
            const QModelIndex cur = tv->selectionModel()->currentIndex();
            QVERIFY2(cur.isValid() && tv->selectionModel()->isRowSelected(cur.row(), cur.parent()),
                qPrintable(where + QStringLiteral(": table has no selected row")));
            QCOMPARE(cur.data(VmaTableModel::VmaIdRole).toULongLong(), selId);
        }

        // The trace: every kernel step of the operation, by its function.
        auto* trace = findTable<TraceModel>(w);
        QVERIFY(trace);
        const int op = s->currentOp();
        if (op >= 0) {
            const OpTrace& t = s->history()->op(static_cast<std::size_t>(op));
            QCOMPARE(trace->rowCount(), static_cast<int>(t.steps.size()));
            for (std::size_t i = 0; i < t.steps.size(); ++i)
                QCOMPARE(trace->data(trace->index(static_cast<int>(i), TraceModel::Function)).toString(),
                    QString::fromStdString(t.steps[i].kernelFn) + QStringLiteral("()"));
        } else {
            QCOMPARE(trace->rowCount(), 0);
        }

        // No diagnostics listed under the editor.
        for (QListWidget* list : w.findChildren<QListWidget*>())
            for (int i = 0; i < list->count(); ++i)
                QVERIFY2(!list->item(i)->text().contains(QStringLiteral("error")),
                    qPrintable(where + QStringLiteral(": ") + list->item(i)->text()));
    }

    void writeScreenshots(MainWindow& w, const QString& file)
    {
        ScenarioSession* s = w.session();
        int best = s->opCount();
        const auto it = shotOverrides.find(file);
        if (it != shotOverrides.end()) {
            best = it->second;
        } else {
            // The last quiz point's answer, else the step that changes most.
            QFile f(lessonDir() + QLatin1Char('/') + file);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const std::vector<int> quizzes = quizLines(QString::fromUtf8(f.readAll()));
            if (!quizzes.empty()) {
                best = s->opsOfLine(quizzes.back()).back() + 1;
            } else {
                int bestScore = -1;
                World prev;
                for (int i = 0; i <= s->opCount(); ++i) {
                    QVERIFY(w.jumpToOperation(i));
                    const World cur = s->world();
                    const int score = i == 0 ? -1 : interest(prev, cur);
                    if (score >= bestScore) {
                        bestScore = score;
                        best = i;
                    }
                    prev = cur;
                }
            }
        }
        QVERIFY(w.jumpToOperation(best));
        w.mapView()->fitScenario();
        if (w.mapView()->selectedId() != 0)
            w.mapView()->setSelection(w.mapView()->selectedProc(), w.mapView()->selectedId(), true);
        QCoreApplication::processEvents();
        const QString base = QFileInfo(file).completeBaseName();
        const QImage img = w.grab().toImage();
        QCOMPARE(img.size(), windowSize);
        QVERIFY(img.save(m_shotDir + QStringLiteral("/lesson-%1.png").arg(base)));
        if (base.startsWith(QLatin1String("06_"))) {
            w.raisePane(QStringLiteral("tree"));
            QCoreApplication::processEvents();
            QVERIFY(w.grab().toImage().save(m_shotDir + QStringLiteral("/main-window.png")));
        }
    }

    QString m_shotDir;
};

QTEST_MAIN(TestLessonRender)
#include "tst_lesson_render.moc"
