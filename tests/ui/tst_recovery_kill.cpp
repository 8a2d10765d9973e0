// The GUI never loses an edit: a GUI process makes an unsaved edit, is killed with SIGKILL
// (no destructor, no close event, no chance to save), and the next start offers the edit back.
// The killed process is this test binary run with --gui-child: a real MainWindow in its own
// process, edited through key events as a user would.
#include "ui/main_window.h"
#include "ui/recovery_store.h"
#include "ui/scenario_editor.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace vmalab::ui;

namespace {

const QString kTyped = QStringLiteral("b = mmap(NULL, 2 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)");

// The child: open the scenario, type a line, report "edited" once the keys are in, then wait
// to be killed. It never saves and never returns normally.
int guiChild(const QString& recoveryDir, const QString& scenario)
{
    MainWindow w(recoveryDir);
    w.setProfile(QStringLiteral("v6.18"));
    if (!w.openFile(scenario))
        return 3;
    w.show();
    w.editor()->moveCursor(QTextCursor::End);
    QTest::keyClicks(w.editor(), kTyped);
    QTest::keyClick(w.editor(), Qt::Key_Return);
    std::printf("edited\n");
    std::fflush(stdout);
    for (;;)
        QTest::qWait(100); // keep the event loop (and any timers) running until SIGKILL
}

} // namespace

class TestRecoveryKill : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void editSurvivesSigkill()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString scenario = dir.filePath(QStringLiteral("s.vlab"));
        const QByteArray original = "a = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n";
        {
            QFile f(scenario);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(original);
        }
        const QString recovery = dir.filePath(QStringLiteral("recovery"));

        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QCoreApplication::applicationFilePath(),
            { QStringLiteral("--gui-child"), recovery, scenario, QStringLiteral("-platform"),
                QStringLiteral("offscreen") });
        QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));
        QElapsedTimer t;
        t.start();
        QByteArray out;
        while (!out.contains("edited") && t.elapsed() < 30000 && child.state() == QProcess::Running) {
            child.waitForReadyRead(200);
            out += child.readAllStandardOutput();
        }
        QVERIFY2(out.contains("edited"), out.constData());
        QCOMPARE(::kill(static_cast<pid_t>(child.processId()), SIGKILL), 0);
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);

        // The file on disk is untouched: the edit was never saved.
        {
            QFile f(scenario);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(f.readAll(), original);
        }
        // The next start finds the edit and restores it, marked as unsaved.
        MainWindow w(recovery);
        w.setProfile(QStringLiteral("v6.18"));
        QVERIFY(w.recoveryStore()->pending());
        QVERIFY(w.offerRecovery(false));
        const QString text = w.editor()->toPlainText();
        QVERIFY2(text.startsWith(QString::fromUtf8(original)), qPrintable(text));
        QVERIFY2(text.endsWith(kTyped + QLatin1Char('\n')), qPrintable(text));
        QVERIFY(w.editor()->document()->isModified());
        QCOMPARE(w.recoveryStore()->pending()->sourcePath, QFileInfo(scenario).absoluteFilePath());
        w.editor()->document()->setModified(false); // dropped without a save prompt
    }
};

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    if (argc >= 4 && !std::strcmp(argv[1], "--gui-child"))
        return guiChild(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]));
    TestRecoveryKill test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_recovery_kill.moc"
