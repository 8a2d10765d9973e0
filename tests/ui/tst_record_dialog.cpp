// File → Record program (issue 9, "The GUI"): the command line is split as a shell would,
// the fields are checked, the recorder runs on a worker thread, its errors stay in the
// dialog, and a recording opens in the main window stepped.
#include "ui/main_window.h"
#include "ui/record_dialog.h"
#include "ui/scenario_session.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>

using namespace vmalab;
using namespace vmalab::ui;

class TestRecordDialog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void splitsLikeAShell()
    {
        QStringList w;
        QVERIFY(splitCommandLine(QStringLiteral("python3 -c 'import json'"), &w));
        QCOMPARE(w, (QStringList { "python3", "-c", "import json" }));
        QVERIFY(splitCommandLine(QStringLiteral("  ls   -l  / "), &w));
        QCOMPARE(w, (QStringList { "ls", "-l", "/" }));
        QVERIFY(splitCommandLine(QStringLiteral("echo \"a \\\"quoted\\\" word\" a\\ b ''"), &w));
        QCOMPARE(w, (QStringList { "echo", "a \"quoted\" word", "a b", "" }));
        QVERIFY(!splitCommandLine(QStringLiteral("echo 'open"), &w));
    }

    void badFieldsAreSaidAndNothingRuns()
    {
        std::atomic<int> calls { 0 };
        RecordDialog d([&calls](const RecordRequest&) -> Result<QString> {
            ++calls;
            return QString();
        });
        d.setCommandLine(QStringLiteral("   "));
        QVERIFY(!d.startRecording());
        QVERIFY(d.errorText().contains(QStringLiteral("program")));
        d.setCommandLine(QStringLiteral("ls 'x"));
        QVERIFY(!d.startRecording());
        QVERIFY(d.errorText().contains(QStringLiteral("quote")));
        d.setCommandLine(QStringLiteral("ls"));
        d.setWorkingDirectory(QStringLiteral("/no/such/dir"));
        QVERIFY(!d.startRecording());
        QVERIFY(d.errorText().contains(QStringLiteral("/no/such/dir")));
        QCOMPARE(calls.load(), 0);
    }

    void recorderErrorsStayInTheDialog()
    {
        QTemporaryDir dir;
        RecordDialog d([](const RecordRequest& r) -> Result<QString> {
            return Diagnostics { Diagnostic { {}, 0, 0, r.argv.front().toStdString() + ": No such file or directory" } };
        });
        d.setCommandLine(QStringLiteral("no-such-program --flag"));
        d.setOutputPath(dir.filePath(QStringLiteral("out")));
        QVERIFY(d.startRecording());
        QTRY_VERIFY(!d.recording());
        QVERIFY2(d.errorText().contains(QStringLiteral("no-such-program: No such file")), qPrintable(d.errorText()));
        QCOMPARE(d.result(), 0); // still open, nothing accepted
        QVERIFY(d.recordedPath().isEmpty());
    }

    void recordingOpensInTheMainWindow()
    {
        QTemporaryDir dir;
        RecordRequest seen;
        const QString scenario = QStringLiteral("mmap(0x7f0000000000, 8192, PROT_READ|PROT_WRITE, "
                                                "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)\n"
                                                "mprotect(0x7f0000000000, 4096, PROT_READ)\n");
        MainWindow w;
        w.setRecordFunction([&seen, scenario](const RecordRequest& r) -> Result<QString> {
            seen = r;
            QFile f(r.scenarioPath);
            if (!f.open(QIODevice::WriteOnly))
                return Diagnostics { Diagnostic { {}, 0, 0, "cannot write" } };
            f.write(scenario.toUtf8());
            return r.scenarioPath;
        });
        RecordDialog* d = w.showRecordDialog();
        d->setCommandLine(QStringLiteral("./prog \"two words\""));
        d->setWorkingDirectory(dir.path());
        d->setOutputPath(dir.filePath(QStringLiteral("prog")));
        QVERIFY(d->startRecording());
        QTRY_COMPARE(w.session()->opCount(), 2);
        QCOMPARE(seen.argv, (QStringList { "./prog", "two words" }));
        QCOMPARE(seen.workingDirectory, dir.path());
        QCOMPARE(seen.scenarioPath, dir.filePath(QStringLiteral("prog.vlab"))); // .vlab added
    }
};

QTEST_MAIN(TestRecordDialog)
#include "tst_record_dialog.moc"
