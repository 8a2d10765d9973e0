#pragma once

#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <QDialog>
#include <QString>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTreeView;

namespace vmalab::ui {

// Captures one process (host::captureSnapshot). The app fills it in, so that vmalab_ui and
// its tests never read another process's memory maps on their own; tests pass a fake.
using CaptureFunction = std::function<Result<snapshot::Snapshot>(std::int64_t pid, bool freeze)>;

// A process as the picker lists it.
struct ProcessEntry
{
    std::int64_t pid = 0;
    QString name; // /proc/PID/comm
    unsigned uid = 0; // real uid, from /proc/PID/status
    QString user; // its login name when known
    QString commandLine; // /proc/PID/cmdline, NULs as spaces
};

// The processes under procRoot whose smaps this user may read, by pid; kernel threads (no
// command line, no mappings) and vanished ones are left out.
std::vector<ProcessEntry> listReadableProcesses(const QString& procRoot = QStringLiteral("/proc"));

// File → Capture process…: the readable processes with a search box (pid, name, user or
// command line), "stop it while reading" (--freeze), and Capture. Errors (a vanished pid,
// permission denied and what would allow it) show in the dialog, which stays open.
class CaptureDialog : public QDialog
{
    Q_OBJECT
public:
    CaptureDialog(CaptureFunction capture, QWidget* parent = nullptr);

    void setProcesses(const std::vector<ProcessEntry>& processes);
    void setSearch(const QString& text);
    int visibleCount() const;
    // Selects the row of `pid` if it is listed and shown; false otherwise.
    bool selectPid(std::int64_t pid);
    // Captures the selected process; true when it worked (then snapshot() holds it).
    bool captureSelected();
    const std::optional<snapshot::Snapshot>& snapshot() const { return m_snapshot; }
    QString errorText() const;

public Q_SLOTS:
    void refresh();

private:
    std::int64_t selectedPid() const;

    CaptureFunction m_capture;
    QLineEdit* m_search = nullptr;
    QTreeView* m_view = nullptr;
    QStandardItemModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QCheckBox* m_freeze = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_captureButton = nullptr;
    std::optional<snapshot::Snapshot> m_snapshot;
};

} // namespace vmalab::ui
