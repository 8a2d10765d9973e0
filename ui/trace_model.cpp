#include "ui/trace_model.h"

#include "ui/map_palette.h"

#include <QBrush>
#include <QFont>

namespace vmalab::ui {

QString idList(const std::vector<VmaId>& ids)
{
    QStringList out;
    for (VmaId id : ids)
        out << QStringLiteral("#%1").arg(id);
    return out.join(QLatin1Char(' '));
}

QString traceMarkdown(const OpTrace& trace, const QString& processName)
{
    auto cell = [](std::string text) {
        QString t = QString::fromStdString(text);
        return t.replace(QLatin1Char('|'), QLatin1String("\\|"));
    };
    QString out =
        QStringLiteral("### %1: `%2` = %3\n\n").arg(processName, QString::fromStdString(trace.call)).arg(trace.ret);
    out += QStringLiteral("| # | kernel function | what | because | lock | created | changed | removed |\n");
    out += QStringLiteral("|---|---|---|---|---|---|---|---|\n");
    for (std::size_t i = 0; i < trace.steps.size(); ++i) {
        const TraceStep& s = trace.steps[i];
        out += QStringLiteral("| %1 | `%2()` | %3 | %4 | %5 | %6 | %7 | %8 |\n")
                   .arg(i + 1)
                   .arg(cell(s.kernelFn), cell(s.what), cell(s.rule),
                       s.lock == vmalab::Lock::None ? QString() : QString::fromLatin1(lockName(s.lock)),
                       idList(s.created), idList(s.changed), idList(s.removed));
    }
    return out;
}

QString stepVmas(const TraceStep& step)
{
    QStringList parts;
    if (!step.created.empty())
        parts << QStringLiteral("new ") + idList(step.created);
    if (!step.changed.empty())
        parts << QStringLiteral("changed ") + idList(step.changed);
    if (!step.removed.empty())
        parts << QStringLiteral("removed ") + idList(step.removed);
    return parts.join(QStringLiteral(" · "));
}

TraceModel::TraceModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void TraceModel::setTrace(const OpTrace& trace, int current)
{
    beginResetModel();
    m_trace = trace;
    m_current = current;
    endResetModel();
}

void TraceModel::clear()
{
    beginResetModel();
    m_trace = {};
    m_current = -1;
    endResetModel();
}

int TraceModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_trace.steps.size());
}

int TraceModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TraceModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const TraceStep& s = m_trace.steps[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Index:
            return index.row() + 1;
        case Function:
            return QString::fromStdString(s.kernelFn) + (role == Qt::DisplayRole ? QStringLiteral("()") : QString());
        case What:
            return QString::fromStdString(s.what);
        case Rule:
            return QString::fromStdString(s.rule);
        case Lock:
            return s.lock == vmalab::Lock::None ? QString() : QString::fromLatin1(lockName(s.lock));
        case Vmas:
            return stepVmas(s);
        default:
            return {};
        }
    }
    if (role == Qt::FontRole) {
        QFont f;
        if (index.column() == Function) {
            f.setFamily(QStringLiteral("DejaVu Sans Mono"));
            f.setStyleHint(QFont::Monospace);
        }
        f.setBold(index.row() == m_current);
        return f;
    }
    if (role == Qt::BackgroundRole && index.row() == m_current) {
        QColor c = selectionColor();
        c = QColor(0x00, 0x72, 0xb2, 50);
        return QBrush(c);
    }
    if (role == Qt::ForegroundRole && index.column() == Vmas) {
        if (!s.created.empty())
            return QBrush(createdColor().darker(130));
        if (!s.changed.empty() || !s.removed.empty())
            return QBrush(changedColor());
    }
    return {};
}

QVariant TraceModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* names[] = { "#", "Kernel function", "What", "Because", "Lock", "VMAs" };
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace vmalab::ui
