#pragma once

#include "core/engine/snapshot_world.h"
#include "core/engine/world.h"

#include <vector>

#include <QStringList>
#include <QWidget>

class QCheckBox;
class QLabel;
class QTableView;

namespace vmalab::ui {

class FlagsModel;

// The assumptions (as HTML-escaped text) that apply to VMA v of process pid: those of the
// whole process and those whose ranges meet v.
QStringList assumptionsFor(const std::vector<SnapshotAssumption>& assumptions, std::int64_t pid, const Vma& v);

// The selected VMA in full: range, pgoff, file, anon_vma and its chain, uffd context,
// anon name, and its vm_flags bit by bit (FlagsModel); for a captured process, what of it
// was assumed because procfs does not show it.
class InspectorWidget : public QWidget
{
    Q_OBJECT
public:
    explicit InspectorWidget(QWidget* parent = nullptr);

    // `assumptions`: what the starting snapshot's World assumed (procfs does not show it);
    // those that apply to this VMA are listed, marked as assumed.
    void setVma(const World& world, int proc, VmaId id, const QString& processName,
        const std::vector<SnapshotAssumption>& assumptions = {});
    void clear();
    FlagsModel* flagsModel() const { return m_flags; }
    QString summaryText() const;

private:
    QLabel* m_summary = nullptr;
    QCheckBox* m_onlySet = nullptr;
    QTableView* m_table = nullptr;
    FlagsModel* m_flags = nullptr;
};

} // namespace vmalab::ui
