#pragma once

#include "core/engine/world.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <set>
#include <vector>

namespace vmalab::ui {

struct PositionChanges;

// Every VMA of every process at the current position, one row each, as /proc/PID/maps
// would list them plus the model's identities. Fed whole by setWorld(), as heaptrack's
// models are; keeps its own copy of the world (cheap: shared persistent parts).
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

    void setWorld(const World& world, const QStringList& processNames, const PositionChanges* changes = nullptr);
    int rowOf(int proc, VmaId id) const; // -1 when absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        int proc = 0;
        Vma vma;
        QString name;
        QString flags;
        int change = 0; // 0 none, 1 created, 2 changed
    };
    std::vector<Row> m_rows;
    QStringList m_processNames;
};

} // namespace vmalab::ui
