#pragma once

#include "core/snapshot/snapshot.h"
#include "core/snapshot/snapshot_diff.h"
#include "core/snapshot/snapshot_summary.h"
#include "ui/capture_dialog.h"

#include <QMainWindow>
#include <QString>

#include <memory>
#include <vector>

class QBarSeries;
class QBarCategoryAxis;
class QChart;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QThread;
class QTimer;
class QTreeWidget;
class QValueAxis;

namespace vmalab::ui {

class SeriesChart;

// A timeline of captures of live processes (docs/snapshots.md, "Watch and diff"): opened from
// a watch file or filled live by watching a pid. Each entry lists what changed since the one
// before it as the semantic diff's events; the selected entry's make-up (per kind totals,
// largest VMAs, most fragmented stretches) and the totals over time are drawn as charts. Any
// entry can become the main window's starting state ("what if").
class SnapshotTimelineWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit SnapshotTimelineWindow(CaptureFunction capture, QWidget* parent = nullptr);
    ~SnapshotTimelineWindow() override;

    // Replaces the timeline. An empty one leaves the window waiting for a watch.
    void setTimeline(std::vector<snapshot::Snapshot> timeline, const QString& source);
    // Reads a .vsnap file (one capture or a watch timeline); "" or the error.
    QString loadFile(const QString& path);
    // Appends one capture (a watch tick) and selects it.
    void appendCapture(snapshot::Snapshot snap);
    // Writes the timeline as one .vsnap file; "" or the error.
    QString saveFile(const QString& path) const;

    // Watching: a capture of `pid` every intervalMs (measured from the start of the previous
    // one), each on a worker thread so that the window stays responsive.
    void startWatching(std::int64_t pid, int intervalMs);
    void stopWatching();
    bool watching() const;
    // One capture now, on the calling thread; "" or the error (tests, "Capture now").
    QString captureNow(std::int64_t pid);

    void selectEntry(int index);
    int entryCount() const { return static_cast<int>(m_timeline.size()); }
    int selectedEntry() const { return m_selected; }
    const std::vector<snapshot::DiffEvent>& selectedEvents() const { return m_events; }
    const snapshot::ProcessSummary* selectedSummary() const;
    // Rows of the largest-VMA and most-fragmented tables (tests).
    int largestRows() const;
    int fragmentedRows() const;
    QString statusText() const;

Q_SIGNALS:
    // "Start from this entry": the main window runs its scenario on the capture.
    void startFromRequested(const snapshot::Snapshot& snap, const QString& label);
    void entryAdded(int index);

private:
    void buildUi();
    void refreshEntryList();
    void showEntry(int index);
    void fillEvents();
    void fillSummary();
    void fillOverTime();
    void watchTick();
    void captureFinished(Result<snapshot::Snapshot> result);
    void setStatus(const QString& text);

    CaptureFunction m_capture;
    std::vector<snapshot::Snapshot> m_timeline;
    std::vector<std::vector<snapshot::ProcessSummary>> m_summaries; // per entry, per process
    std::vector<std::size_t> m_changeCounts; // events since the entry before
    std::vector<snapshot::DiffEvent> m_events;
    QString m_source;
    int m_selected = -1;

    QTreeWidget* m_entries = nullptr;
    QTreeWidget* m_eventView = nullptr;
    QTreeWidget* m_largest = nullptr;
    QTreeWidget* m_fragmented = nullptr;
    QComboBox* m_process = nullptr;
    QChart* m_kindChart = nullptr;
    QBarSeries* m_kindBars = nullptr;
    QBarCategoryAxis* m_kindAxis = nullptr;
    QValueAxis* m_kindValues = nullptr;
    SeriesChart* m_vmaChart = nullptr;
    SeriesChart* m_rssChart = nullptr;
    QSpinBox* m_pid = nullptr;
    QSpinBox* m_interval = nullptr;
    QPushButton* m_watchButton = nullptr;
    QLabel* m_status = nullptr;
    QTimer* m_timer = nullptr;
    QThread* m_worker = nullptr; // the capture in flight, if any
    std::int64_t m_watchPid = 0;
};

} // namespace vmalab::ui
