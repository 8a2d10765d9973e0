#include "ui/record_dialog.h"

#include "ui/diagnostics_text.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <memory>

namespace vmalab::ui {

namespace {

// A line edit with a "…" button that opens a file or directory chooser.
QWidget* withBrowse(QLineEdit* edit, const std::function<void()>& browse)
{
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* button = new QToolButton;
    button->setText(QStringLiteral("…"));
    QObject::connect(button, &QToolButton::clicked, row, browse);
    layout->addWidget(button);
    return row;
}

} // namespace

bool splitCommandLine(const QString& line, QStringList* words)
{
    words->clear();
    QString word;
    bool inWord = false;
    QChar quote;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const QChar c = line[i];
        if (!quote.isNull()) {
            if (c == quote)
                quote = QChar();
            else if (c == QLatin1Char('\\') && quote == QLatin1Char('"') && i + 1 < line.size()
                && (line[i + 1] == QLatin1Char('"') || line[i + 1] == QLatin1Char('\\')))
                word += line[++i];
            else
                word += c;
            continue;
        }
        if (c.isSpace()) {
            if (inWord)
                words->append(word);
            word.clear();
            inWord = false;
            continue;
        }
        inWord = true;
        if (c == QLatin1Char('\'') || c == QLatin1Char('"'))
            quote = c;
        else if (c == QLatin1Char('\\') && i + 1 < line.size())
            word += line[++i];
        else
            word += c;
    }
    if (!quote.isNull())
        return false;
    if (inWord)
        words->append(word);
    return true;
}

QString RecordDialog::defaultOutputPath(const QString& program)
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/recordings");
    const QString base = QFileInfo(program).fileName().isEmpty() ? QStringLiteral("program") : QFileInfo(program).fileName();
    return QStringLiteral("%1/%2-%3.vlab")
        .arg(dir, base, QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
}

RecordDialog::RecordDialog(RecordFunction record, QWidget* parent)
    : QDialog(parent)
    , m_record(std::move(record))
{
    setWindowTitle(tr("Record a program"));
    m_command = new QLineEdit;
    m_command->setPlaceholderText(tr("e.g.  python3 -c 'import json'"));
    m_directory = new QLineEdit(QDir::currentPath());
    m_output = new QLineEdit;
    m_output->setPlaceholderText(tr("default: %1").arg(defaultOutputPath(QStringLiteral("PROGRAM"))));
    m_error = new QLabel;
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #b00020"));

    auto* form = new QFormLayout;
    form->addRow(tr("Program and arguments:"), m_command);
    form->addRow(tr("Working directory:"), withBrowse(m_directory, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Working directory"), m_directory->text());
        if (!d.isEmpty())
            m_directory->setText(d);
    }));
    form->addRow(tr("Recording:"), withBrowse(m_output, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Recording"), m_output->text(), tr("Scenarios (*.vlab)"));
        if (!f.isEmpty())
            m_output->setText(f);
    }));
    auto* explain = new QLabel(tr("The program runs under ptrace: its memory system calls, the page states around them "
                                  "and its address space at the start and at exit are recorded as a scenario that "
                                  "opens stepped here. The snapshots are written beside the scenario."));
    explain->setWordWrap(true);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_recordButton = buttons->addButton(tr("Record"), QDialogButtonBox::AcceptRole);
    m_recordButton->setEnabled(static_cast<bool>(m_record));
    connect(m_recordButton, &QPushButton::clicked, this, [this] { startRecording(); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    disconnect(buttons, &QDialogButtonBox::accepted, this, nullptr);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(explain);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(640, sizeHint().height());
}

RecordDialog::~RecordDialog()
{
    // The recorder waits for the program: the dialog cannot go before it has.
    if (m_worker) {
        m_worker->wait();
        delete m_worker;
    }
}

void RecordDialog::setCommandLine(const QString& line)
{
    m_command->setText(line);
}

void RecordDialog::setWorkingDirectory(const QString& dir)
{
    m_directory->setText(dir);
}

void RecordDialog::setOutputPath(const QString& path)
{
    m_output->setText(path);
}

QString RecordDialog::errorText() const
{
    return m_error->text();
}

void RecordDialog::setBusy(bool busy)
{
    m_recordButton->setEnabled(!busy && static_cast<bool>(m_record));
    m_command->setEnabled(!busy);
    m_directory->setEnabled(!busy);
    m_output->setEnabled(!busy);
    if (busy)
        m_error->setText(tr("Recording… (the dialog closes when the program has exited)"));
}

bool RecordDialog::startRecording()
{
    if (m_worker || !m_record)
        return false;
    RecordRequest request;
    if (!splitCommandLine(m_command->text(), &request.argv)) {
        m_error->setText(tr("A quote is not closed in the command line."));
        return false;
    }
    if (request.argv.isEmpty()) {
        m_error->setText(tr("Type the program to record and its arguments."));
        return false;
    }
    request.workingDirectory = m_directory->text().trimmed();
    if (!request.workingDirectory.isEmpty() && !QFileInfo(request.workingDirectory).isDir()) {
        m_error->setText(tr("%1 is not a directory.").arg(request.workingDirectory));
        return false;
    }
    request.scenarioPath = m_output->text().trimmed();
    if (request.scenarioPath.isEmpty())
        request.scenarioPath = defaultOutputPath(request.argv.front());
    if (!request.scenarioPath.endsWith(QLatin1String(".vlab")))
        request.scenarioPath += QStringLiteral(".vlab");
    if (!QDir().mkpath(QFileInfo(request.scenarioPath).absolutePath())) {
        m_error->setText(tr("Cannot create the directory of %1.").arg(request.scenarioPath));
        return false;
    }
    setBusy(true);
    RecordFunction record = m_record;
    m_worker = QThread::create([this, record, request] {
        // Shared, not moved into the lambda: GCC 12 misreads a moved variant as uninitialised.
        auto result = std::make_shared<Result<QString>>(record(request));
        QMetaObject::invokeMethod(this, [this, result] { finished(std::move(*result)); }, Qt::QueuedConnection);
    });
    m_worker->start();
    return true;
}

void RecordDialog::finished(Result<QString> result)
{
    if (m_worker) {
        m_worker->wait();
        delete m_worker;
        m_worker = nullptr;
    }
    setBusy(false);
    if (!result) {
        m_error->setText(diagnosticsText(result.error()));
        return;
    }
    m_error->clear();
    m_recordedPath = *result;
    Q_EMIT recorded(m_recordedPath);
    accept();
}

} // namespace vmalab::ui
