#pragma once

#include <QAbstractTableModel>
#include <QStringList>

#include <cstdint>
#include <string>

namespace vmalab {
class History;
}

namespace vmalab::ui {

// What a call returned, as a reader wants it: errno names, SIGSEGV/SIGBUS for touch(),
// addresses in hex.
QString callResultText(const std::string& call, std::int64_t ret);

// The whole run, one row per operation plus a first row for the state before any:
// process, call text, return value (errno names spelled out) and source line.
class TimelineModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Index,
        Process,
        Call,
        Result,
        Line,
        ColumnCount
    };

    explicit TimelineModel(QObject* parent = nullptr);

    // The model copies what it shows; history may go away afterwards.
    void setHistory(const History* history, const QStringList& processNames);
    void setCurrent(int op); // -1: before the first operation
    static int rowOfOp(int op) { return op + 1; }
    static int opOfRow(int row) { return row - 1; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString process;
        QString call;
        QString result;
        int line = 0;
        bool failed = false;
    };
    std::vector<Row> m_rows;
    int m_current = -1;
};

} // namespace vmalab::ui
