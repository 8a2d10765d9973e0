#pragma once

#include "core/engine/world.h"

#include "core/lesson/quiz.h"
#include "ui/capture_dialog.h"
#include "ui/record_dialog.h"

#include <QMainWindow>

#include <QImage>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QSlider;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace vmalab::ui {

class AddressSpaceView;
class ChartView;
class CompareWindow;
class PageTableView;
class InspectorWidget;
class MapleTreeView;
class NarrationWidget;
class RecoveryStore;
class ScenarioEditor;
class SnapshotTimelineWindow;
class RecordDialog;
class ScenarioSession;
class TimelineModel;
class TraceModel;
class VmaTableModel;

// The application window: the scenario editor, the narration, the address-space map in
// the middle, and docks for the trace, the VMA table, the flags inspector, the timeline
// and the chart. Everything follows ScenarioSession's position; a VMA selected anywhere is
// selected everywhere.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    // recoveryDir: where the editor's text is autosaved ("" for RecoveryStore::defaultDir()).
    explicit MainWindow(const QString& recoveryDir = QString(), QWidget* parent = nullptr);
    ~MainWindow() override;

    bool openFile(const QString& path);
    // A text not backed by a file the user may overwrite (a shipped lesson, a recovery).
    void openText(const QString& text, const QString& displayName);
    void openDefaultLesson();
    // Offers back an autosaved edit from a previous session; returns true if one was restored.
    bool offerRecovery(bool ask = true);
    // "" follows the scenario; otherwise host or a built-in profile name.
    void setProfile(const QString& name);
    void runScenario();
    // File → Open snapshot: later runs start from the captured process in `path` (what if the
    // scenario's calls ran on it). Returns an error sentence, "" on success.
    QString openSnapshot(const QString& path);
    // Back to the scenario's own start.
    void closeSnapshot();
    // File → Capture process… is enabled once the app gives a way to capture.
    void setCaptureFunction(CaptureFunction capture);
    // File → Snapshot timeline: a watch of a live process or a timeline file, its diff events
    // and summary charts (created on first use). With a path, that file is loaded into it.
    SnapshotTimelineWindow* showSnapshotTimeline(const QString& path = {});
    // File → Record program: the app's recorder; the recording opens here when done.
    void setRecordFunction(RecordFunction record);
    // Opens the record dialog (modeless); returns it so that tests can drive it.
    RecordDialog* showRecordDialog();
    bool jumpToOperation(int op); // 0: before the first operation; n: after operation n
    // Lessons → Quiz mode: Step stops before a quiz statement (docs/lessons.md) and asks.
    void setQuizMode(bool on);
    bool quizMode() const;
    // The quiz the next Step would ask (none outside quiz mode, or when the next operation
    // is no quiz point); errors building it are nullopt too, the step then just runs.
    std::optional<lesson::Quiz> quizForNextStep() const;

    ScenarioSession* session() const { return m_session; }
    PageTableView* pageTableView() const { return m_pageTables; }
    ChartView* chartView() const { return m_chart; }
    CompareWindow* compareWindow() const { return m_compare; }

    // View → Compare profiles: the scenario in the editor under two profiles, opened at
    // the current operation ("" picks v6.18 and maybe-guard).
    CompareWindow* openCompare(const QString& profileA = QString(), const QString& profileB = QString());

    // Play: one operation per 1000/speed ms until the end.
    void setPlaying(bool on);
    bool isPlaying() const;
    void setPlaySpeed(double stepsPerSecond);
    double playSpeed() const { return m_playSpeed; }
    // Dark or light colours (the default follows the system palette's lightness).
    void setDarkTheme(bool dark);
    bool darkTheme() const;

    // Export (File → Export, and the command line). The map as it is on screen:
    bool exportMapPng(const QString& path);
    bool exportMapSvg(const QString& path);
    // The map after every operation (before the first, then after each), as the map is
    // sized now; the position is restored afterwards.
    std::vector<QImage> renderSteps();
    bool exportGif(const QString& path, QString* error = nullptr);
    QStringList exportPngSeries(const QString& dir);
    // Every operation's trace, as Markdown.
    bool exportHistoryMarkdown(const QString& path);
    AddressSpaceView* mapView() const { return m_map; }
    ScenarioEditor* editor() const { return m_editor; }
    RecoveryStore* recoveryStore() const { return m_recovery.get(); }
    void selectVma(int proc, VmaId id, bool centre = false);
    // A selection the user made (map, table, tree, page tables): it survives steps while the
    // VMA lives, instead of following what each step made.
    void selectByUser(int proc, VmaId id, bool centre = false);
    // Brings a tabbed pane to the front: editor, trace, vmas, timeline, chart, inspector, tree.
    bool raisePane(const QString& name);

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void buildActions();
    void buildMenus();
    void buildDocks();
    void buildToolBars();
    void onRan();
    void onCurrentChanged();
    void onTextChanged();
    void updateTitle();
    void updateRecentMenu();
    void addRecent(const QString& path);
    bool save();
    bool saveAs();
    bool maybeSave();
    void exportMap(bool svg);
    void exportTrace();
    void exportWholeTrace();
    void exportSequence(bool gif);
    void updatePageTables();
    void setDark(bool dark);
    void setPresentation(bool on);
    void fillLessonsMenu();

    ScenarioSession* m_session = nullptr;
    std::unique_ptr<RecoveryStore> m_recovery;
    QString m_path; // the file the editor saves to ("" for untitled)
    QString m_displayName; // shown in the title and diagnostics
    bool m_loading = false;

    ScenarioEditor* m_editor = nullptr;
    QListWidget* m_diagList = nullptr;
    NarrationWidget* m_narration = nullptr;
    AddressSpaceView* m_map = nullptr;
    QLineEdit* m_lookup = nullptr;
    QLineEdit* m_filter = nullptr;
    TraceModel* m_traceModel = nullptr;
    QTableView* m_traceView = nullptr;
    VmaTableModel* m_vmaModel = nullptr;
    QSortFilterProxyModel* m_vmaProxy = nullptr;
    QTableView* m_vmaView = nullptr;
    InspectorWidget* m_inspector = nullptr;
    TimelineModel* m_timelineModel = nullptr;
    QTableView* m_timelineView = nullptr;
    ChartView* m_chart = nullptr;
    MapleTreeView* m_tree = nullptr;
    PageTableView* m_pageTables = nullptr;
    CompareWindow* m_compare = nullptr;
    QTimer* m_playTimer = nullptr;
    QComboBox* m_speedBox = nullptr;
    double m_playSpeed = 1.0;
    QSlider* m_slider = nullptr;
    QLabel* m_positionLabel = nullptr;
    QComboBox* m_profileBox = nullptr;
    QTimer* m_rerun = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_lessonsMenu = nullptr;
    QMenu* m_viewMenu = nullptr;

    QAction* m_openAct = nullptr;
    QAction* m_openSnapshotAct = nullptr;
    QAction* m_quizAct = nullptr;
    QAction* m_captureAct = nullptr;
    QAction* m_closeSnapshotAct = nullptr;
    CaptureFunction m_capture;
    bool m_selectionPinned = false; // the selection is the user's (selectByUser)
    SnapshotTimelineWindow* m_timelineWindow = nullptr;
    RecordFunction m_record;
    QAction* m_recordAct = nullptr;
    QAction* m_timelineAct = nullptr;
    QAction* m_saveAct = nullptr;
    QAction* m_saveAsAct = nullptr;
    QAction* m_runAct = nullptr;
    QAction* m_stepAct = nullptr;
    QAction* m_backAct = nullptr;
    QAction* m_microAct = nullptr;
    QAction* m_microBackAct = nullptr;
    QAction* m_startAct = nullptr;
    QAction* m_endAct = nullptr;
    QAction* m_referenceAct = nullptr;
    QAction* m_darkAct = nullptr;
    QAction* m_presentAct = nullptr;
    QAction* m_playAct = nullptr;
    QAction* m_compareAct = nullptr;

    int m_selProc = -1;
    VmaId m_selId = 0;
    bool m_syncing = false;
    bool m_docksSized = false;
};

} // namespace vmalab::ui
