#pragma once

#include "core/engine/world.h"

#include <QAbstractTableModel>
#include <QFont>
#include <QSortFilterProxyModel>
#include <QStringList>

#include <vector>

namespace vmalab::ui {

struct PositionChanges;

// Every VMA of every process at the current position, one row each, as /proc/PID/maps
// would list them plus the model's identities, in (process, vm_start) order. setWorld()
// diffs the new world against the rows it has, so a step that touches a few VMAs emits
// rowsInserted/rowsRemoved/dataChanged for those rows only and a view keeps its scroll
// position and selection. Keeps its own copy of the world (cheap: shared persistent parts).
class VmaTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Process,
        Start,
        End,
        Size,
        Perms,
        Pgoff,
        Flags,
        Name,
        AnonVma,
        Id,
        ColumnCount
    };
    enum Role
    {
        VmaIdRole = Qt::UserRole + 1,
        ProcessRole,
        SortRole,
    };

    explicit VmaTableModel(QObject* parent = nullptr);

    // Above this many separate insert/remove/change runs (or when it touches more than half
    // the rows) a step resets the model instead: one reset is cheaper for a view than
    // thousands of fine-grained signals.
    static constexpr std::size_t maxEditRuns = 256;

    void setWorld(const World& world, const QStringList& processNames, const PositionChanges* changes = nullptr);
    int rowOf(int proc, VmaId id) const; // -1 when absent

    // The numeric sort key of a column (addresses, sizes, ids), without building a QVariant;
    // false for the text columns.
    bool numericKey(int row, int column, std::uint64_t* key) const;

    // A width that fits a typical cell and the header, from the font alone (no row is read).
    int columnWidth(int column, const QFont& viewFont) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        int proc = 0;
        Vma vma;
        int change = 0; // 0 none, 1 created, 2 changed
        // The Name and VmFlags texts, built the first time a view asks: a 60,000-VMA
        // snapshot shows a screenful of rows, so building them all up front only delays it.
        mutable bool textReady = false;
        mutable QString name;
        mutable QString flags;
        bool sameAs(const Row& o) const { return proc == o.proc && change == o.change && vma == o.vma; }
    };
    struct EditRun;

    std::vector<Row> rowsOf(const World& world, const PositionChanges* changes) const;
    std::vector<EditRun> editRuns(const std::vector<Row>& next) const;
    void applyEditRuns(const std::vector<EditRun>& runs, std::vector<Row>& next);
    const Row& textRow(int row) const;

    std::vector<Row> m_rows;
    World m_world; // what the names are looked up in
    QStringList m_processNames;
    QFont m_monoFont;
};

// The VMA table's sort and filter proxy: compares the numeric columns through
// VmaTableModel::numericKey(), so sorting 60,000 rows builds no QVariant per comparison.
class VmaSortProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit VmaSortProxyModel(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

} // namespace vmalab::ui
