#include "ui/snapshot_timeline_window.h"

#include "core/snapshot/snapshot_format.h"
#include "ui/chart_view.h"
#include "ui/diagnostics_text.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QTreeWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace vmalab::ui {

namespace {

QString hexAddr(Addr a)
{
    return QStringLiteral("%1").arg(a, 0, 16);
}

QString mib(std::uint64_t bytes)
{
    const double m = static_cast<double>(bytes) / (1024.0 * 1024.0);
    return m >= 100 ? QString::number(m, 'f', 0) + QStringLiteral(" MiB") : QString::number(m, 'f', 1) + QStringLiteral(" MiB");
}

QString sizeText(std::uint64_t bytes)
{
    if (bytes >= (std::uint64_t { 1 } << 30))
        return QString::number(static_cast<double>(bytes) / (1 << 30), 'f', 1) + QStringLiteral(" GiB");
    if (bytes >= (std::uint64_t { 1 } << 20))
        return mib(bytes);
    return QString::number(bytes / 1024) + QStringLiteral(" KiB");
}

double toMib(std::uint64_t bytes)
{
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

snapshot::KindTotals totalsOf(const std::vector<snapshot::ProcessSummary>& procs)
{
    snapshot::KindTotals t;
    for (const auto& p : procs) {
        t.vmas += p.total.vmas;
        t.sizeBytes += p.total.sizeBytes;
        t.rssBytes += p.total.rssBytes;
        t.swapBytes += p.total.swapBytes;
        t.guardPages += p.total.guardPages;
    }
    return t;
}

std::vector<snapshot::ProcessSummary> summarize(const snapshot::Snapshot& s)
{
    std::vector<snapshot::ProcessSummary> out;
    out.reserve(s.processes.size());
    for (const auto& p : s.processes)
        out.push_back(snapshot::summarizeProcess(p));
    return out;
}

// A colour per kind that stays apart for the common colour-vision deficiencies (Okabe–Ito).
const QColor kKindColours[snapshot::kRegionKindCount] = {
    QColor(0x00, 0x72, 0xB2), // anonymous: blue
    QColor(0x56, 0xB4, 0xE9), // heap: sky blue
    QColor(0x00, 0x9E, 0x73), // stack: green
    QColor(0xE6, 0x9F, 0x00), // file: orange
    QColor(0xCC, 0x79, 0xA7), // shmem: purple
    QColor(0x99, 0x99, 0x99), // special: grey
};

} // namespace

SnapshotTimelineWindow::SnapshotTimelineWindow(CaptureFunction capture, QWidget* parent)
    : QMainWindow(parent)
    , m_capture(std::move(capture))
{
    setWindowTitle(tr("Snapshot timeline"));
    buildUi();
    resize(1300, 850);
}

SnapshotTimelineWindow::~SnapshotTimelineWindow()
{
    stopWatching();
    if (m_worker) {
        m_worker->wait();
        delete m_worker;
    }
}

void SnapshotTimelineWindow::buildUi()
{
    auto* tb = addToolBar(tr("Watch"));
    tb->setObjectName(QStringLiteral("watchToolbar"));
    tb->addWidget(new QLabel(tr(" Process id ")));
    m_pid = new QSpinBox;
    m_pid->setRange(1, 1 << 22);
    m_pid->setToolTip(tr("The process to capture (File → Capture process lists them)"));
    tb->addWidget(m_pid);
    tb->addWidget(new QLabel(tr("  every ")));
    m_interval = new QSpinBox;
    m_interval->setRange(50, 600000);
    m_interval->setValue(1000);
    m_interval->setSuffix(tr(" ms"));
    tb->addWidget(m_interval);
    m_watchButton = new QPushButton(tr("Watch"));
    m_watchButton->setEnabled(static_cast<bool>(m_capture));
    tb->addWidget(m_watchButton);
    connect(m_watchButton, &QPushButton::clicked, this, [this] {
        if (watching())
            stopWatching();
        else
            startWatching(m_pid->value(), m_interval->value());
    });
    QAction* once = tb->addAction(tr("Capture now"), this, [this] {
        const QString error = captureNow(m_pid->value());
        if (!error.isEmpty())
            setStatus(error);
    });
    once->setEnabled(static_cast<bool>(m_capture));
    tb->addSeparator();
    tb->addAction(tr("Open…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open snapshot timeline"), QString(), tr("Snapshots (*.vsnap *.json);;All files (*)"));
        if (f.isEmpty())
            return;
        const QString error = loadFile(f);
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Open snapshot timeline"), error);
    });
    tb->addAction(tr("Save…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save snapshot timeline"), QStringLiteral("timeline.vsnap"), tr("Snapshots (*.vsnap)"));
        if (f.isEmpty())
            return;
        const QString error = saveFile(f);
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Save snapshot timeline"), error);
    });
    tb->addAction(tr("Start from this capture"), this, [this] {
        if (m_selected >= 0)
            Q_EMIT startFromRequested(m_timeline[static_cast<std::size_t>(m_selected)],
                QStringLiteral("%1 #%2").arg(m_source.isEmpty() ? tr("watch") : m_source).arg(m_selected));
    });

    m_entries = new QTreeWidget;
    m_entries->setHeaderLabels({ tr("#"), tr("time"), tr("VMAs"), tr("Rss"), tr("changes") });
    m_entries->setRootIsDecorated(false);
    m_entries->setUniformRowHeights(true);
    m_entries->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_entries->header()->setStretchLastSection(false);
    m_entries->setMinimumWidth(330);
    connect(m_entries, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item)
            showEntry(m_entries->indexOfTopLevelItem(item));
    });

    m_eventView = new QTreeWidget;
    m_eventView->setHeaderLabels({ tr("event"), tr("what changed since the capture before") });
    m_eventView->setRootIsDecorated(true);
    m_eventView->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);

    m_process = new QComboBox;
    connect(m_process, &QComboBox::currentIndexChanged, this, [this] { fillSummary(); });

    m_kindChart = new QChart;
    m_kindChart->setTitle(tr("Make-up of the selected capture"));
    m_kindChart->setBackgroundRoundness(0);
    m_kindBars = new QBarSeries;
    m_kindChart->addSeries(m_kindBars);
    m_kindAxis = new QBarCategoryAxis;
    m_kindValues = new QValueAxis;
    m_kindValues->setTitleText(tr("MiB"));
    m_kindValues->setLabelFormat(QStringLiteral("%.0f"));
    m_kindChart->addAxis(m_kindAxis, Qt::AlignBottom);
    m_kindChart->addAxis(m_kindValues, Qt::AlignLeft);
    m_kindBars->attachAxis(m_kindAxis);
    m_kindBars->attachAxis(m_kindValues);
    auto* kindView = new QChartView(m_kindChart);
    kindView->setRenderHint(QPainter::Antialiasing);
    kindView->setMinimumHeight(240);

    m_largest = new QTreeWidget;
    m_largest->setHeaderLabels({ tr("largest VMAs"), tr("size"), tr("Rss"), tr("perms"), tr("name") });
    m_largest->setRootIsDecorated(false);
    m_fragmented = new QTreeWidget;
    m_fragmented->setHeaderLabels({ tr("most fragmented stretches"), tr("VMAs"), tr("size"), tr("first name") });
    m_fragmented->setRootIsDecorated(false);
    for (QTreeWidget* t : { m_largest, m_fragmented })
        t->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

    m_vmaChart = new SeriesChart(tr("VMAs over the timeline"), tr("VMAs"));
    m_rssChart = new SeriesChart(tr("Rss by kind over the timeline"), tr("MiB"));
    for (SeriesChart* c : { m_vmaChart, m_rssChart }) {
        c->setMinimumHeight(200);
        for (QAbstractAxis* a : c->chart()->axes(Qt::Horizontal))
            a->setTitleText(tr("capture"));
    }

    auto* processRow = new QWidget;
    auto* processLayout = new QHBoxLayout(processRow);
    processLayout->setContentsMargins(0, 0, 0, 0);
    processLayout->addWidget(new QLabel(tr("Process:")));
    processLayout->addWidget(m_process, 1);

    auto* summary = new QWidget;
    auto* summaryLayout = new QVBoxLayout(summary);
    summaryLayout->setContentsMargins(0, 0, 0, 0);
    summaryLayout->addWidget(processRow);
    summaryLayout->addWidget(kindView, 2);
    auto* tables = new QSplitter(Qt::Horizontal);
    tables->addWidget(m_largest);
    tables->addWidget(m_fragmented);
    summaryLayout->addWidget(tables, 1);

    auto* overTime = new QSplitter(Qt::Horizontal);
    overTime->addWidget(m_vmaChart);
    overTime->addWidget(m_rssChart);

    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(m_eventView);
    right->addWidget(summary);
    right->addWidget(overTime);
    right->setStretchFactor(0, 2);
    right->setStretchFactor(1, 3);
    right->setStretchFactor(2, 2);

    auto* main = new QSplitter(Qt::Horizontal);
    main->addWidget(m_entries);
    main->addWidget(right);
    main->setStretchFactor(1, 3);
    setCentralWidget(main);

    m_status = new QLabel;
    statusBar()->addWidget(m_status, 1);
    setStatus(m_capture ? tr("Open a timeline, or watch a process id.") : tr("Open a timeline."));

    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &SnapshotTimelineWindow::watchTick);
}

void SnapshotTimelineWindow::setStatus(const QString& text)
{
    m_status->setText(text);
}

QString SnapshotTimelineWindow::statusText() const
{
    return m_status->text();
}

void SnapshotTimelineWindow::setTimeline(std::vector<snapshot::Snapshot> timeline, const QString& source)
{
    m_timeline = std::move(timeline);
    m_source = source;
    m_summaries.clear();
    m_changeCounts.clear();
    for (std::size_t i = 0; i < m_timeline.size(); ++i) {
        m_summaries.push_back(summarize(m_timeline[i]));
        m_changeCounts.push_back(i ? snapshot::diffSnapshots(m_timeline[i - 1], m_timeline[i]).size() : 0);
    }
    refreshEntryList();
    fillOverTime();
    if (!m_timeline.empty()) {
        if (!m_timeline.back().processes.empty())
            m_pid->setValue(static_cast<int>(m_timeline.back().processes.front().pid));
        selectEntry(static_cast<int>(m_timeline.size()) - 1);
    }
    setStatus(tr("%n capture(s) from %1", nullptr, static_cast<int>(m_timeline.size())).arg(source));
}

QString SnapshotTimelineWindow::loadFile(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return tr("%1: %2").arg(path, f.errorString());
    const QByteArray bytes = f.readAll();
    auto parsed = snapshot::parseSnapshots(
        std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())), path.toStdString());
    if (!parsed)
        return diagnosticsText(parsed.error());
    if (parsed->empty())
        return tr("%1 holds no capture").arg(path);
    setTimeline(std::move(*parsed), QFileInfo(path).fileName());
    return {};
}

QString SnapshotTimelineWindow::saveFile(const QString& path) const
{
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return tr("%1: %2").arg(path, out.errorString());
    const std::string bytes = snapshot::writeSnapshots(m_timeline);
    out.write(bytes.data(), static_cast<qint64>(bytes.size()));
    if (!out.commit())
        return tr("%1: %2").arg(path, out.errorString());
    return {};
}

void SnapshotTimelineWindow::appendCapture(snapshot::Snapshot snap)
{
    const std::size_t i = m_timeline.size();
    m_timeline.push_back(std::move(snap));
    m_summaries.push_back(summarize(m_timeline.back()));
    m_changeCounts.push_back(i ? snapshot::diffSnapshots(m_timeline[i - 1], m_timeline[i]).size() : 0);
    refreshEntryList();
    fillOverTime();
    selectEntry(static_cast<int>(i));
    Q_EMIT entryAdded(static_cast<int>(i));
}

QString SnapshotTimelineWindow::captureNow(std::int64_t pid)
{
    if (!m_capture)
        return tr("capturing is not available here");
    auto result = m_capture(pid, false);
    if (!result)
        return diagnosticsText(result.error());
    appendCapture(std::move(*result));
    setStatus(tr("Captured process %1 (%n capture(s))", nullptr, entryCount()).arg(pid));
    return {};
}

void SnapshotTimelineWindow::startWatching(std::int64_t pid, int intervalMs)
{
    if (!m_capture)
        return;
    m_watchPid = pid;
    m_pid->setValue(static_cast<int>(pid));
    m_interval->setValue(intervalMs);
    m_timer->start(intervalMs);
    m_watchButton->setText(tr("Stop"));
    setStatus(tr("Watching process %1 every %2 ms").arg(pid).arg(intervalMs));
    watchTick();
}

void SnapshotTimelineWindow::stopWatching()
{
    if (!m_timer || !m_timer->isActive())
        return;
    m_timer->stop();
    m_watchButton->setText(tr("Watch"));
}

bool SnapshotTimelineWindow::watching() const
{
    return m_timer->isActive();
}

void SnapshotTimelineWindow::watchTick()
{
    // One capture at a time: a slow capture (a huge process) skips ticks rather than piling up.
    if (m_worker)
        return;
    CaptureFunction capture = m_capture;
    const std::int64_t pid = m_watchPid;
    m_worker = QThread::create([this, capture, pid] {
        // Shared, not moved into the lambda: GCC 12 misreads a moved variant as uninitialised.
        auto result = std::make_shared<Result<snapshot::Snapshot>>(capture(pid, false));
        QMetaObject::invokeMethod(
            this, [this, result] { captureFinished(std::move(*result)); }, Qt::QueuedConnection);
    });
    m_worker->start();
}

void SnapshotTimelineWindow::captureFinished(Result<snapshot::Snapshot> result)
{
    if (m_worker) {
        m_worker->wait();
        delete m_worker;
        m_worker = nullptr;
    }
    if (!result) {
        // The watched process exited or became unreadable: the timeline so far stays.
        stopWatching();
        setStatus(tr("Watch stopped: %1").arg(diagnosticsText(result.error())));
        return;
    }
    appendCapture(std::move(*result));
    if (watching())
        setStatus(tr("Watching process %1: %n capture(s)", nullptr, entryCount()).arg(m_watchPid));
}

void SnapshotTimelineWindow::refreshEntryList()
{
    const QSignalBlocker block(m_entries);
    m_entries->clear();
    const std::int64_t t0 = m_timeline.empty() ? 0 : m_timeline.front().monotonicNs;
    for (std::size_t i = 0; i < m_timeline.size(); ++i) {
        const snapshot::KindTotals t = totalsOf(m_summaries[i]);
        const double seconds = static_cast<double>(m_timeline[i].monotonicNs - t0) / 1e9;
        auto* item = new QTreeWidgetItem({ QString::number(i), QStringLiteral("+%1 s").arg(seconds, 0, 'f', 2),
            QString::number(t.vmas), mib(t.rssBytes), i ? QString::number(m_changeCounts[i]) : tr("first") });
        for (int c : { 0, 2, 3, 4 })
            item->setTextAlignment(c, Qt::AlignRight);
        m_entries->addTopLevelItem(item);
    }
    if (m_selected >= 0 && m_selected < m_entries->topLevelItemCount())
        m_entries->setCurrentItem(m_entries->topLevelItem(m_selected));
}

void SnapshotTimelineWindow::selectEntry(int index)
{
    if (index < 0 || index >= entryCount())
        return;
    m_entries->setCurrentItem(m_entries->topLevelItem(index));
    showEntry(index);
}

void SnapshotTimelineWindow::showEntry(int index)
{
    if (index < 0 || index >= entryCount())
        return;
    m_selected = index;
    const auto& snap = m_timeline[static_cast<std::size_t>(index)];
    {
        const QSignalBlocker block(m_process);
        const int keep = m_process->currentIndex();
        m_process->clear();
        for (const auto& p : snap.processes)
            m_process->addItem(QStringLiteral("%1 (%2)").arg(p.pid).arg(QString::fromStdString(p.name)));
        m_process->setCurrentIndex(keep >= 0 && keep < m_process->count() ? keep : 0);
    }
    fillEvents();
    fillSummary();
    m_vmaChart->setCurrent(index - 1);
    m_rssChart->setCurrent(index - 1);
}

void SnapshotTimelineWindow::fillEvents()
{
    m_eventView->clear();
    m_events.clear();
    if (m_selected <= 0) {
        m_eventView->addTopLevelItem(new QTreeWidgetItem({ tr("first"), tr("the first capture: nothing to compare with") }));
        return;
    }
    const auto i = static_cast<std::size_t>(m_selected);
    m_events = snapshot::diffSnapshots(m_timeline[i - 1], m_timeline[i]);
    if (m_events.empty()) {
        m_eventView->addTopLevelItem(new QTreeWidgetItem({ tr("none"), tr("no changes") }));
        return;
    }
    QTreeWidgetItem* group = nullptr;
    std::int64_t pid = -1;
    for (const auto& e : m_events) {
        if (!group || e.pid != pid) {
            pid = e.pid;
            group = new QTreeWidgetItem({ QStringLiteral("pid %1").arg(e.pid), QString::fromStdString(e.comm) });
            m_eventView->addTopLevelItem(group);
            group->setExpanded(true);
        }
        new QTreeWidgetItem(group,
            { QString::fromLatin1(snapshot::eventKindName(e.kind)), QString::fromStdString(snapshot::describeEvent(e)) });
    }
}

const snapshot::ProcessSummary* SnapshotTimelineWindow::selectedSummary() const
{
    if (m_selected < 0)
        return nullptr;
    const auto& procs = m_summaries[static_cast<std::size_t>(m_selected)];
    const int p = m_process->currentIndex();
    if (p < 0 || p >= static_cast<int>(procs.size()))
        return nullptr;
    return &procs[static_cast<std::size_t>(p)];
}

int SnapshotTimelineWindow::largestRows() const
{
    return m_largest->topLevelItemCount();
}

int SnapshotTimelineWindow::fragmentedRows() const
{
    return m_fragmented->topLevelItemCount();
}

void SnapshotTimelineWindow::fillSummary()
{
    m_largest->clear();
    m_fragmented->clear();
    m_kindBars->clear();
    const snapshot::ProcessSummary* s = selectedSummary();
    if (!s)
        return;
    auto* rss = new QBarSet(tr("Rss"));
    auto* swap = new QBarSet(tr("Swap"));
    rss->setColor(kKindColours[0]);
    swap->setColor(kKindColours[3]);
    QStringList categories;
    double top = 1;
    for (std::size_t k = 0; k < snapshot::kRegionKindCount; ++k) {
        const snapshot::KindTotals& t = s->kinds[k];
        categories << QStringLiteral("%1 (%2)")
                          .arg(QString::fromLatin1(snapshot::regionKindName(static_cast<snapshot::RegionKind>(k))))
                          .arg(t.vmas);
        *rss << toMib(t.rssBytes);
        *swap << toMib(t.swapBytes);
        top = std::max({ top, toMib(t.rssBytes), toMib(t.swapBytes) });
    }
    m_kindBars->append(rss);
    m_kindBars->append(swap);
    m_kindAxis->clear();
    m_kindAxis->append(categories);
    m_kindValues->setRange(0, top * 1.1);
    m_kindValues->applyNiceNumbers();
    m_kindChart->setTitle(tr("Make-up of process %1 by kind (VMAs): %2 VMAs, %3 mapped, %4 resident, %5 guard pages")
                              .arg(s->pid)
                              .arg(s->total.vmas)
                              .arg(sizeText(s->total.sizeBytes))
                              .arg(sizeText(s->total.rssBytes))
                              .arg(s->total.guardPages));

    for (const ObservedVma& v : s->largest)
        m_largest->addTopLevelItem(new QTreeWidgetItem({ QStringLiteral("%1-%2").arg(hexAddr(v.start), hexAddr(v.end)),
            sizeText(v.end - v.start), sizeText(v.kb("Rss") * 1024), QString::fromStdString(v.perms),
            QString::fromStdString(v.name) }));
    for (const snapshot::Stretch& st : s->mostFragmented)
        m_fragmented->addTopLevelItem(new QTreeWidgetItem({ QStringLiteral("%1-%2").arg(hexAddr(st.start), hexAddr(st.end)),
            QString::number(st.vmas), sizeText(st.end - st.start), QString::fromStdString(st.firstName) }));
}

void SnapshotTimelineWindow::fillOverTime()
{
    std::vector<double> vmas;
    std::vector<std::vector<double>> byKind(snapshot::kRegionKindCount);
    for (const auto& procs : m_summaries) {
        vmas.push_back(static_cast<double>(totalsOf(procs).vmas));
        for (std::size_t k = 0; k < snapshot::kRegionKindCount; ++k) {
            std::uint64_t bytes = 0;
            for (const auto& p : procs)
                bytes += p.kinds[k].rssBytes;
            byKind[k].push_back(toMib(bytes));
        }
    }
    m_vmaChart->setSeries({ { tr("VMAs"), QPen(kKindColours[0], 2), vmas } });
    std::vector<SeriesChart::Series> series;
    for (std::size_t k = 0; k < snapshot::kRegionKindCount; ++k)
        series.push_back({ QString::fromLatin1(snapshot::regionKindName(static_cast<snapshot::RegionKind>(k))),
            QPen(kKindColours[k], 2), byKind[k] });
    m_rssChart->setSeries(std::move(series));
}

} // namespace vmalab::ui
