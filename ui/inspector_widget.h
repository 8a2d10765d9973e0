#pragma once

#include "core/engine/world.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QTableView;

namespace vmalab::ui {

class FlagsModel;

// The selected VMA in full: range, pgoff, file, anon_vma and its chain, uffd context,
// anon name, and its vm_flags bit by bit (FlagsModel).
class InspectorWidget : public QWidget
{
    Q_OBJECT
public:
    explicit InspectorWidget(QWidget* parent = nullptr);

    void setVma(const World& world, int proc, VmaId id, const QString& processName);
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
