#pragma once

#include "ui/world_diff.h"

#include <QString>
#include <QWidget>

#include <vector>

class QComboBox;
class QLabel;
class QListWidget;
class QSlider;
class QTimer;
class QToolButton;

namespace vmalab::ui {

class AddressSpaceView;
class ScenarioSession;
class SeriesChart;

// View → Compare profiles: one scenario run under two kernel profiles, two maps on one
// axis stepping together (zoom and pan synchronised), what differs at the current
// operation marked on both maps and listed, and a chart of page-table pages and PTEs
// copied at fork under each profile.
class CompareWindow : public QWidget
{
    Q_OBJECT
public:
    explicit CompareWindow(QWidget* parent = nullptr);
    ~CompareWindow() override;

    // Runs `text` under both profiles (built-in ones on the reference machine unless
    // `referenceMachine` is false). Returns false when it does not parse.
    bool setScenario(const QString& text, const QString& fileName, bool referenceMachine = true);
    void setProfiles(const QString& a, const QString& b);
    QString profileA() const;
    QString profileB() const;

    int opCount() const;
    int currentOp() const { return m_op; }
    const std::vector<WorldDifference>& differences() const { return m_diffs; }
    // Operations after which the two runs differ, and the first (-2 when never).
    const std::vector<int>& differingOps() const { return m_differingOps; }
    int firstDifferingOp() const { return m_differingOps.empty() ? -2 : m_differingOps.front(); }

    ScenarioSession* sessionA() const { return m_a; }
    ScenarioSession* sessionB() const { return m_b; }
    AddressSpaceView* mapA() const { return m_mapA; }
    AddressSpaceView* mapB() const { return m_mapB; }
    QListWidget* differenceList() const { return m_list; }
    SeriesChart* chart() const { return m_chart; }

public Q_SLOTS:
    // op in [-1, opCount() - 1], clamped.
    void jumpTo(int op);
    void stepForward() { jumpTo(m_op + 1); }
    void stepBack() { jumpTo(m_op - 1); }
    void jumpToFirstDifference();
    void setPlaying(bool on);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void rerun();
    void refresh();
    void updateChart();

    ScenarioSession* m_a = nullptr;
    ScenarioSession* m_b = nullptr;
    QString m_text;
    QString m_fileName;
    int m_op = -1;
    std::vector<WorldDifference> m_diffs;
    std::vector<int> m_differingOps;

    QComboBox* m_boxA = nullptr;
    QComboBox* m_boxB = nullptr;
    QSlider* m_slider = nullptr;
    QLabel* m_position = nullptr;
    QLabel* m_headline = nullptr;
    QLabel* m_titleA = nullptr;
    QLabel* m_titleB = nullptr;
    AddressSpaceView* m_mapA = nullptr;
    AddressSpaceView* m_mapB = nullptr;
    QListWidget* m_list = nullptr;
    SeriesChart* m_chart = nullptr;
    QToolButton* m_play = nullptr;
    QTimer* m_timer = nullptr;
    bool m_syncing = false;
};

} // namespace vmalab::ui
