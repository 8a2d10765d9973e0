#include "ui/compare_window.h"

#include "core/engine/history.h"
#include "core/profile.h"
#include "ui/address_space_view.h"
#include "ui/chart_view.h"
#include "ui/scenario_session.h"

#include <QChart>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QSlider>
#include <QSplitter>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace vmalab::ui {

namespace {

void fillProfiles(QComboBox* box)
{
    for (const std::string& n : builtinProfileNames())
        box->addItem(QString::fromStdString(n), QString::fromStdString(n));
    box->addItem(QObject::tr("host (this kernel)"), QStringLiteral("host"));
}

std::vector<std::pair<Addr, Addr>> vmaRanges(const World& w, const PositionChanges& changes)
{
    std::vector<std::pair<Addr, Addr>> out;
    for (const Mm& mm : w.procs)
        for (const auto& e : mm.vmas)
            out.emplace_back(e.second.vm_start, e.second.vm_end);
    for (const RemovedVma& r : changes.removed)
        out.emplace_back(r.vma.vm_start, r.vma.vm_end);
    return out;
}

} // namespace

CompareWindow::CompareWindow(QWidget* parent)
    : QWidget(parent, Qt::Window)
    , m_a(new ScenarioSession(this))
    , m_b(new ScenarioSession(this))
{
    setWindowTitle(tr("Compare profiles — vmalab"));
    auto* top = new QVBoxLayout(this);
    top->setContentsMargins(6, 6, 6, 6);

    auto* bar = new QHBoxLayout;
    m_boxA = new QComboBox(this);
    m_boxB = new QComboBox(this);
    fillProfiles(m_boxA);
    fillProfiles(m_boxB);
    m_boxA->setCurrentIndex(std::max(0, m_boxA->findData(QStringLiteral("v6.18"))));
    m_boxB->setCurrentIndex(std::max(0, m_boxB->findData(QStringLiteral("maybe-guard"))));
    auto button = [this, bar](QStyle::StandardPixmap icon, const QString& tip) {
        auto* b = new QToolButton(this);
        b->setIcon(style()->standardIcon(icon));
        b->setToolTip(tip);
        b->setAutoRaise(true);
        bar->addWidget(b);
        return b;
    };
    bar->addWidget(new QLabel(tr("Profile A:"), this));
    bar->addWidget(m_boxA);
    bar->addWidget(new QLabel(tr("Profile B:"), this));
    bar->addWidget(m_boxB);
    bar->addSpacing(12);
    QToolButton* start = button(QStyle::SP_MediaSkipBackward, tr("Before the first operation"));
    QToolButton* back = button(QStyle::SP_MediaSeekBackward, tr("Previous operation (both)"));
    m_play = button(QStyle::SP_MediaPlay, tr("Play / pause"));
    m_play->setCheckable(true);
    QToolButton* fwd = button(QStyle::SP_MediaSeekForward, tr("Next operation (both)"));
    QToolButton* first = button(QStyle::SP_ArrowRight, tr("To the first operation after which the runs differ"));
    first->setText(tr("First difference"));
    first->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setMinimumWidth(200);
    bar->addWidget(m_slider, 1);
    m_position = new QLabel(this);
    bar->addWidget(m_position);
    top->addLayout(bar);

    m_headline = new QLabel(this);
    m_headline->setWordWrap(true);
    m_headline->setTextFormat(Qt::RichText);
    top->addWidget(m_headline);

    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* maps = new QSplitter(Qt::Vertical, split);
    auto mapBox = [&](QLabel*& title, AddressSpaceView*& map) {
        auto* w = new QWidget(maps);
        auto* l = new QVBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        l->setSpacing(0);
        title = new QLabel(w);
        QFont f = title->font();
        f.setBold(true);
        f.setPointSizeF(f.pointSizeF() * 1.15);
        title->setFont(f);
        title->setContentsMargins(8, 4, 8, 2);
        l->addWidget(title);
        map = new AddressSpaceView(w);
        l->addWidget(map, 1);
        maps->addWidget(w);
    };
    mapBox(m_titleA, m_mapA);
    mapBox(m_titleB, m_mapB);
    auto* side = new QSplitter(Qt::Vertical, split);
    m_list = new QListWidget(side);
    m_list->setWordWrap(true);
    m_list->setAlternatingRowColors(true);
    m_chart = new SeriesChart(tr("Page tables per profile"), tr("count"), side);
    side->addWidget(m_list);
    side->addWidget(m_chart);
    split->addWidget(maps);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({ 1150, 450 });
    side->setSizes({ 500, 400 });
    top->addWidget(split, 1);

    m_timer = new QTimer(this);
    m_timer->setInterval(900);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_op + 1 >= opCount())
            setPlaying(false);
        else
            stepForward();
    });
    connect(start, &QToolButton::clicked, this, [this] { jumpTo(-1); });
    connect(back, &QToolButton::clicked, this, &CompareWindow::stepBack);
    connect(fwd, &QToolButton::clicked, this, &CompareWindow::stepForward);
    connect(first, &QToolButton::clicked, this, &CompareWindow::jumpToFirstDifference);
    connect(m_play, &QToolButton::toggled, this, &CompareWindow::setPlaying);
    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        if (!m_syncing)
            jumpTo(v);
    });
    connect(m_boxA, &QComboBox::activated, this, [this] { rerun(); });
    connect(m_boxB, &QComboBox::activated, this, [this] { rerun(); });
    // One zoom and pan for both maps: their axes are the same (setAxisExtraRanges()).
    connect(m_mapA, &AddressSpaceView::viewportChanged, m_mapB, &AddressSpaceView::setViewport);
    connect(m_mapB, &AddressSpaceView::viewportChanged, m_mapA, &AddressSpaceView::setViewport);
    connect(m_mapA, &AddressSpaceView::vmaSelected, m_mapB, [this](int proc, VmaId id) {
        // The same place in the other run: the VMA at the selected VMA's start, if any.
        const World& w = m_a->world();
        if (proc < 0 || proc >= static_cast<int>(w.procs.size()))
            return;
        for (const auto& e : w.procs[static_cast<std::size_t>(proc)].vmas)
            if (e.second.id == id)
                if (proc < static_cast<int>(m_b->world().procs.size()))
                    if (const Vma* v = m_b->world().procs[static_cast<std::size_t>(proc)].vmaAt(e.second.vm_start))
                        m_mapB->setSelection(proc, v->id);
    });
    connect(m_list, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        const int i = item->data(Qt::UserRole).toInt();
        if (i < 0 || i >= static_cast<int>(m_diffs.size()))
            return;
        const WorldDifference& d = m_diffs[static_cast<std::size_t>(i)];
        if (d.end > d.start) {
            const Addr pad = std::max<Addr>((d.end - d.start) * 2, 4 * pageSize);
            m_mapA->fitRange(d.start > pad ? d.start - pad : 0, d.end + pad);
        }
    });
    resize(1600, 1000);
}

CompareWindow::~CompareWindow() = default;

void CompareWindow::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    // The maps have their sizes only once shown: zoom to the scenario's part then.
    QTimer::singleShot(0, this, [this] {
        m_mapA->fitScenario();
        m_mapB->setViewport(m_mapA->viewport());
    });
}

bool CompareWindow::setScenario(const QString& text, const QString& fileName, bool referenceMachine)
{
    m_text = text;
    m_fileName = fileName;
    m_a->setReferenceMachine(referenceMachine);
    m_b->setReferenceMachine(referenceMachine);
    rerun();
    return m_a->hasRun() && m_b->hasRun() && m_a->diagnostics().empty();
}

void CompareWindow::setProfiles(const QString& a, const QString& b)
{
    m_boxA->setCurrentIndex(std::max(0, m_boxA->findData(a)));
    m_boxB->setCurrentIndex(std::max(0, m_boxB->findData(b)));
    if (!m_text.isEmpty())
        rerun();
}

QString CompareWindow::profileA() const
{
    return m_boxA->currentData().toString();
}

QString CompareWindow::profileB() const
{
    return m_boxB->currentData().toString();
}

int CompareWindow::opCount() const
{
    return std::max(m_a->opCount(), m_b->opCount());
}

void CompareWindow::rerun()
{
    const int keep = m_op;
    m_a->setProfileName(profileA());
    m_b->setProfileName(profileB());
    m_a->run(m_text, m_fileName);
    m_b->run(m_text, m_fileName);
    m_titleA->setText(tr("A: %1").arg(m_a->effectiveProfile()));
    m_titleB->setText(tr("B: %1").arg(m_b->effectiveProfile()));
    // Which operations leave the runs different (the headline and "first difference").
    m_differingOps.clear();
    if (m_a->hasRun() && m_b->hasRun()) {
        const History& ha = *m_a->history();
        const History& hb = *m_b->history();
        const std::size_t n = std::min(ha.opCount(), hb.opCount());
        for (std::size_t i = 0; i < n && i < 5000; ++i)
            if (!compareWorlds(ha.afterOp(i), hb.afterOp(i), {}, {}, {}).empty())
                m_differingOps.push_back(static_cast<int>(i));
        const auto fa = scenarioFocusRange(ha);
        const auto fb = scenarioFocusRange(hb);
        const Addr lo = std::min(fa.first ? fa.first : fb.first, fb.first ? fb.first : fa.first);
        const Addr hi = std::max(fa.second, fb.second);
        m_mapA->setFocusRange(lo, hi);
        m_mapB->setFocusRange(lo, hi);
    }
    m_syncing = true;
    m_slider->setRange(-1, opCount() - 1);
    m_syncing = false;
    updateChart();
    m_op = -2;
    jumpTo(std::clamp(keep, -1, opCount() - 1));
    m_mapA->fitScenario();
}

void CompareWindow::jumpTo(int op)
{
    op = std::clamp(op, -1, opCount() - 1);
    if (op == m_op)
        return;
    m_op = op;
    m_a->jumpTo(std::min(op, m_a->opCount() - 1));
    m_b->jumpTo(std::min(op, m_b->opCount() - 1));
    refresh();
}

void CompareWindow::jumpToFirstDifference()
{
    if (!m_differingOps.empty())
        jumpTo(m_differingOps.front());
}

void CompareWindow::setPlaying(bool on)
{
    if (on && m_op + 1 >= opCount())
        jumpTo(-1);
    m_play->blockSignals(true);
    m_play->setChecked(on);
    m_play->blockSignals(false);
    m_play->setIcon(style()->standardIcon(on ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    if (on)
        m_timer->start();
    else
        m_timer->stop();
}

void CompareWindow::refresh()
{
    const World& wa = m_a->world();
    const World& wb = m_b->world();
    const QString la = m_a->effectiveProfile(), lb = m_b->effectiveProfile();
    m_diffs = compareWorlds(wa, wb, m_a->processNames(), la, lb);
    auto ranges = vmaRanges(wa, m_a->changes());
    auto rb = vmaRanges(wb, m_b->changes());
    ranges.insert(ranges.end(), rb.begin(), rb.end());
    m_mapA->setAxisExtraRanges(ranges);
    m_mapB->setAxisExtraRanges(ranges);
    m_mapA->setForkParents(m_a->forkParents());
    m_mapB->setForkParents(m_b->forkParents());
    m_mapA->setWorld(wa, m_a->processNames(), m_a->changes());
    m_mapB->setWorld(wb, m_b->processNames(), m_b->changes());
    m_mapA->setDifferences(m_diffs);
    m_mapB->setDifferences(m_diffs);
    m_mapB->setViewport(m_mapA->viewport());
    m_chart->setCurrent(m_op);

    m_syncing = true;
    m_slider->setValue(m_op);
    m_syncing = false;
    QString call;
    if (m_op >= 0 && m_a->hasRun() && m_op < m_a->opCount())
        call = QString::fromStdString(m_a->history()->op(static_cast<std::size_t>(m_op)).call);
    m_position->setText(tr("op %1/%2").arg(m_op + 1).arg(opCount()));

    m_list->clear();
    for (std::size_t i = 0; i < m_diffs.size(); ++i) {
        const WorldDifference& d = m_diffs[i];
        auto* item = new QListWidgetItem(
            QStringLiteral("[%1] %2").arg(QLatin1String(differenceKindName(d.kind)), d.text), m_list);
        item->setData(Qt::UserRole, static_cast<int>(i));
    }
    const QString where = call.isEmpty() ? tr("before the first operation") : tr("after <code>%1</code>").arg(call.toHtmlEscaped());
    QString head;
    if (m_diffs.empty())
        head = tr("<b>Same</b> under %1 and %2 %3.").arg(la, lb, where);
    else
        head = tr("<b style='color:#d55e00'>%1 difference(s)</b> between %2 and %3 %4 (marked ≠ on both maps).")
                   .arg(m_diffs.size())
                   .arg(la, lb, where);
    if (m_differingOps.empty())
        head += tr(" The two runs never differ.");
    else
        head += tr(" The runs differ after %1 of %2 operations, first after operation %3.")
                    .arg(m_differingOps.size())
                    .arg(opCount())
                    .arg(m_differingOps.front() + 1);
    m_headline->setText(head);
}

void CompareWindow::updateChart()
{
    std::vector<SeriesChart::Series> series;
    const QColor colours[2] = { QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00) };
    int side = 0;
    for (ScenarioSession* s : { m_a, m_b }) {
        if (!s->hasRun()) {
            ++side;
            continue;
        }
        const std::vector<WorldStats> st = historyStats(*s->history());
        const QString ab = side == 0 ? QStringLiteral("A") : QStringLiteral("B");
        SeriesChart::Series tables { tr("%1 PTE tables").arg(ab), QPen(colours[side], side == 0 ? 4.5 : 2.5), {} };
        SeriesChart::Series copied { tr("%1 fork PTE copies").arg(ab),
            QPen(colours[side], side == 0 ? 4.5 : 2.5, Qt::DashLine), {} };
        for (const WorldStats& w : st) {
            tables.values.push_back(static_cast<double>(w.pteTables));
            copied.values.push_back(static_cast<double>(w.forkPtesCopied));
        }
        series.push_back(std::move(tables));
        series.push_back(std::move(copied));
        ++side;
    }
    m_chart->setSeries(std::move(series));
    m_chart->chart()->setTitle(tr("Page tables · A %1 · B %2").arg(m_a->effectiveProfile(), m_b->effectiveProfile()));
}

} // namespace vmalab::ui
