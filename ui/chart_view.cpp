#include "ui/chart_view.h"

#include "core/engine/history.h"

#include <QChart>
#include <QChartView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace vmalab::ui {

WorldStats worldStats(const World& world)
{
    WorldStats s;
    for (const Mm& mm : world.procs) {
        s.vmas += static_cast<int>(mm.mapCount());
        s.forkPtesCopied += static_cast<long long>(mm.forkPtesCopied);
        mm.pteTables.forEachAll([&](std::uint64_t a, std::uint64_t b, const bool& v) {
            s.pteTables += v ? static_cast<long long>(b - a) : 0;
        });
        mm.ptes.forEachAll([&](std::uint64_t a, std::uint64_t b, const Pte& pte) {
            const auto n = static_cast<long long>(b - a);
            if (pte.state == PageState::Guard)
                s.guardPages += n;
            else if (pte.state == PageState::Present && pte.kind == Pte::Kind::ZeroPage)
                s.zeroPages += n;
            else if (pte.state == PageState::Present)
                s.rssPages += n;
        });
    }
    return s;
}

std::vector<WorldStats> historyStats(const History& history)
{
    std::vector<WorldStats> out;
    out.reserve(history.opCount() + 1);
    out.push_back(worldStats(history.initial()));
    for (std::size_t i = 0; i < history.opCount(); ++i)
        out.push_back(worldStats(history.afterOp(i)));
    return out;
}

SeriesChart::SeriesChart(const QString& title, const QString& yTitle, QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart)
    , m_x(new QValueAxis)
    , m_y(new QValueAxis)
    , m_marker(new QScatterSeries)
{
    m_chart->setTitle(title);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart->setBackgroundRoundness(0);
    m_x->setTitleText(tr("operation"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_y->setLabelFormat(QStringLiteral("%d"));
    m_y->setTitleText(yTitle);
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    m_marker->setMarkerSize(10);
    m_marker->setColor(Qt::black);
    m_marker->setBorderColor(Qt::white);
    m_chart->addSeries(m_marker);
    m_marker->attachAxis(m_x);
    m_marker->attachAxis(m_y);
    m_chart->legend()->markers(m_marker).first()->setVisible(false);
    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
}

void SeriesChart::setSeries(std::vector<Series> series)
{
    for (QLineSeries* l : m_lines) {
        m_chart->removeSeries(l);
        delete l;
    }
    m_lines.clear();
    m_data = std::move(series);
    double maxY = 1;
    std::size_t points = 1;
    for (const Series& s : m_data) {
        auto* line = new QLineSeries;
        line->setName(s.name);
        line->setPen(s.pen);
        QList<QPointF> pts;
        for (std::size_t i = 0; i < s.values.size(); ++i) {
            pts << QPointF(static_cast<double>(i), s.values[i]);
            maxY = std::max(maxY, s.values[i]);
        }
        points = std::max(points, s.values.size());
        line->replace(pts);
        m_chart->addSeries(line);
        line->attachAxis(m_x);
        line->attachAxis(m_y);
        m_lines.push_back(line);
    }
    const double ops = static_cast<double>(points) - 1;
    m_x->setRange(0, std::max(1.0, ops));
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
    m_x->setTickInterval(std::max(1.0, std::ceil(ops / 10.0)));
    // Whole numbers on the y axis too: counts of tables and PTEs.
    const double top = std::ceil(maxY * 1.1) + 1;
    m_y->setRange(0, top);
    m_y->setTickType(QValueAxis::TicksDynamic);
    m_y->setTickAnchor(0);
    m_y->setTickInterval(std::max(1.0, std::ceil(top / 6.0)));
}

void SeriesChart::setCurrent(int op)
{
    m_marker->clear();
    const auto i = static_cast<std::size_t>(op + 1);
    for (const Series& s : m_data)
        if (i < s.values.size())
            m_marker->append(static_cast<double>(i), s.values[i]);
}

ChartView::ChartView(QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart)
    , m_vmas(new QLineSeries)
    , m_rss(new QLineSeries)
    , m_marker(new QScatterSeries)
    , m_markerRss(new QScatterSeries)
    , m_x(new QValueAxis)
    , m_yVmas(new QValueAxis)
    , m_yRss(new QValueAxis)
{
    m_vmas->setName(tr("VMAs"));
    m_rss->setName(tr("resident pages (Rss)"));
    m_vmas->setPen(QPen(QColor(0x00, 0x72, 0xb2), 2.5));
    m_rss->setPen(QPen(QColor(0xd5, 0x5e, 0x00), 2.5, Qt::DashLine));
    for (QScatterSeries* m : { m_marker, m_markerRss }) {
        m->setMarkerSize(11);
        m->setColor(Qt::black);
        m->setBorderColor(Qt::white);
    }
    m_chart->addSeries(m_vmas);
    m_chart->addSeries(m_rss);
    m_chart->addSeries(m_marker);
    m_chart->addSeries(m_markerRss);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->legend()->markers(m_marker).first()->setVisible(false);
    m_chart->legend()->markers(m_markerRss).first()->setVisible(false);
    m_chart->setMargins(QMargins(2, 2, 2, 2));
    m_chart->setBackgroundRoundness(0);
    m_x->setTitleText(tr("operation"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_yVmas->setLabelFormat(QStringLiteral("%d"));
    m_yRss->setLabelFormat(QStringLiteral("%d"));
    m_yVmas->setTitleText(tr("VMAs"));
    m_yRss->setTitleText(tr("pages"));
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_yVmas, Qt::AlignLeft);
    m_chart->addAxis(m_yRss, Qt::AlignRight);
    for (QXYSeries* s : { static_cast<QXYSeries*>(m_vmas), static_cast<QXYSeries*>(m_marker) }) {
        s->attachAxis(m_x);
        s->attachAxis(m_yVmas);
    }
    for (QXYSeries* s : { static_cast<QXYSeries*>(m_rss), static_cast<QXYSeries*>(m_markerRss) }) {
        s->attachAxis(m_x);
        s->attachAxis(m_yRss);
    }
    m_chart->setTitle(tr("VMAs and Rss"));
    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_pageTables = new SeriesChart(tr("Page tables"), tr("count"), this);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_pageTables, 1);
}

void ChartView::setHistory(const History* history)
{
    m_stats = history ? historyStats(*history) : std::vector<WorldStats> {};
    QList<QPointF> v, r;
    int maxV = 1;
    long long maxR = 1;
    for (std::size_t i = 0; i < m_stats.size(); ++i) {
        v << QPointF(static_cast<double>(i), m_stats[i].vmas);
        r << QPointF(static_cast<double>(i), static_cast<double>(m_stats[i].rssPages));
        maxV = std::max(maxV, m_stats[i].vmas);
        maxR = std::max(maxR, m_stats[i].rssPages);
    }
    m_vmas->replace(v);
    m_rss->replace(r);
    m_x->setRange(0, std::max<double>(1, static_cast<double>(m_stats.size()) - 1));
    m_yVmas->setRange(0, maxV + 1);
    m_yRss->setRange(0, static_cast<double>(maxR + 1));
    // Whole operations only: a dynamic tick interval anchored at 0.
    const auto ops = static_cast<double>(std::max<std::size_t>(1, m_stats.size()) - 1);
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
    m_x->setTickInterval(std::max(1.0, std::ceil(ops / 10.0)));
    SeriesChart::Series tables { tr("PTE tables"), QPen(QColor(0x00, 0x9e, 0x73), 2.5), {} };
    SeriesChart::Series copied { tr("PTEs copied at fork"), QPen(QColor(0xcc, 0x79, 0xa7), 2.5, Qt::DashLine), {} };
    for (const WorldStats& st : m_stats) {
        tables.values.push_back(static_cast<double>(st.pteTables));
        copied.values.push_back(static_cast<double>(st.forkPtesCopied));
    }
    m_pageTables->setSeries({ tables, copied });
}

void ChartView::setCurrent(int op)
{
    m_pageTables->setCurrent(op);
    const int i = op + 1;
    m_marker->clear();
    m_markerRss->clear();
    if (i >= 0 && i < static_cast<int>(m_stats.size())) {
        m_marker->append(i, m_stats[static_cast<std::size_t>(i)].vmas);
        m_markerRss->append(i, static_cast<double>(m_stats[static_cast<std::size_t>(i)].rssPages));
    }
}

int ChartView::pointCount() const
{
    return static_cast<int>(m_vmas->count());
}

} // namespace vmalab::ui
