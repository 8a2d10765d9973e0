#pragma once

#include "core/engine/world.h"
#include "ui/page_tables.h"

#include <QStringList>
#include <QWidget>

class QLabel;
class QStandardItem;
class QStandardItemModel;
class QTreeView;

namespace vmalab::ui {

// The page-tables pane: the selected VMA's PGD → P4D → PUD → PMD → PTE tables as a tree
// (walkPageTables()), PTEs coloured as in the map's page strip, COW-shared folios with the
// process and address that map them too. Activating an entry selects that place.
class PageTableView : public QWidget
{
    Q_OBJECT
public:
    enum Column
    {
        Entry,
        Content,
        SharedWith,
        Covers,
        ColumnCount,
    };
    enum Role
    {
        AddrRole = Qt::UserRole + 1, // the first address an entry covers
        ProcRole,                    // the process an entry belongs to (SharedWith: the other one)
        LevelRole,                   // PtLevel
        KindRole,                    // PageKind (PTE rows)
    };

    explicit PageTableView(QWidget* parent = nullptr);

    // Walks [start, end) of process `proc` (usually the selected VMA).
    void setRange(const World& world, int proc, Addr start, Addr end, const QStringList& processNames);
    void clear();

    const PageTableWalk& walk() const { return m_walk; }
    QStandardItemModel* model() const { return m_model; }
    QTreeView* tree() const { return m_tree; }
    QString summaryText() const;

Q_SIGNALS:
    // An entry was activated: the place it maps (for a shared folio: in the other process).
    void addressActivated(int proc, vmalab::Addr addr);

private:
    void addNode(QStandardItem* parent, const PtNode& node);

    QLabel* m_summary = nullptr;
    QTreeView* m_tree = nullptr;
    QStandardItemModel* m_model = nullptr;
    PageTableWalk m_walk;
    QStringList m_names;
    std::vector<std::int64_t> m_pids;
};

} // namespace vmalab::ui
