#include "ui/capture_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

#include <pwd.h>
#include <unistd.h>

namespace vmalab::ui {

namespace {

QByteArray readSmall(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.read(64 * 1024);
}

QString userName(unsigned uid)
{
    // getpwuid_r: the dialog may list while another thread looks users up.
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
        return QString::fromLocal8Bit(found->pw_name);
    return QString::number(uid);
}

} // namespace

std::vector<ProcessEntry> listReadableProcesses(const QString& procRoot)
{
    std::vector<ProcessEntry> out;
    const QStringList dirs = QDir(procRoot).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& d : dirs) {
        bool ok = false;
        const qint64 pid = d.toLongLong(&ok);
        if (!ok || pid <= 0)
            continue;
        const QString base = procRoot + QLatin1Char('/') + d;
        // The same test the capture makes first: may this user read its maps?
        if (::access(QFile::encodeName(base + QStringLiteral("/smaps")).constData(), R_OK) != 0)
            continue;
        QByteArray cmd = readSmall(base + QStringLiteral("/cmdline"));
        if (cmd.isEmpty())
            continue; // a kernel thread or a zombie: nothing to capture
        while (cmd.endsWith('\0'))
            cmd.chop(1);
        cmd.replace('\0', ' ');
        ProcessEntry e;
        e.pid = pid;
        e.name = QString::fromLocal8Bit(readSmall(base + QStringLiteral("/comm"))).trimmed();
        e.commandLine = QString::fromLocal8Bit(cmd);
        const QList<QByteArray> status = readSmall(base + QStringLiteral("/status")).split('\n');
        for (const QByteArray& line : status)
            if (line.startsWith("Uid:")) {
                const QList<QByteArray> f = line.mid(4).simplified().split(' ');
                e.uid = f.isEmpty() ? 0 : f.front().toUInt();
            }
        e.user = userName(e.uid);
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const ProcessEntry& a, const ProcessEntry& b) { return a.pid < b.pid; });
    return out;
}

CaptureDialog::CaptureDialog(CaptureFunction capture, QWidget* parent)
    : QDialog(parent)
    , m_capture(std::move(capture))
{
    setWindowTitle(tr("Capture process"));
    resize(760, 520);
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Processes whose memory maps you may read (the same user, or CAP_SYS_PTRACE). "
                                "The capture reads /proc/PID/smaps and pagemap; the model then starts from it."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search by pid, name, user or command line"));
    m_search->setClearButtonEnabled(true);
    layout->addWidget(m_search);
    m_model = new QStandardItemModel(0, 4, this);
    m_model->setHorizontalHeaderLabels({ tr("PID"), tr("Name"), tr("User"), tr("Command line") });
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1); // any column
    m_proxy->setSortRole(Qt::UserRole);
    m_view = new QTreeView(this);
    m_view->setModel(m_proxy);
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(0, Qt::AscendingOrder);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->header()->setStretchLastSection(true);
    layout->addWidget(m_view, 1);
    m_freeze = new QCheckBox(tr("Stop the process while reading it (SIGSTOP/SIGCONT), for a consistent capture"), this);
    layout->addWidget(m_freeze);
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #c0392b; font-weight: bold"));
    m_error->hide();
    layout->addWidget(m_error);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_captureButton = buttons->addButton(tr("Capture"), QDialogButtonBox::AcceptRole);
    auto* refreshButton = buttons->addButton(tr("Refresh"), QDialogButtonBox::ActionRole);
    layout->addWidget(buttons);
    connect(m_search, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(refreshButton, &QPushButton::clicked, this, &CaptureDialog::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_captureButton, &QPushButton::clicked, this, [this] {
        if (captureSelected())
            accept();
    });
    connect(m_view, &QTreeView::doubleClicked, this, [this] {
        if (captureSelected())
            accept();
    });
    m_search->setFocus();
}

void CaptureDialog::refresh()
{
    setProcesses(listReadableProcesses());
}

void CaptureDialog::setProcesses(const std::vector<ProcessEntry>& processes)
{
    m_model->removeRows(0, m_model->rowCount());
    for (const ProcessEntry& e : processes) {
        QList<QStandardItem*> row;
        auto* pid = new QStandardItem(QString::number(e.pid));
        pid->setData(QVariant::fromValue<qlonglong>(e.pid), Qt::UserRole);
        row << pid << new QStandardItem(e.name) << new QStandardItem(e.user) << new QStandardItem(e.commandLine);
        for (int c = 1; c < row.size(); ++c)
            row[c]->setData(row[c]->text().toLower(), Qt::UserRole);
        for (QStandardItem* i : row)
            i->setEditable(false);
        m_model->appendRow(row);
    }
    m_view->resizeColumnToContents(0);
    m_view->resizeColumnToContents(1);
    m_view->resizeColumnToContents(2);
}

void CaptureDialog::setSearch(const QString& text)
{
    m_search->setText(text);
}

int CaptureDialog::visibleCount() const
{
    return m_proxy->rowCount();
}

bool CaptureDialog::selectPid(std::int64_t pid)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        const QModelIndex i = m_proxy->index(r, 0);
        if (i.data(Qt::UserRole).toLongLong() == pid) {
            m_view->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

std::int64_t CaptureDialog::selectedPid() const
{
    const QModelIndex i = m_view->currentIndex();
    if (!i.isValid())
        return 0;
    return m_proxy->index(i.row(), 0).data(Qt::UserRole).toLongLong();
}

QString CaptureDialog::errorText() const
{
    return m_error->isVisible() || !m_error->text().isEmpty() ? m_error->text() : QString();
}

bool CaptureDialog::captureSelected()
{
    m_error->clear();
    m_error->hide();
    const std::int64_t pid = selectedPid();
    if (pid <= 0) {
        m_error->setText(tr("Choose a process first."));
        m_error->show();
        return false;
    }
    if (!m_capture) {
        m_error->setText(tr("This build cannot capture processes."));
        m_error->show();
        return false;
    }
    auto snap = m_capture(pid, m_freeze->isChecked());
    if (!snap) {
        QStringList lines;
        for (const Diagnostic& d : snap.error())
            lines << QString::fromStdString(d.message);
        m_error->setText(tr("Could not capture process %1: %2").arg(pid).arg(lines.join(QStringLiteral("; "))));
        m_error->show();
        return false;
    }
    m_snapshot = std::move(*snap);
    return true;
}

} // namespace vmalab::ui
