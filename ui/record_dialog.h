#pragma once

#include "core/result.h"

#include <QDialog>
#include <QString>
#include <QStringList>

#include <functional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QThread;

namespace vmalab::ui {

// What to record and where the recording goes (docs/recording.md).
struct RecordRequest
{
    QStringList argv; // program and arguments
    QString workingDirectory; // "" = the GUI's own
    QString scenarioPath; // FILE.vlab; the snapshots are written beside it
};

// Records a program (host::recordCommand + writeRecordingFiles): filled in by the app, so
// that vmalab_ui never traces a process on its own; tests pass a fake. Returns the scenario
// path written, or why not. It runs on a worker thread.
using RecordFunction = std::function<Result<QString>(const RecordRequest&)>;

// Splits a command line as a shell would for words and quotes ('…', "…", backslash), without
// expansions; false when a quote is left open.
bool splitCommandLine(const QString& line, QStringList* words);

// File → Record program…: program and arguments (one line, quoted as in a shell), working
// directory and the output file, then Record. The program runs under the recorder on a worker
// thread while the dialog shows that it is running; errors (program not found, ptrace not
// permitted, a bad directory) show in the dialog, which stays open with what was typed.
class RecordDialog : public QDialog
{
    Q_OBJECT
public:
    RecordDialog(RecordFunction record, QWidget* parent = nullptr);
    ~RecordDialog() override;

    void setCommandLine(const QString& line);
    void setWorkingDirectory(const QString& dir);
    void setOutputPath(const QString& path);
    // Checks the fields and starts recording; false (and errorText()) when a field is wrong.
    bool startRecording();
    bool recording() const { return m_worker != nullptr; }
    QString errorText() const;
    // The scenario written by the last successful recording ("" before one).
    QString recordedPath() const { return m_recordedPath; }

    // A default output path for a program: the app's data directory, recordings/PROG-DATE.vlab.
    static QString defaultOutputPath(const QString& program);

Q_SIGNALS:
    void recorded(const QString& scenarioPath);

private:
    void finished(Result<QString> result);
    void setBusy(bool busy);

    RecordFunction m_record;
    QLineEdit* m_command = nullptr;
    QLineEdit* m_directory = nullptr;
    QLineEdit* m_output = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_recordButton = nullptr;
    QThread* m_worker = nullptr;
    QString m_recordedPath;
};

} // namespace vmalab::ui
