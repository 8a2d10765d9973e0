#include "ui/main_window.h"

#include "core/profile.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"
#include "core/scenario/uapi.h"
#include "core/snapshot/snapshot_format.h"
#include "core/vm_flags.h"
#include "ui/address_space_view.h"
#include "ui/chart_view.h"
#include "ui/compare_window.h"
#include "ui/export.h"
#include "ui/page_table_view.h"
#include "ui/quiz_dialog.h"
#include "ui/inspector_widget.h"
#include "ui/map_layout.h"
#include "ui/maple_tree_view.h"
#include "ui/narration_widget.h"
#include "ui/recovery_store.h"
#include "ui/scenario_editor.h"
#include "ui/scenario_highlighter.h"
#include "ui/scenario_session.h"
#include "ui/snapshot_timeline_window.h"
#include "ui/timeline_model.h"
#include "ui/trace_model.h"
#include "ui/vma_table_model.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QShowEvent>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QSvgGenerator>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cstdlib>

// The resources live in this static library; Q_INIT_RESOURCE must be called from the
// global namespace.
static void initVmalabResources()
{
    Q_INIT_RESOURCE(vmalab);
}

namespace vmalab::ui {

namespace {

// The shipped scenarios: installed next to the program (PREFIX/share/vmalab/scenarios), else
// the source tree the program was built from.
QString shippedScenarioDir()
{
    const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/vmalab/scenarios");
    if (QDir(installed).exists())
        return QDir(installed).canonicalPath();
    return QStringLiteral(VMALAB_SCENARIO_DIR);
}

constexpr int maxRecent = 8;

QTableView* makeTable(QWidget* parent)
{
    auto* t = new QTableView(parent);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    t->setShowGrid(false);
    t->setWordWrap(false);
    t->horizontalHeader()->setStretchLastSection(true);
    t->horizontalHeader()->setHighlightSections(false);
    return t;
}

QDockWidget* makeDock(const QString& title, const QString& name, QWidget* content, QMainWindow* parent)
{
    auto* d = new QDockWidget(title, parent);
    d->setObjectName(name);
    d->setWidget(content);
    d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable | QDockWidget::DockWidgetClosable);
    return d;
}

} // namespace

MainWindow::MainWindow(const QString& recoveryDir, QWidget* parent)
    : QMainWindow(parent)
    , m_session(new ScenarioSession(this))
    , m_recovery(std::make_unique<RecoveryStore>(recoveryDir.isEmpty() ? RecoveryStore::defaultDir() : recoveryDir))
{
    initVmalabResources();
    setWindowIcon(QIcon(QStringLiteral(":/icons/vmalab.svg")));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);

    // The centre: narration above the map, the map's own tool row between them.
    auto* centre = new QWidget(this);
    auto* cl = new QVBoxLayout(centre);
    cl->setContentsMargins(0, 0, 0, 0);
    cl->setSpacing(0);
    m_narration = new NarrationWidget(centre);
    m_narration->setMinimumHeight(110);
    m_narration->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    cl->addWidget(m_narration);
    auto* mapBar = new QWidget(centre);
    auto* ml = new QHBoxLayout(mapBar);
    ml->setContentsMargins(8, 2, 8, 2);
    m_lookup = new QLineEdit(mapBar);
    m_lookup->setPlaceholderText(tr("Go to address… (0x7ffff7a10000)"));
    m_lookup->setClearButtonEnabled(true);
    m_filter = new QLineEdit(mapBar);
    m_filter->setPlaceholderText(tr("Filter: name, perms (rw-p), flag (ac, gu, VM_LOCKED)…"));
    m_filter->setClearButtonEnabled(true);
    ml->addWidget(new QLabel(tr("Address:"), mapBar));
    ml->addWidget(m_lookup, 2);
    ml->addSpacing(12);
    ml->addWidget(new QLabel(tr("Filter:"), mapBar));
    ml->addWidget(m_filter, 3);
    m_map = new AddressSpaceView(centre);
    // Steps animate what changed (docs/gui.md); the setting "animationMs" tunes it, 0 is off.
    m_map->setAnimationDuration(QSettings().value(QStringLiteral("animationMs"), 250).toInt());
    auto addMapButton = [&](const QString& text, const QString& tip, auto slot) {
        auto* b = new QToolButton(mapBar);
        b->setText(text);
        b->setToolTip(tip);
        b->setAutoRaise(true);
        connect(b, &QToolButton::clicked, m_map, slot);
        ml->addWidget(b);
    };
    ml->addSpacing(12);
    addMapButton(tr("Fit scenario"), tr("Zoom to the part of the address space the scenario works in"),
        &AddressSpaceView::fitScenario);
    addMapButton(tr("Whole space"), tr("The whole user address space (0)"), &AddressSpaceView::fitAll);
    addMapButton(tr("−"), tr("Zoom out (-)"), &AddressSpaceView::zoomOut);
    addMapButton(tr("+"), tr("Zoom in (+); the mouse wheel zooms around the pointer"), &AddressSpaceView::zoomIn);
    cl->addWidget(mapBar);
    cl->addWidget(m_map, 1);
    setCentralWidget(centre);

    buildActions();
    buildDocks();
    buildToolBars();
    buildMenus();
    m_positionLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_positionLabel);

    m_rerun = new QTimer(this);
    m_rerun->setSingleShot(true);
    m_rerun->setInterval(450);
    connect(m_rerun, &QTimer::timeout, this, &MainWindow::runScenario);

    connect(m_session, &ScenarioSession::ran, this, &MainWindow::onRan);
    connect(m_session, &ScenarioSession::currentChanged, this, &MainWindow::onCurrentChanged);
    connect(m_editor, &QPlainTextEdit::textChanged, this, &MainWindow::onTextChanged);
    connect(m_map, &AddressSpaceView::vmaSelected, this, [this](int proc, VmaId id) { selectByUser(proc, id, false); });
    connect(m_map, &AddressSpaceView::hovered, this, [this](const QString& t) { statusBar()->showMessage(t); });
    connect(m_lookup, &QLineEdit::returnPressed, this, [this] {
        Addr a = 0;
        if (!parseAddress(m_lookup->text(), &a)) {
            statusBar()->showMessage(tr("Not an address: %1").arg(m_lookup->text()), 5000);
            return;
        }
        statusBar()->showMessage(m_map->lookupAddress(a));
    });
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& f) {
        m_map->setFilter(f);
        m_vmaProxy->setFilterFixedString(f.split(QLatin1Char(' '), Qt::SkipEmptyParts).value(0));
        statusBar()->showMessage(f.isEmpty() ? QString() : tr("%n VMA(s) match", nullptr, m_map->matchCount()));
    });

    const QPalette pal = QApplication::palette();
    const bool systemDark = pal.color(QPalette::Window).lightness() < 128;
    m_darkAct->setChecked(systemDark);
    resize(1600, 1000);
    updateTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    auto make = [this](const QString& text, const QKeySequence& key, const QString& tip) {
        auto* a = new QAction(text, this);
        if (!key.isEmpty())
            a->setShortcut(key);
        a->setToolTip(key.isEmpty() ? tip : QStringLiteral("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
        a->setStatusTip(tip);
        return a;
    };
    m_openAct = make(tr("&Open…"), QKeySequence::Open, tr("Open a scenario file"));
    m_openSnapshotAct = make(tr("Open s&napshot…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
        tr("Start the scenario from a captured process (.vsnap): what if its calls ran there"));
    m_captureAct = make(tr("&Capture process…"), {}, tr("Capture a running process and start from it"));
    m_captureAct->setEnabled(false);
    m_recordAct = make(tr("&Record program…"), {}, tr("Run a program under the recorder and step through what its memory system calls did"));
    m_recordAct->setEnabled(false);
    m_timelineAct = make(tr("Snapshot &timeline…"), {}, tr("Watch a process over time, or open a watch file: what changed between captures"));
    m_closeSnapshotAct = make(tr("C&lose snapshot"), {}, tr("Start the scenario from its own first state again"));
    m_closeSnapshotAct->setEnabled(false);
    m_saveAct = make(tr("&Save"), QKeySequence::Save, tr("Save the scenario"));
    m_saveAsAct = make(tr("Save &As…"), QKeySequence::SaveAs, tr("Save the scenario under a new name"));
    m_runAct = make(tr("&Run"), QKeySequence(Qt::Key_F5), tr("Parse and run the scenario again"));
    m_stepAct = make(tr("&Step"), QKeySequence(Qt::Key_F10), tr("Next operation"));
    m_backAct = make(tr("Step &back"), QKeySequence(Qt::SHIFT | Qt::Key_F10), tr("Previous operation"));
    m_microAct = make(tr("Kernel step"), QKeySequence(Qt::Key_F11), tr("Next kernel step inside the operation"));
    m_microBackAct = make(tr("Kernel step back"), QKeySequence(Qt::SHIFT | Qt::Key_F11), tr("Previous kernel step"));
    m_startAct = make(tr("To s&tart"), QKeySequence(Qt::SHIFT | Qt::Key_F5), tr("Before the first operation"));
    m_endAct = make(tr("Run to &end"), QKeySequence(Qt::CTRL | Qt::Key_F5), tr("After the last operation"));
    m_referenceAct = make(tr("Reference machine"), {},
        tr("Model the documented reference machine instead of this one (built-in profiles)"));
    m_referenceAct->setCheckable(true);
    m_darkAct = make(tr("&Dark theme"), {}, tr("Light or dark colours"));
    m_darkAct->setCheckable(true);
    m_presentAct = make(
        tr("&Presentation mode"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), tr("Large fonts for a projector"));
    m_presentAct->setCheckable(true);
    m_playAct = make(tr("&Play"), QKeySequence(Qt::Key_F8), tr("Play the operations one after another; again to pause"));
    m_playAct->setCheckable(true);
    m_compareAct = make(tr("&Compare profiles…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
        tr("Run the scenario under two kernel profiles side by side"));
    const QStyle* st = style();
    m_playAct->setIcon(st->standardIcon(QStyle::SP_MediaPlay));
    m_openAct->setIcon(st->standardIcon(QStyle::SP_DialogOpenButton));
    m_saveAct->setIcon(st->standardIcon(QStyle::SP_DialogSaveButton));
    m_runAct->setIcon(st->standardIcon(QStyle::SP_BrowserReload));
    m_startAct->setIcon(st->standardIcon(QStyle::SP_MediaSkipBackward));
    m_backAct->setIcon(st->standardIcon(QStyle::SP_MediaSeekBackward));
    m_stepAct->setIcon(st->standardIcon(QStyle::SP_MediaSeekForward));
    m_microAct->setIcon(st->standardIcon(QStyle::SP_ArrowRight));
    m_microBackAct->setIcon(st->standardIcon(QStyle::SP_ArrowLeft));
    m_endAct->setIcon(st->standardIcon(QStyle::SP_MediaSkipForward));

    connect(m_openSnapshotAct, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open snapshot"), QString(), tr("Snapshots (*.vsnap *.json);;All files (*)"));
        if (f.isEmpty())
            return;
        const QString error = openSnapshot(f);
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Open snapshot"), error);
    });
    connect(m_captureAct, &QAction::triggered, this, [this] {
        CaptureDialog dialog(m_capture, this);
        dialog.refresh();
        if (dialog.exec() != QDialog::Accepted || !dialog.snapshot())
            return;
        const snapshot::Snapshot& snap = *dialog.snapshot();
        // Kept as a file too, so that the capture can be opened again and compared later.
        const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/captures");
        QDir().mkpath(dir);
        const QString path = QStringLiteral("%1/pid-%2-%3%4")
                                 .arg(dir)
                                 .arg(snap.processes.empty() ? 0 : snap.processes.front().pid)
                                 .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")))
                                 .arg(QLatin1String(snapshot::kFileExtension));
        QSaveFile out(path);
        const std::string bytes = snapshot::writeSnapshots({ snap });
        if (out.open(QIODevice::WriteOnly)) {
            out.write(bytes.data(), static_cast<qint64>(bytes.size()));
            out.commit();
        }
        m_session->setSnapshot(snap, path);
        m_closeSnapshotAct->setEnabled(true);
        runScenario();
        statusBar()->showMessage(tr("Captured into %1").arg(path), 8000);
    });
    connect(m_closeSnapshotAct, &QAction::triggered, this, &MainWindow::closeSnapshot);
    connect(m_timelineAct, &QAction::triggered, this, [this] { showSnapshotTimeline(); });
    connect(m_recordAct, &QAction::triggered, this, [this] { showRecordDialog(); });
    connect(m_openAct, &QAction::triggered, this, [this] {
        if (!maybeSave())
            return;
        const QString dir = m_path.isEmpty() ? shippedScenarioDir() : QFileInfo(m_path).absolutePath();
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Open scenario"), dir, tr("Scenarios (*.vlab);;All files (*)"));
        if (!f.isEmpty())
            openFile(f);
    });
    connect(m_saveAct, &QAction::triggered, this, &MainWindow::save);
    connect(m_saveAsAct, &QAction::triggered, this, &MainWindow::saveAs);
    connect(m_runAct, &QAction::triggered, this, &MainWindow::runScenario);
    connect(m_stepAct, &QAction::triggered, this, [this] {
        if (auto quiz = quizForNextStep()) {
            QuizDialog dialog(std::move(*quiz), this);
            dialog.exec();
        }
        m_session->stepForward();
    });
    connect(m_backAct, &QAction::triggered, m_session, &ScenarioSession::stepBack);
    connect(m_microAct, &QAction::triggered, m_session, &ScenarioSession::microStepForward);
    connect(m_microBackAct, &QAction::triggered, m_session, &ScenarioSession::microStepBack);
    connect(m_startAct, &QAction::triggered, m_session, &ScenarioSession::toStart);
    connect(m_endAct, &QAction::triggered, m_session, &ScenarioSession::runToEnd);
    connect(m_referenceAct, &QAction::toggled, this, [this](bool on) {
        m_session->setReferenceMachine(on);
        runScenario();
    });
    connect(m_darkAct, &QAction::toggled, this, &MainWindow::setDark);
    connect(m_presentAct, &QAction::toggled, this, &MainWindow::setPresentation);
    connect(m_playAct, &QAction::toggled, this, &MainWindow::setPlaying);
    connect(m_compareAct, &QAction::triggered, this, [this] { openCompare(); });
    m_playTimer = new QTimer(this);
    connect(m_playTimer, &QTimer::timeout, this, [this] {
        if (m_session->currentOp() + 1 >= m_session->opCount() && m_session->atWholeOp())
            setPlaying(false);
        else
            m_session->stepForward();
    });
}

void MainWindow::buildDocks()
{
    // Editor and its diagnostics, left.
    auto* editorBox = new QSplitter(Qt::Vertical, this);
    m_editor = new ScenarioEditor(editorBox);
    m_diagList = new QListWidget(editorBox);
    m_diagList->setMaximumHeight(110);
    editorBox->addWidget(m_editor);
    editorBox->addWidget(m_diagList);
    editorBox->setStretchFactor(0, 5);
    connect(m_diagList, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        m_editor->goToLine(item->data(Qt::UserRole).toInt(), item->data(Qt::UserRole + 1).toInt());
    });
    connect(m_diagList, &QListWidget::itemClicked, m_diagList, &QListWidget::itemActivated);
    auto* editorDock = makeDock(tr("Scenario"), QStringLiteral("editor"), editorBox, this);
    addDockWidget(Qt::LeftDockWidgetArea, editorDock);

    // Trace, bottom.
    m_traceModel = new TraceModel(this);
    m_traceView = makeTable(this);
    m_traceView->setModel(m_traceModel);
    m_traceView->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_traceView->setColumnWidth(TraceModel::Index, 30);
    m_traceView->setColumnWidth(TraceModel::Function, 230);
    m_traceView->setColumnWidth(TraceModel::What, 300);
    m_traceView->setColumnWidth(TraceModel::Rule, 300);
    m_traceView->setColumnWidth(TraceModel::Lock, 120);
    m_traceView->setColumnWidth(TraceModel::Vmas, 170);
    m_traceView->horizontalHeader()->setSectionResizeMode(TraceModel::What, QHeaderView::Stretch);
    m_traceView->horizontalHeader()->setSectionResizeMode(TraceModel::Rule, QHeaderView::Stretch);
    m_traceView->horizontalHeader()->setStretchLastSection(false);
    m_traceView->setWordWrap(true);
    connect(m_traceModel, &QAbstractItemModel::modelReset, m_traceView, &QTableView::resizeRowsToContents);
    connect(m_traceView, &QTableView::clicked, this, [this](const QModelIndex& i) {
        const int op = m_session->currentOp();
        if (op < 0 || !i.isValid())
            return;
        const TraceStep& s = m_traceModel->trace().steps.at(static_cast<std::size_t>(i.row()));
        m_session->jumpTo(op, i.row());
        const int proc = m_traceModel->trace().process;
        if (!s.created.empty())
            selectVma(proc, s.created.front(), true);
        else if (!s.changed.empty())
            selectVma(proc, s.changed.front(), true);
    });
    auto* traceDock = makeDock(tr("Trace"), QStringLiteral("trace"), m_traceView, this);
    addDockWidget(Qt::BottomDockWidgetArea, traceDock);

    // VMA table, tabbed with the trace.
    m_vmaModel = new VmaTableModel(this);
    m_vmaProxy = new VmaSortProxyModel(this);
    m_vmaProxy->setSourceModel(m_vmaModel);
    m_vmaProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_vmaProxy->setFilterKeyColumn(-1);
    m_vmaView = makeTable(this);
    m_vmaView->setModel(m_vmaProxy);
    m_vmaView->setSortingEnabled(true);
    m_vmaView->sortByColumn(VmaTableModel::Start, Qt::AscendingOrder);
    // Widths from the font, not the rows: ResizeToContents measured every row of a big snapshot.
    m_vmaView->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    for (int c = 0; c < VmaTableModel::ColumnCount; ++c)
        m_vmaView->setColumnWidth(c, m_vmaModel->columnWidth(c, m_vmaView->font()));
    connect(m_vmaView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& cur) {
        if (m_syncing || !cur.isValid())
            return;
        const QModelIndex src = m_vmaProxy->mapToSource(cur);
        const int proc = m_vmaModel->data(src, VmaTableModel::ProcessRole).toInt();
        const VmaId id = m_vmaModel->data(src, VmaTableModel::VmaIdRole).toULongLong();
        selectByUser(proc, id, true);
    });
    auto* vmaDock = makeDock(tr("VMAs"), QStringLiteral("vmas"), m_vmaView, this);

    // Timeline, bottom right.
    m_timelineModel = new TimelineModel(this);
    m_timelineView = makeTable(this);
    m_timelineView->setModel(m_timelineModel);
    m_timelineView->setColumnWidth(TimelineModel::Index, 34);
    m_timelineView->setColumnWidth(TimelineModel::Process, 60);
    m_timelineView->setColumnWidth(TimelineModel::Call, 330);
    m_timelineView->setColumnWidth(TimelineModel::Result, 110);
    connect(m_timelineView, &QTableView::clicked, this, [this](const QModelIndex& i) {
        if (!m_syncing && i.isValid())
            m_session->jumpTo(TimelineModel::opOfRow(i.row()));
    });
    auto* timelineDock = makeDock(tr("Timeline"), QStringLiteral("timeline"), m_timelineView, this);
    addDockWidget(Qt::BottomDockWidgetArea, timelineDock);
    splitDockWidget(traceDock, timelineDock, Qt::Horizontal);
    tabifyDockWidget(traceDock, vmaDock);
    traceDock->raise();

    // Inspector and chart, right.
    m_inspector = new InspectorWidget(this);
    auto* inspectorDock = makeDock(tr("VMA inspector"), QStringLiteral("inspector"), m_inspector, this);
    addDockWidget(Qt::RightDockWidgetArea, inspectorDock);
    m_tree = new MapleTreeView(this);
    auto* treeScroll = new QScrollArea(this);
    treeScroll->setWidget(m_tree);
    treeScroll->setWidgetResizable(true);
    auto* treeDock = makeDock(tr("VMA tree"), QStringLiteral("tree"), treeScroll, this);
    addDockWidget(Qt::RightDockWidgetArea, treeDock);
    tabifyDockWidget(inspectorDock, treeDock);
    m_pageTables = new PageTableView(this);
    auto* ptDock = makeDock(tr("Page tables"), QStringLiteral("pagetables"), m_pageTables, this);
    addDockWidget(Qt::RightDockWidgetArea, ptDock);
    tabifyDockWidget(treeDock, ptDock);
    inspectorDock->raise();
    connect(m_pageTables, &PageTableView::addressActivated, this, [this](int proc, Addr addr) {
        const World& w = m_session->world();
        if (proc < 0 || proc >= static_cast<int>(w.procs.size()))
            return;
        if (const Vma* v = w.procs[static_cast<std::size_t>(proc)].vmaAt(addr)) {
            m_map->setMarker(proc, addr);
            if (proc != m_selProc || v->id != m_selId)
                selectByUser(proc, v->id, true);
        }
    });
    connect(m_tree, &MapleTreeView::vmaSelected, this, [this](int proc, VmaId id) { selectByUser(proc, id, true); });

    m_chart = new ChartView(this);
    auto* chartDock = makeDock(tr("Over time"), QStringLiteral("chart"), m_chart, this);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock);
    tabifyDockWidget(timelineDock, chartDock);
    timelineDock->raise();
}

void MainWindow::buildToolBars()
{
    auto* tb = addToolBar(tr("Run"));
    tb->setObjectName(QStringLiteral("runToolBar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->addAction(m_openAct);
    tb->addAction(m_saveAct);
    tb->addSeparator();
    tb->addAction(m_runAct);
    tb->addAction(m_startAct);
    tb->addAction(m_backAct);
    tb->addAction(m_stepAct);
    tb->addAction(m_microBackAct);
    tb->addAction(m_microAct);
    tb->addAction(m_endAct);
    tb->addAction(m_playAct);
    m_speedBox = new QComboBox(tb);
    for (double sp : { 0.5, 1.0, 2.0, 4.0, 8.0 })
        m_speedBox->addItem(QStringLiteral("%1×").arg(sp), sp);
    m_speedBox->setCurrentIndex(1);
    m_speedBox->setToolTip(tr("Play speed: operations per second"));
    connect(m_speedBox, &QComboBox::activated, this,
        [this](int i) { setPlaySpeed(m_speedBox->itemData(i).toDouble()); });
    tb->addWidget(m_speedBox);
    tb->addSeparator();
    m_slider = new QSlider(Qt::Horizontal, tb);
    m_slider->setMinimumWidth(220);
    m_slider->setToolTip(tr("Timeline: every operation of the run"));
    m_slider->setRange(-1, -1);
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        if (!m_syncing)
            m_session->jumpTo(v);
    });
    tb->addWidget(m_slider);
    tb->addSeparator();
    tb->addWidget(new QLabel(tr(" Profile: "), tb));
    m_profileBox = new QComboBox(tb);
    m_profileBox->addItem(tr("as the scenario says"), QString());
    m_profileBox->addItem(tr("host (this kernel)"), QStringLiteral("host"));
    for (const std::string& n : builtinProfileNames())
        m_profileBox->addItem(QString::fromStdString(n), QString::fromStdString(n));
    m_profileBox->setToolTip(tr("The kernel behaviour modelled (docs/profiles.md)"));
    connect(m_profileBox, &QComboBox::activated, this, [this](int i) {
        m_session->setProfileName(m_profileBox->itemData(i).toString());
        runScenario();
    });
    tb->addWidget(m_profileBox);
    tb->addAction(m_referenceAct);
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openAct);
    m_recentMenu = file->addMenu(tr("Open &recent"));
    file->addAction(m_saveAct);
    file->addAction(m_saveAsAct);
    file->addSeparator();
    file->addAction(m_openSnapshotAct);
    file->addAction(m_captureAct);
    file->addAction(m_timelineAct);
    file->addAction(m_recordAct);
    file->addAction(m_closeSnapshotAct);
    file->addSeparator();
    QMenu* exp = file->addMenu(tr("&Export"));
    exp->addAction(tr("Map as &PNG…"), this, [this] { exportMap(false); });
    exp->addAction(tr("Map as S&VG…"), this, [this] { exportMap(true); });
    exp->addSeparator();
    exp->addAction(tr("Every step as a PNG &series…"), this, [this] { exportSequence(false); });
    exp->addAction(tr("Every step as an animated &GIF…"), this, [this] { exportSequence(true); })
        ->setEnabled(gifSupported());
    exp->addSeparator();
    exp->addAction(tr("This operation's &trace as Markdown…"), this, &MainWindow::exportTrace);
    exp->addAction(tr("The &whole trace as Markdown…"), this, &MainWindow::exportWholeTrace);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    updateRecentMenu();

    m_lessonsMenu = menuBar()->addMenu(tr("&Lessons"));
    m_quizAct = m_lessonsMenu->addAction(tr("&Quiz mode"));
    m_quizAct->setCheckable(true);
    m_quizAct->setStatusTip(tr("Step stops before each quiz point of a lesson and asks what will happen"));
    m_lessonsMenu->addSeparator();
    fillLessonsMenu();

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    for (QAction* a : { m_runAct, m_startAct, m_backAct, m_stepAct, m_microBackAct, m_microAct, m_endAct, m_playAct })
        run->addAction(a);
    run->addSeparator();
    run->addAction(m_referenceAct);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* d : findChildren<QDockWidget*>())
        m_viewMenu->addAction(d->toggleViewAction());
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_compareAct);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_darkAct);
    m_viewMenu->addAction(m_presentAct);
}

void MainWindow::fillLessonsMenu()
{
    m_lessonsMenu->addAction(tr("0. A tour of one address space"), this, [this] {
        if (maybeSave())
            openDefaultLesson();
    });
    // Built-in lessons: the title is the first comment's "Lesson: TITLE." line.
    const QDir lessons(QStringLiteral(":/lessons"));
    int number = 1;
    for (const QString& f : lessons.entryList({ QStringLiteral("*.vlab") }, QDir::Files, QDir::Name)) {
        QFile file(lessons.filePath(f));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QString text = QString::fromUtf8(file.readAll());
        QString title = text.section(QLatin1Char('\n'), 0, 0)
                            .section(QStringLiteral("Lesson: "), 1)
                            .section(QLatin1Char('.'), 0, 0);
        if (title.isEmpty())
            title = f;
        m_lessonsMenu->addAction(QStringLiteral("%1. %2").arg(number++).arg(title), this, [this, text, f] {
            if (maybeSave())
                openText(text, f);
        });
    }
    m_lessonsMenu->addSeparator();
    // Every shipped scenario is a worked example of one behaviour.
    const QDir dir(shippedScenarioDir());
    const QStringList files = dir.entryList({ QStringLiteral("*.vlab") }, QDir::Files, QDir::Name);
    if (files.isEmpty())
        return;
    QMenu* more = m_lessonsMenu->addMenu(tr("Shipped scenarios"));
    for (const QString& f : files) {
        if (f == QLatin1String("default.vlab"))
            continue;
        const QString path = dir.filePath(f);
        more->addAction(QString(f).chopped(5).replace(QLatin1Char('_'), QLatin1Char(' ')), this, [this, path] {
            if (maybeSave())
                openFile(path);
        });
    }
}

void MainWindow::openDefaultLesson()
{
    QFile f(QStringLiteral(":/scenarios/default.vlab"));
    if (f.open(QIODevice::ReadOnly))
        openText(QString::fromUtf8(f.readAll()), QStringLiteral("default.vlab"));
}

bool MainWindow::openFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        QMessageBox::warning(this, tr("Open scenario"), tr("Cannot read %1: %2").arg(path, f.errorString()));
        return false;
    }
    m_loading = true;
    m_path = QFileInfo(path).absoluteFilePath();
    m_displayName = QFileInfo(path).fileName();
    m_editor->setPlainText(QString::fromUtf8(f.readAll()));
    m_editor->document()->setModified(false);
    m_loading = false;
    addRecent(m_path);
    updateTitle();
    m_session->jumpTo(-1);
    runScenario();
    m_session->toStart();
    m_map->fitScenario();
    return true;
}

void MainWindow::openText(const QString& text, const QString& displayName)
{
    m_loading = true;
    m_path.clear();
    m_displayName = displayName;
    m_editor->setPlainText(text);
    m_editor->document()->setModified(false);
    m_loading = false;
    updateTitle();
    runScenario();
    m_session->toStart();
    m_map->fitScenario();
}

bool MainWindow::offerRecovery(bool ask)
{
    const auto r = m_recovery->pending();
    if (!r || r->text.isEmpty())
        return false;
    if (ask) {
        const auto answer = QMessageBox::question(this, tr("Recover unsaved edits"),
            tr("vmalab kept your unsaved edits%1 from the last session. Restore them?")
                .arg(r->sourcePath.isEmpty() ? QString() : tr(" of %1").arg(r->sourcePath)),
            QMessageBox::Yes | QMessageBox::Discard, QMessageBox::Yes);
        if (answer != QMessageBox::Yes) {
            m_recovery->clear();
            return false;
        }
    }
    if (!r->sourcePath.isEmpty() && QFileInfo::exists(r->sourcePath))
        openFile(r->sourcePath);
    m_loading = true;
    m_editor->setPlainText(r->text);
    m_editor->document()->setModified(true);
    m_loading = false;
    if (r->sourcePath.isEmpty())
        m_displayName = tr("recovered.vlab");
    updateTitle();
    runScenario();
    return true;
}

void MainWindow::setProfile(const QString& name)
{
    const int i = m_profileBox->findData(name);
    m_profileBox->setCurrentIndex(std::max(0, i));
    m_session->setProfileName(name);
}

void MainWindow::runScenario()
{
    m_rerun->stop();
    m_session->setBaseDirectory(m_path.isEmpty() ? QString() : QFileInfo(m_path).absolutePath());
    m_session->run(m_editor->toPlainText(), m_displayName.isEmpty() ? QStringLiteral("untitled.vlab") : m_displayName);
}

QString MainWindow::openSnapshot(const QString& path)
{
    const QString error = m_session->loadSnapshot(path);
    if (!error.isEmpty())
        return error;
    m_closeSnapshotAct->setEnabled(true);
    runScenario();
    if (!m_session->diagnostics().empty())
        return QString::fromStdString(m_session->diagnostics().front().format());
    // A captured process spans far more than a scenario's few pages: show all of it.
    m_map->fitAll();
    // A watch file holds a timeline: show its captures and what changed between them too.
    if (m_session->snapshotEntries() > 1)
        showSnapshotTimeline(path);
    statusBar()->showMessage(tr("Starting from the process in %1").arg(path), 8000);
    return {};
}

void MainWindow::closeSnapshot()
{
    m_session->clearSnapshot();
    m_closeSnapshotAct->setEnabled(false);
    runScenario();
}

SnapshotTimelineWindow* MainWindow::showSnapshotTimeline(const QString& path)
{
    if (!m_timelineWindow) {
        m_timelineWindow = new SnapshotTimelineWindow(m_capture, this);
        m_timelineWindow->setWindowFlag(Qt::Window);
        connect(m_timelineWindow, &SnapshotTimelineWindow::startFromRequested, this,
            [this](const snapshot::Snapshot& snap, const QString& label) {
                m_session->setSnapshot(snap, label);
                m_closeSnapshotAct->setEnabled(true);
                runScenario();
                m_map->fitAll();
                raise();
                activateWindow();
                statusBar()->showMessage(tr("Starting from %1").arg(label), 8000);
            });
    }
    if (!path.isEmpty()) {
        const QString error = m_timelineWindow->loadFile(path);
        if (!error.isEmpty())
            statusBar()->showMessage(error, 8000);
    }
    m_timelineWindow->show();
    m_timelineWindow->raise();
    return m_timelineWindow;
}

void MainWindow::setRecordFunction(RecordFunction record)
{
    m_record = std::move(record);
    m_recordAct->setEnabled(static_cast<bool>(m_record));
}

RecordDialog* MainWindow::showRecordDialog()
{
    auto* dialog = new RecordDialog(m_record, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RecordDialog::recorded, this, [this](const QString& path) {
        if (openFile(path))
            statusBar()->showMessage(tr("Recorded into %1: step through it, or check it with vmalab-cli check-recording").arg(path), 10000);
    });
    dialog->show();
    return dialog;
}

void MainWindow::setCaptureFunction(CaptureFunction capture)
{
    m_capture = std::move(capture);
    m_captureAct->setEnabled(static_cast<bool>(m_capture));
}

void MainWindow::setQuizMode(bool on)
{
    m_quizAct->setChecked(on);
}

bool MainWindow::quizMode() const
{
    return m_quizAct && m_quizAct->isChecked();
}

std::optional<lesson::Quiz> MainWindow::quizForNextStep() const
{
    // Only on a lesson's own run: a snapshot start is not what the quiz computes from.
    if (!quizMode() || !m_session->hasRun() || m_session->hasSnapshot() || !m_session->runProfile()
        || !m_session->atWholeOp())
        return std::nullopt;
    const int next = m_session->currentOp() + 1;
    if (next >= m_session->opCount())
        return std::nullopt;
    const int line = m_session->lineOfOp(next);
    const std::vector<int> ops = m_session->opsOfLine(line);
    if (line <= 0 || ops.empty() || ops.front() != next)
        return std::nullopt;
    const std::string text = m_editor->toPlainText().toStdString();
    const std::string file = (m_displayName.isEmpty() ? QStringLiteral("untitled.vlab") : m_displayName).toStdString();
    auto parsed = scenario::parseScenario(text, file);
    if (!parsed)
        return std::nullopt;
    for (const lesson::QuizPoint& point : lesson::findQuizPoints(*parsed)) {
        if (point.loc.line != line)
            continue;
        lesson::QuizOptions options;
        options.profile = *m_session->runProfile();
        auto quiz = lesson::buildQuiz(*parsed, point, options);
        if (!quiz)
            return std::nullopt;
        return std::move(*quiz);
    }
    return std::nullopt;
}

bool MainWindow::jumpToOperation(int op)
{
    if (!m_session->hasRun() || op < 0 || op > m_session->opCount())
        return false;
    m_session->jumpTo(op - 1);
    return true;
}

void MainWindow::onTextChanged()
{
    if (m_loading)
        return;
    updateTitle();
    // Autosave on every edit, so nothing typed is ever lost (style.md §7: even an abort).
    if (m_editor->document()->isModified())
        m_recovery->save(m_path, m_editor->toPlainText());
    m_editor->setDiagnostics(ScenarioSession::check(m_editor->toPlainText(), m_displayName));
    m_rerun->start();
}

void MainWindow::onRan()
{
    const Diagnostics& diags = m_session->diagnostics();
    m_editor->setDiagnostics(diags);
    m_diagList->clear();
    for (const Diagnostic& d : diags) {
        auto* item = new QListWidgetItem(
            style()->standardIcon(QStyle::SP_MessageBoxCritical), QString::fromStdString(d.format()), m_diagList);
        item->setData(Qt::UserRole, d.line);
        item->setData(Qt::UserRole + 1, d.col);
    }
    const auto& outcome = m_session->outcome();
    int failed = 0;
    for (const auto& e : outcome.expects)
        failed += e.passed ? 0 : 1;
    if (diags.empty()) {
        auto* ok = new QListWidgetItem(style()->standardIcon(QStyle::SP_DialogApplyButton),
            tr("Ran on the model (profile %1): %2 operations, %3 expects, %4 failed")
                .arg(m_session->effectiveProfile())
                .arg(m_session->opCount())
                .arg(outcome.expects.size())
                .arg(failed),
            m_diagList);
        ok->setData(Qt::UserRole, 0);
    }
    for (const auto& e : outcome.expects) {
        if (e.passed)
            continue;
        auto* item = new QListWidgetItem(style()->standardIcon(QStyle::SP_MessageBoxWarning),
            QString::fromStdString(scenario::formatExpectFailure(e, m_displayName.toStdString())), m_diagList);
        item->setData(Qt::UserRole, e.loc.line);
        item->setData(Qt::UserRole + 1, e.loc.col);
    }
    if (!m_session->hasRun())
        return;
    m_timelineModel->setHistory(m_session->history(), m_session->processNames());
    m_chart->setHistory(m_session->history());
    m_syncing = true;
    m_slider->setRange(-1, m_session->opCount() - 1);
    m_syncing = false;
    // The part of the address space the scenario works in: every VMA it created.
    const auto focus = scenarioFocusRange(*m_session->history());
    m_map->setFocusRange(focus.first, focus.second);
}

namespace {

bool holdsVma(const Mm& mm, VmaId id)
{
    for (const auto& e : mm.vmas)
        if (e.second.id == id)
            return true;
    return false;
}

} // namespace

void MainWindow::onCurrentChanged()
{
    const int op = m_session->currentOp();
    const World& w = m_session->world();
    m_syncing = true;
    m_slider->setValue(op);
    m_timelineModel->setCurrent(op);
    m_timelineView->scrollTo(m_timelineModel->index(TimelineModel::rowOfOp(op), 0));
    m_syncing = false;
    m_map->setForkParents(m_session->forkParents());
    m_map->setWorld(w, m_session->processNames(), m_session->changes());
    m_vmaModel->setWorld(w, m_session->processNames(), &m_session->changes());
    m_tree->setWorld(w, m_session->processNames());
    m_chart->setCurrent(op);
    const int total = m_session->opCount();
    QString position, call, result;
    if (op < 0) {
        m_traceModel->clear();
        position = tr("Before the first operation · %1 operations in this run").arg(total);
    } else {
        const OpTrace& t = m_session->history()->op(static_cast<std::size_t>(op));
        m_traceModel->setTrace(t, m_session->atWholeOp() ? -1 : m_session->currentStep());
        const QString who =
            t.process < m_session->processNames().size() ? m_session->processNames()[t.process] : QString();
        position = m_session->atWholeOp()
            ? tr("Operation %1 of %2 · line %3 · %4").arg(op + 1).arg(total).arg(t.line).arg(who)
            : tr("Operation %1 of %2 · kernel step %3 of %4 · line %5 · %6")
                  .arg(op + 1)
                  .arg(total)
                  .arg(m_session->currentStep() + 1)
                  .arg(t.steps.size())
                  .arg(t.line)
                  .arg(who);
        call = QString::fromStdString(t.call);
        result = callResultText(t.call, t.ret);
        if (!m_session->atWholeOp())
            m_traceView->selectRow(m_session->currentStep());
        else
            m_traceView->clearSelection();
    }
    QString narration = m_session->narrationForOp(op);
    if (m_session->hasSnapshot()) {
        // What if: say which of the snapshot's assumptions this prediction rests on.
        const QStringList used = m_session->assumptionsInEffect();
        const int all = static_cast<int>(m_session->assumptions().size());
        QString text = tr("What if, on the process captured in %1:").arg(QFileInfo(m_session->snapshotPath()).fileName());
        if (used.isEmpty())
            text += tr(" nothing here depends on the %n assumption(s) made for what procfs does not show.", "", all);
        else
            text += tr(" this prediction rests on %1 of %n assumption(s) about what procfs does not show:", "", all)
                        .arg(used.size());
        for (int i = 0; i < used.size() && i < 4; ++i)
            text += QStringLiteral("\n  • ") + used[i];
        if (used.size() > 4)
            text += tr("\n  … and %1 more").arg(used.size() - 4);
        narration = narration.isEmpty() ? text : narration + QStringLiteral("\n\n") + text;
    }
    m_narration->setContent(position, call, result, narration);
    m_editor->setCurrentLine(m_session->lineOfOp(op));
    m_positionLabel->setText(tr("op %1/%2 · profile %3").arg(op + 1).arg(total).arg(m_session->effectiveProfile()));
    m_startAct->setEnabled(op >= 0);
    m_backAct->setEnabled(op >= 0);
    m_microBackAct->setEnabled(op >= 0);
    m_stepAct->setEnabled(op + 1 < total || !m_session->atWholeOp());
    m_endAct->setEnabled(op + 1 < total);
    m_microAct->setEnabled(op + 1 < total || !m_session->atWholeOp());

    // Keep the selection when the VMA lives on; otherwise show what this step made.
    const auto& ch = m_session->changes();
    const bool alive = m_selProc >= 0 && m_selProc < static_cast<int>(w.procs.size())
        && holdsVma(w.procs[static_cast<std::size_t>(m_selProc)], m_selId);
    const int proc = op >= 0 ? m_session->history()->op(static_cast<std::size_t>(op)).process : 0;
    // What the step is about: the VMA at the address an mmap/mremap returned, else the first
    // accessible VMA it created (not a leftover piece of a reservation), else any it touched.
    VmaId focus = 0;
    if (op >= 0 && proc < static_cast<int>(w.procs.size())) {
        const Mm& mm = w.procs[static_cast<std::size_t>(proc)];
        const std::int64_t ret = m_session->history()->op(static_cast<std::size_t>(op)).ret;
        if (const Vma* v = ret > 0 ? mm.vmaAt(static_cast<Addr>(ret)) : nullptr;
            v && (ch.created.count(v->id) || ch.changed.count(v->id)))
            focus = v->id;
        for (const auto& e : mm.vmas)
            if (!focus && ch.created.count(e.second.id) && (e.second.vm_flags & VM_ACCESS_FLAGS))
                focus = e.second.id;
    }
    // The address the call names first (touch, mprotect, munmap, madvise...).
    Addr callAddr = 0;
    if (op >= 0) {
        const std::string& text = m_session->history()->op(static_cast<std::size_t>(op)).call;
        const auto open = text.find("(0x");
        if (open != std::string::npos)
            callAddr = std::strtoull(text.c_str() + open + 1, nullptr, 16);
    }
    m_map->setMarker(callAddr ? proc : -1, callAddr);
    if (!focus && !alive && callAddr && proc < static_cast<int>(w.procs.size()))
        if (const Vma* v = w.procs[static_cast<std::size_t>(proc)].vmaAt(callAddr))
            focus = v->id;
    if (!focus && !ch.created.empty())
        focus = *ch.created.begin();
    if (!focus && !ch.changed.empty())
        focus = *ch.changed.begin();
    // A fallback id may belong to another process (fork creates the child's VMAs while the
    // operation is the parent's): select it where it lives.
    int focusProc = proc;
    if (focus && !(proc < static_cast<int>(w.procs.size()) && holdsVma(w.procs[static_cast<std::size_t>(proc)], focus))) {
        focusProc = -1;
        for (std::size_t i = 0; i < w.procs.size() && focusProc < 0; ++i)
            if (holdsVma(w.procs[i], focus))
                focusProc = static_cast<int>(i);
        if (focusProc < 0)
            focus = 0;
    }
    // A VMA the user picked stays selected while it lives; otherwise the selection follows
    // what each step made.
    if (alive && m_selectionPinned)
        selectVma(m_selProc, m_selId);
    else if (focus) {
        m_selectionPinned = false;
        selectVma(focusProc, focus, true);
    } else if (alive)
        selectVma(m_selProc, m_selId);
    else
        selectVma(-1, 0);
}

void MainWindow::selectByUser(int proc, VmaId id, bool centre)
{
    m_selectionPinned = proc >= 0;
    selectVma(proc, id, centre);
}

void MainWindow::selectVma(int proc, VmaId id, bool centre)
{
    m_selProc = proc;
    m_selId = id;
    m_map->setSelection(proc, id, centre);
    m_tree->setSelection(proc, id);
    const QString who =
        proc >= 0 && proc < m_session->processNames().size() ? m_session->processNames()[proc] : QString();
    if (proc < 0)
        m_inspector->clear();
    else
        m_inspector->setVma(m_session->world(), proc, id, who, m_session->assumptions());
    updatePageTables();
    m_syncing = true;
    const int row = m_vmaModel->rowOf(proc, id);
    if (row >= 0) {
        const QModelIndex i = m_vmaProxy->mapFromSource(m_vmaModel->index(row, 0));
        m_vmaView->selectionModel()->setCurrentIndex(
            i, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        m_vmaView->scrollTo(i);
    } else {
        m_vmaView->clearSelection();
    }
    m_syncing = false;
}

void MainWindow::updateTitle()
{
    const QString name = m_displayName.isEmpty() ? tr("untitled.vlab") : m_displayName;
    setWindowTitle(QStringLiteral("%1%2 — vmalab")
                       .arg(name, m_editor->document()->isModified() ? QStringLiteral(" *") : QString()));
}

void MainWindow::addRecent(const QString& path)
{
    QSettings s;
    QStringList list = s.value(QStringLiteral("recentFiles")).toStringList();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > maxRecent)
        list.removeLast();
    s.setValue(QStringLiteral("recentFiles"), list);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    const QStringList list = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString& path : list)
        m_recentMenu
            ->addAction(QFileInfo(path).fileName(), this,
                [this, path] {
                    if (maybeSave())
                        openFile(path);
                })
            ->setToolTip(path);
    m_recentMenu->setEnabled(!list.isEmpty());
}

bool MainWindow::save()
{
    if (m_path.isEmpty())
        return saveAs();
    QSaveFile f(m_path);
    if (!f.open(QIODevice::WriteOnly)) {
        QMessageBox::warning(this, tr("Save"), tr("Cannot write %1: %2").arg(m_path, f.errorString()));
        return false;
    }
    f.write(m_editor->toPlainText().toUtf8());
    if (!f.commit()) {
        QMessageBox::warning(this, tr("Save"), tr("Cannot write %1: %2").arg(m_path, f.errorString()));
        return false;
    }
    m_editor->document()->setModified(false);
    m_recovery->clear();
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(m_path), 4000);
    return true;
}

bool MainWindow::saveAs()
{
    const QString f = QFileDialog::getSaveFileName(
        this, tr("Save scenario"), m_path.isEmpty() ? m_displayName : m_path, tr("Scenarios (*.vlab)"));
    if (f.isEmpty())
        return false;
    m_path = f;
    m_displayName = QFileInfo(f).fileName();
    addRecent(f);
    return save();
}

bool MainWindow::maybeSave()
{
    if (!m_editor->document()->isModified())
        return true;
    const auto answer =
        QMessageBox::question(this, tr("Unsaved changes"), tr("Save the changes to %1?").arg(m_displayName),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Save)
        return save();
    if (answer == QMessageBox::Discard) {
        m_recovery->clear();
        return true;
    }
    return false;
}

bool MainWindow::raisePane(const QString& name)
{
    auto* d = findChild<QDockWidget*>(name);
    if (!d)
        return false;
    d->show();
    d->raise();
    return true;
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    if (m_docksSized)
        return;
    // Dock sizes only take once the window has its size: the map gets what is left.
    m_docksSized = true;
    QTimer::singleShot(0, this, [this] {
        auto dock = [this](const char* name) { return findChild<QDockWidget*>(QLatin1String(name)); };
        const int w = width(), h = height();
        resizeDocks({ dock("editor"), dock("inspector") }, { w / 4, w * 27 / 100 }, Qt::Horizontal);
        resizeDocks({ dock("trace") }, { h * 28 / 100 }, Qt::Vertical);
        resizeDocks({ dock("trace"), dock("timeline") }, { w * 62 / 100, w * 38 / 100 }, Qt::Horizontal);
    });
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (maybeSave())
        event->accept();
    else
        event->ignore();
}

void MainWindow::exportMap(bool svg)
{
    const QString f = QFileDialog::getSaveFileName(this, svg ? tr("Export map as SVG") : tr("Export map as PNG"),
        svg ? QStringLiteral("map.svg") : QStringLiteral("map.png"), svg ? tr("SVG (*.svg)") : tr("PNG (*.png)"));
    if (f.isEmpty())
        return;
    if (!(svg ? exportMapSvg(f) : exportMapPng(f))) {
        QMessageBox::warning(this, tr("Export"), tr("Cannot write %1").arg(f));
        return;
    }
    statusBar()->showMessage(tr("Exported %1").arg(f), 4000);
}

void MainWindow::exportTrace()
{
    if (m_session->currentOp() < 0)
        return;
    const QString f =
        QFileDialog::getSaveFileName(this, tr("Export trace"), QStringLiteral("trace.md"), tr("Markdown (*.md)"));
    if (f.isEmpty())
        return;
    QSaveFile out(f);
    if (!out.open(QIODevice::WriteOnly))
        return;
    const OpTrace& t = m_session->history()->op(static_cast<std::size_t>(m_session->currentOp()));
    const QString who = t.process < m_session->processNames().size() ? m_session->processNames()[t.process] : QString();
    out.write(traceMarkdown(t, who).toUtf8());
    out.commit();
}

void MainWindow::updatePageTables()
{
    const World& w = m_session->world();
    if (m_selProc < 0 || m_selProc >= static_cast<int>(w.procs.size())) {
        m_pageTables->clear();
        return;
    }
    for (const auto& e : w.procs[static_cast<std::size_t>(m_selProc)].vmas)
        if (e.second.id == m_selId) {
            m_pageTables->setRange(w, m_selProc, e.second.vm_start, e.second.vm_end, m_session->processNames());
            return;
        }
    m_pageTables->clear();
}

CompareWindow* MainWindow::openCompare(const QString& profileA, const QString& profileB)
{
    if (!m_compare)
        m_compare = new CompareWindow(this);
    QString a = profileA, b = profileB;
    if (a.isEmpty())
        a = QStringLiteral("v6.18");
    if (b.isEmpty())
        b = QStringLiteral("maybe-guard");
    m_compare->setProfiles(a, b);
    m_compare->setScenario(m_editor->toPlainText(),
        m_displayName.isEmpty() ? QStringLiteral("untitled.vlab") : m_displayName, true);
    m_compare->jumpTo(m_session->currentOp());
    m_compare->show();
    m_compare->raise();
    return m_compare;
}

void MainWindow::setPlaying(bool on)
{
    if (on && m_session->currentOp() + 1 >= m_session->opCount() && m_session->atWholeOp())
        m_session->toStart(); // play again from the start
    if (m_playAct->isChecked() != on) {
        m_playAct->blockSignals(true);
        m_playAct->setChecked(on);
        m_playAct->blockSignals(false);
    }
    m_playAct->setText(on ? tr("&Pause") : tr("&Play"));
    m_playAct->setIcon(style()->standardIcon(on ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    if (on)
        m_playTimer->start(static_cast<int>(1000.0 / m_playSpeed));
    else
        m_playTimer->stop();
}

bool MainWindow::isPlaying() const
{
    return m_playTimer->isActive();
}

void MainWindow::setPlaySpeed(double stepsPerSecond)
{
    m_playSpeed = std::clamp(stepsPerSecond, 0.1, 50.0);
    m_playTimer->setInterval(static_cast<int>(1000.0 / m_playSpeed));
    const int i = m_speedBox->findData(m_playSpeed);
    if (i >= 0)
        m_speedBox->setCurrentIndex(i);
}

void MainWindow::setDarkTheme(bool dark)
{
    m_darkAct->setChecked(dark);
}

bool MainWindow::darkTheme() const
{
    return m_darkAct->isChecked();
}

bool MainWindow::exportMapPng(const QString& path)
{
    return exportWidgetPng(m_map, path);
}

bool MainWindow::exportMapSvg(const QString& path)
{
    return exportWidgetSvg(m_map, path, windowTitle());
}

std::vector<QImage> MainWindow::renderSteps()
{
    std::vector<QImage> frames;
    if (!m_session->hasRun())
        return frames;
    const int op = m_session->currentOp();
    const int step = m_session->atWholeOp() ? -1 : m_session->currentStep();
    const int animation = m_map->animationDuration();
    m_map->setAnimationDuration(0); // a frame per step shows the step's end, not its motion
    for (int i = -1; i < m_session->opCount(); ++i) {
        m_session->jumpTo(i);
        frames.push_back(m_map->grab().toImage());
    }
    m_session->jumpTo(op, step);
    m_map->setAnimationDuration(animation);
    return frames;
}

bool MainWindow::exportGif(const QString& path, QString* error)
{
    return writeAnimatedGif(renderSteps(), static_cast<int>(1000.0 / m_playSpeed), path, error);
}

QStringList MainWindow::exportPngSeries(const QString& dir)
{
    return writePngSeries(renderSteps(), dir, QFileInfo(m_displayName).completeBaseName());
}

bool MainWindow::exportHistoryMarkdown(const QString& path)
{
    if (!m_session->hasRun())
        return false;
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return false;
    out.write(historyMarkdown(*m_session->history(), m_session->processNames(),
        tr("%1 on profile %2").arg(m_displayName, m_session->effectiveProfile()))
                  .toUtf8());
    return out.commit();
}

void MainWindow::exportWholeTrace()
{
    const QString f = QFileDialog::getSaveFileName(
        this, tr("Export the whole trace"), QStringLiteral("trace.md"), tr("Markdown (*.md)"));
    if (!f.isEmpty() && exportHistoryMarkdown(f))
        statusBar()->showMessage(tr("Exported %1").arg(f), 4000);
}

void MainWindow::exportSequence(bool gif)
{
    if (gif) {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Export every step as a GIF"), QStringLiteral("steps.gif"), tr("GIF (*.gif)"));
        if (f.isEmpty())
            return;
        QString err;
        if (exportGif(f, &err))
            statusBar()->showMessage(tr("Exported %1").arg(f), 4000);
        else
            QMessageBox::warning(this, tr("Export"), err);
        return;
    }
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export every step as PNG files into"));
    if (dir.isEmpty())
        return;
    const QStringList files = exportPngSeries(dir);
    statusBar()->showMessage(tr("Exported %n file(s) to %1", nullptr, static_cast<int>(files.size())).arg(dir), 4000);
}

void MainWindow::setDark(bool dark)
{
    QPalette p;
    if (dark) {
        p.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2e));
        p.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x20));
        p.setColor(QPalette::AlternateBase, QColor(0x28, 0x28, 0x2b));
        p.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x38));
        p.setColor(QPalette::ButtonText, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Highlight, QColor(0x00, 0x72, 0xb2));
        p.setColor(QPalette::HighlightedText, Qt::white);
        p.setColor(QPalette::PlaceholderText, QColor(0xa0, 0xa0, 0xa0));
        p.setColor(QPalette::Mid, QColor(0x60, 0x60, 0x66));
        p.setColor(QPalette::ToolTipBase, QColor(0x35, 0x35, 0x38));
        p.setColor(QPalette::ToolTipText, QColor(0xe8, 0xe8, 0xe8));
    } else {
        p = QApplication::style()->standardPalette();
    }
    QApplication::setPalette(p);
    m_editor->highlighter()->setDark(dark);
}

void MainWindow::setPresentation(bool on)
{
    QFont f = QApplication::font();
    static const qreal base = f.pointSizeF();
    f.setPointSizeF(on ? base * 1.5 : base);
    QApplication::setFont(f);
    m_narration->setPresentation(on);
}

} // namespace vmalab::ui
