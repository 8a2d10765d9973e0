#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <map>

namespace {

// Runs vmalab offscreen with its settings and recovery files in `dir`; returns the exit code.
int runGui(const QTemporaryDir& dir, const QStringList& args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dir.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.path());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(VMALAB_GUI_BINARY), args);
    if (!p.waitForFinished(30000))
        return -1;
    return p.exitCode();
}

} // namespace

// Runs the real binary with --screenshot, as the docs do, and checks the picture.
class TestScreenshot : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rendersTheWindow()
    {
        QTemporaryDir dir;
        const QString out = dir.path() + QStringLiteral("/shot.png");
        QCOMPARE(
            runGui(dir,
                { QStringLiteral(VMALAB_SOURCE_DIR "/resources/scenarios/default.vlab"), QStringLiteral("--profile"),
                    QStringLiteral("v6.18"), QStringLiteral("--step"), QStringLiteral("5"), QStringLiteral("--size"),
                    QStringLiteral("1200x800"), QStringLiteral("--screenshot"), out }),
            0);
        QImage img(out);
        QVERIFY(!img.isNull());
        QCOMPARE(img.size(), QSize(1200, 800));
        // Not blank: many colours, none covering almost everything.
        std::map<QRgb, int> counts;
        for (int y = 0; y < img.height(); y += 4)
            for (int x = 0; x < img.width(); x += 4)
                ++counts[img.pixel(x, y)];
        QVERIFY2(counts.size() > 40, qPrintable(QString::number(counts.size())));
        int most = 0;
        for (const auto& c : counts)
            most = std::max(most, c.second);
        QVERIFY(most < (img.width() / 4) * (img.height() / 4) * 7 / 10);
    }

    void rejectsAStepBeyondTheRun()
    {
        QTemporaryDir dir;
        QCOMPARE(
            runGui(dir,
                { QStringLiteral(VMALAB_SOURCE_DIR "/resources/scenarios/default.vlab"), QStringLiteral("--profile"),
                    QStringLiteral("v6.18"), QStringLiteral("--step"), QStringLiteral("999"),
                    QStringLiteral("--screenshot"), dir.path() + QStringLiteral("/x.png") }),
            2);
        QVERIFY(!QFile::exists(dir.path() + QStringLiteral("/x.png")));
    }
};

QTEST_GUILESS_MAIN(TestScreenshot)
#include "tst_screenshot.moc"
