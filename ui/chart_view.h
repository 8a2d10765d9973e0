#pragma once

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
};
WorldStats worldStats(const World& world);
// Element 0 is the initial world, element i + 1 the world after operation i.
std::vector<WorldStats> historyStats(const History& history);

// VMA count and resident pages over the operations, with the current operation marked.
class ChartView : public QWidget
{
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);

    void setHistory(const History* history);
    void setCurrent(int op);
    int pointCount() const;

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
};

} // namespace vmalab::ui
