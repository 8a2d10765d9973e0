#pragma once

#include <QPen>
#include <QString>
#include <QWidget>

#include <vector>

class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace vmalab {
class History;
struct World;
} // namespace vmalab

namespace vmalab::ui {

// Totals over every process at one moment.
struct WorldStats
{
    int vmas = 0;
    long long rssPages = 0; // present pages that cost memory (not the zero page)
    long long zeroPages = 0;
    long long guardPages = 0;
    long long pteTables = 0;      // page-table pages at the PTE level (Mm::pteTables)
    long long forkPtesCopied = 0; // PTEs copy_page_range() copied into fork children so far
};
WorldStats worldStats(const World& world);
// Element 0 is the initial world, element i + 1 the world after operation i.
std::vector<WorldStats> historyStats(const History& history);

// Line series over the operations (x = 0 before the first, i + 1 after operation i) with
// the current operation marked on each; the page-table and per-profile charts.
class SeriesChart : public QWidget
{
    Q_OBJECT
public:
    struct Series
    {
        QString name;
        QPen pen;
        std::vector<double> values;
    };
    SeriesChart(const QString& title, const QString& yTitle, QWidget* parent = nullptr);

    void setSeries(std::vector<Series> series);
    void setCurrent(int op);
    int seriesCount() const { return static_cast<int>(m_data.size()); }
    // Points of series i (for tests).
    std::vector<double> values(int i) const { return m_data.at(static_cast<std::size_t>(i)).values; }
    QChart* chart() const { return m_chart; }

private:
    QChart* m_chart = nullptr;
    QChartView* m_view = nullptr;
    QValueAxis* m_x = nullptr;
    QValueAxis* m_y = nullptr;
    std::vector<Series> m_data;
    std::vector<QLineSeries*> m_lines;
    QScatterSeries* m_marker = nullptr;
};

// VMA count and resident pages over the operations, with the current operation marked;
// beside it, page-table pages and the PTEs fork copied.
class ChartView : public QWidget
{
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);

    void setHistory(const History* history);
    void setCurrent(int op);
    int pointCount() const;
    SeriesChart* pageTableChart() const { return m_pageTables; }

private:
    QChart* m_chart = nullptr;
    QChartView* m_view = nullptr;
    QLineSeries* m_vmas = nullptr;
    QLineSeries* m_rss = nullptr;
    QScatterSeries* m_marker = nullptr;
    QScatterSeries* m_markerRss = nullptr;
    QValueAxis* m_x = nullptr;
    QValueAxis* m_yVmas = nullptr;
    QValueAxis* m_yRss = nullptr;
    std::vector<WorldStats> m_stats;
    SeriesChart* m_pageTables = nullptr;
};

} // namespace vmalab::ui
