#include "ui/vma_table_model.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"
#include "ui/scenario_session.h"

#include <QBrush>
#include <QFontMetrics>

#include <algorithm>
#include <tuple>

namespace vmalab::ui {

// One run of the edit that turns the current rows into the next ones. `at` indexes the
// current rows, `from` the next ones; runs come in increasing `at`.
struct VmaTableModel::EditRun
{
    enum class Kind
    {
        Remove, // current rows [at, at + count) are gone
        Insert, // next rows [from, from + count) go before current row `at`
        Change, // current rows [at, at + count) become next rows [from, from + count)
    };
    Kind kind = Kind::Change;
    std::size_t at = 0;
    std::size_t from = 0;
    std::size_t count = 0;
};

namespace {

bool before(int procA, Addr startA, int procB, Addr startB)
{
    return std::tie(procA, startA) < std::tie(procB, startB);
}

} // namespace

VmaTableModel::VmaTableModel(QObject* parent)
    : QAbstractTableModel(parent)
    , m_monoFont(QStringLiteral("DejaVu Sans Mono"))
{
    m_monoFont.setStyleHint(QFont::Monospace);
}

std::vector<VmaTableModel::Row> VmaTableModel::rowsOf(const World& world, const PositionChanges* changes) const
{
    std::vector<Row> rows;
    std::size_t total = 0;
    for (const Mm& mm : world.procs)
        total += mm.mapCount();
    rows.reserve(total);
    for (std::size_t p = 0; p < world.procs.size(); ++p) {
        for (const auto& e : world.procs[p].vmas) {
            Row r;
            r.proc = static_cast<int>(p);
            r.vma = e.second;
            if (changes)
                r.change = changes->created.count(r.vma.id) ? 1 : changes->changed.count(r.vma.id) ? 2 : 0;
            rows.push_back(std::move(r));
        }
    }
    return rows;
}

// A merge of the two row lists, both in (process, vm_start) order. A row at the same place
// with the same VMA id changes in place; one with another id is removed and the new one
// inserted, so a persistent index (the selection) never follows a different VMA.
std::vector<VmaTableModel::EditRun> VmaTableModel::editRuns(const std::vector<Row>& next) const
{
    std::vector<EditRun> runs;
    auto add = [&runs](EditRun::Kind kind, std::size_t at, std::size_t from) {
        if (!runs.empty()) {
            EditRun& last = runs.back();
            const bool extends = last.kind == kind
                && (kind == EditRun::Kind::Insert ? last.at == at : last.at + last.count == at)
                && (kind == EditRun::Kind::Remove || last.from + last.count == from);
            if (extends) {
                ++last.count;
                return;
            }
        }
        runs.push_back(EditRun { kind, at, from, 1 });
    };
    std::size_t i = 0, j = 0;
    while (i < m_rows.size() || j < next.size()) {
        const bool oldFirst = j == next.size()
            || (i < m_rows.size()
                && before(m_rows[i].proc, m_rows[i].vma.vm_start, next[j].proc, next[j].vma.vm_start));
        const bool newFirst = !oldFirst
            && (i == m_rows.size()
                || before(next[j].proc, next[j].vma.vm_start, m_rows[i].proc, m_rows[i].vma.vm_start));
        if (oldFirst || (!newFirst && m_rows[i].vma.id != next[j].vma.id)) {
            add(EditRun::Kind::Remove, i++, 0);
        } else if (newFirst) {
            add(EditRun::Kind::Insert, i, j++);
        } else {
            if (!m_rows[i].sameAs(next[j]))
                add(EditRun::Kind::Change, i, j);
            ++i;
            ++j;
        }
        if (runs.size() > maxEditRuns)
            break;
    }
    return runs;
}

void VmaTableModel::applyEditRuns(const std::vector<EditRun>& runs, std::vector<Row>& next)
{
    std::ptrdiff_t shift = 0; // rows inserted minus rows removed so far
    for (const EditRun& run : runs) {
        const int first = static_cast<int>(static_cast<std::ptrdiff_t>(run.at) + shift);
        const int last = first + static_cast<int>(run.count) - 1;
        const auto at = m_rows.begin() + first;
        const auto src = next.begin() + static_cast<std::ptrdiff_t>(run.from);
        const auto n = static_cast<std::ptrdiff_t>(run.count);
        switch (run.kind) {
        case EditRun::Kind::Remove:
            beginRemoveRows({}, first, last);
            m_rows.erase(at, at + n);
            endRemoveRows();
            shift -= n;
            break;
        case EditRun::Kind::Insert:
            beginInsertRows({}, first, last);
            m_rows.insert(at, std::make_move_iterator(src), std::make_move_iterator(src + n));
            endInsertRows();
            shift += n;
            break;
        case EditRun::Kind::Change:
            std::move(src, src + n, at);
            Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
            break;
        }
    }
}

void VmaTableModel::setWorld(const World& world, const QStringList& processNames, const PositionChanges* changes)
{
    std::vector<Row> next = rowsOf(world, changes);
    m_world = world;
    std::vector<EditRun> runs;
    if (!m_rows.empty() && !next.empty())
        runs = editRuns(next);
    std::size_t touched = 0;
    for (const EditRun& run : runs)
        touched += run.count;
    // A new snapshot or scenario replaces most rows: a reset costs the proxy one sort, where
    // inserting tens of thousands of rows into a sorted proxy costs more.
    const bool mostlyNew = touched > std::max<std::size_t>(maxEditRuns, next.size() / 2);
    if (m_rows.empty() || next.empty() || runs.size() > maxEditRuns || mostlyNew) {
        beginResetModel();
        m_rows = std::move(next);
        m_processNames = processNames;
        endResetModel();
        return;
    }
    const bool renamed = processNames != m_processNames;
    m_processNames = processNames; // before the inserts: a filtering proxy reads the new rows
    applyEditRuns(runs, next);
    if (renamed && !m_rows.empty())
        Q_EMIT dataChanged(index(0, Process), index(rowCount() - 1, Process));
}

int VmaTableModel::rowOf(int proc, VmaId id) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].proc == proc && m_rows[i].vma.id == id)
            return static_cast<int>(i);
    return -1;
}

bool VmaTableModel::numericKey(int row, int column, std::uint64_t* key) const
{
    if (row < 0 || row >= rowCount())
        return false;
    const Vma& v = m_rows[static_cast<std::size_t>(row)].vma;
    switch (column) {
    case Start:
        *key = v.vm_start;
        return true;
    case End:
        *key = v.vm_end;
        return true;
    case Size:
        *key = v.vm_end - v.vm_start;
        return true;
    case Pgoff:
        *key = v.vm_pgoff;
        return true;
    case AnonVma:
        *key = v.anon_vma;
        return true;
    case Id:
        *key = v.id;
        return true;
    default:
        return false;
    }
}

int VmaTableModel::columnWidth(int column, const QFont& viewFont) const
{
    QString sample;
    switch (column) {
    case Process:
        sample = QStringLiteral("process (captured)"); // the name a snapshot gives its process
        break;
    case Start:
    case End:
        sample = QStringLiteral("0x7fffffffffff");
        break;
    case Size:
        sample = QStringLiteral("1023.9 MiB");
        break;
    case Perms:
        sample = QStringLiteral("rwxp");
        break;
    case Pgoff:
        sample = QStringLiteral("0x7fffffffff");
        break;
    case Flags:
        sample = QStringLiteral("rd wr mr mw me ac sd");
        break;
    case Name:
        sample = QStringLiteral("/usr/lib/x86_64-linux-gnu/libc.so.6");
        break;
    case AnonVma:
    case Id:
        sample = QStringLiteral("#999999");
        break;
    default:
        break;
    }
    const bool mono = column == Start || column == End || column == Pgoff;
    const QFontMetrics cell(mono ? m_monoFont : viewFont);
    const QFontMetrics header(viewFont);
    const int padding = 2 * header.averageCharWidth() + 8; // cell margins and the sort arrow
    return std::max(
               cell.horizontalAdvance(sample), header.horizontalAdvance(headerData(column, Qt::Horizontal).toString()))
        + padding;
}

int VmaTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int VmaTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const VmaTableModel::Row& VmaTableModel::textRow(int row) const
{
    const Row& r = m_rows[static_cast<std::size_t>(row)];
    if (!r.textReady && static_cast<std::size_t>(r.proc) < m_world.procs.size()) {
        r.name = QString::fromStdString(vmaName(m_world, m_world.procs[static_cast<std::size_t>(r.proc)], r.vma));
        QStringList mnemonics;
        for (const std::string& m : vmFlagMnemonics(r.vma.vm_flags))
            mnemonics << QString::fromStdString(m);
        r.flags = mnemonics.join(QLatin1Char(' '));
        r.textReady = true;
    }
    return r;
}

QVariant VmaTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    const Vma& v = r.vma;
    if (role == VmaIdRole)
        return QVariant::fromValue<qulonglong>(v.id);
    if (role == ProcessRole)
        return r.proc;
    if (role == Qt::DisplayRole || role == SortRole) {
        const bool sort = role == SortRole;
        std::uint64_t key = 0;
        if (sort && numericKey(index.row(), index.column(), &key))
            return QVariant::fromValue<qulonglong>(key);
        switch (index.column()) {
        case Process:
            return r.proc < m_processNames.size() ? m_processNames[r.proc] : QString::number(r.proc);
        case Start:
            return hexText(v.vm_start);
        case End:
            return hexText(v.vm_end);
        case Size:
            return formatBytes(v.vm_end - v.vm_start);
        case Perms:
            return QString::fromStdString(mapsPerms(v.vm_flags));
        case Pgoff:
            return hexText(v.vm_pgoff);
        case Flags:
            return textRow(index.row()).flags;
        case Name:
            return textRow(index.row()).name;
        case AnonVma:
            return v.anon_vma == noAnonVma ? QStringLiteral("—") : QStringLiteral("#%1").arg(v.anon_vma);
        case Id:
            return QVariant::fromValue<qulonglong>(v.id);
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        if (c == Start || c == End || c == Size || c == Pgoff || c == Id || c == AnonVma)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == Qt::FontRole && (index.column() == Start || index.column() == End || index.column() == Pgoff))
        return m_monoFont;
    if (role == Qt::BackgroundRole && r.change != 0) {
        QColor c = r.change == 1 ? createdColor() : changedColor();
        c.setAlpha(60);
        return QBrush(c);
    }
    if (role == Qt::ToolTipRole && r.change != 0)
        return r.change == 1 ? tr("created by the current step") : tr("changed by the current step");
    return {};
}

QVariant VmaTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Process:
        return tr("Process");
    case Start:
        return tr("vm_start");
    case End:
        return tr("vm_end");
    case Size:
        return tr("Size");
    case Perms:
        return tr("Perms");
    case Pgoff:
        return tr("vm_pgoff");
    case Flags:
        return tr("VmFlags");
    case Name:
        return tr("Name");
    case AnonVma:
        return tr("anon_vma");
    case Id:
        return tr("id");
    default:
        return {};
    }
}

VmaSortProxyModel::VmaSortProxyModel(QObject* parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(VmaTableModel::SortRole);
}

bool VmaSortProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const auto* model = qobject_cast<const VmaTableModel*>(sourceModel());
    std::uint64_t a = 0, b = 0;
    if (model && left.column() == right.column() && model->numericKey(left.row(), left.column(), &a)
        && model->numericKey(right.row(), right.column(), &b))
        return a < b;
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace vmalab::ui
