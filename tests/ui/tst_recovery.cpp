#include "ui/main_window.h"
#include "ui/recovery_store.h"
#include "ui/scenario_editor.h"
#include "ui/scenario_session.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace vmalab::ui;

class TestRecovery : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void storeRoundTrip()
    {
        QTemporaryDir dir;
        RecoveryStore store(dir.path() + QStringLiteral("/sub"));
        QVERIFY(!store.pending());
        QVERIFY(store.save(QStringLiteral("/x/y.vlab"), QStringLiteral("a = 1\n")));
        auto r = store.pending();
        QVERIFY(r);
        QCOMPARE(r->sourcePath, QStringLiteral("/x/y.vlab"));
        QCOMPARE(r->text, QStringLiteral("a = 1\n"));
        QVERIFY(store.save(QString(), QStringLiteral("b = 2\n")));
        QCOMPARE(store.pending()->text, QStringLiteral("b = 2\n"));
        QCOMPARE(store.pending()->sourcePath, QString());
        store.clear();
        QVERIFY(!store.pending());
    }

    // Every edit in the window is on disk at once, and a new window offers it back.
    void windowAutosavesAndRecovers()
    {
        QTemporaryDir dir;
        const QString scenario = dir.path() + QStringLiteral("/s.vlab");
        {
            QFile f(scenario);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("a = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)\n");
        }
        const QString recovery = dir.path() + QStringLiteral("/recovery");
        {
            MainWindow w(recovery);
            w.setProfile(QStringLiteral("v6.18"));
            QVERIFY(w.openFile(scenario));
            QVERIFY(!w.recoveryStore()->pending()); // opening is not an edit
            w.editor()->moveCursor(QTextCursor::End);
            QTest::keyClicks(w.editor(), QStringLiteral("expect munmap(a, page_size) == 0"));
            QTest::keyClick(w.editor(), Qt::Key_Return);
            auto r = w.recoveryStore()->pending();
            QVERIFY(r);
            QVERIFY(r->text.endsWith(QStringLiteral("expect munmap(a, page_size) == 0\n")));
            QCOMPARE(r->sourcePath, QFileInfo(scenario).absoluteFilePath());
            // The window is dropped without saving, as a crash would.
            w.editor()->document()->setModified(false);
        }
        MainWindow again(recovery);
        again.setProfile(QStringLiteral("v6.18"));
        QVERIFY(again.offerRecovery(false));
        QVERIFY(again.editor()->toPlainText().endsWith(QStringLiteral("expect munmap(a, page_size) == 0\n")));
        QVERIFY(again.editor()->document()->isModified());
        QCOMPARE(again.session()->opCount(), 2);
    }
};

QTEST_MAIN(TestRecovery)
#include "tst_recovery.moc"
