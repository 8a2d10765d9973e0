// vmalab: the GUI. Parses the command line, builds the main window, and for
// --screenshot renders it to a PNG and exits (used by tests and the docs).
#include "ui/address_space_view.h"
#include "ui/main_window.h"
#include "ui/scenario_session.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QImage>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("vmalab"));
    QApplication::setOrganizationName(QStringLiteral("vmalab"));
    QApplication::setApplicationVersion(QStringLiteral("0.1"));
    QApplication::setStyle(QStringLiteral("Fusion"));

    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Step through a Linux process's address space, one kernel decision at a time."));
    cli.addHelpOption();
    cli.addVersionOption();
    cli.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("Scenario to open (default: the first lesson)."),
        QStringLiteral("[FILE]"));
    const QCommandLineOption profile(QStringLiteral("profile"),
        QStringLiteral("Kernel profile: host, v6.18, maybe-guard, maybe-guard-fixed."), QStringLiteral("P"));
    const QCommandLineOption step(QStringLiteral("step"),
        QStringLiteral("Show the state after operation N (0: before the first)."), QStringLiteral("N"));
    const QCommandLineOption shot(QStringLiteral("screenshot"),
        QStringLiteral("Render the window to OUT.png and exit."), QStringLiteral("OUT.png"));
    const QCommandLineOption size(QStringLiteral("size"),
        QStringLiteral("Window size for --screenshot (default 1600x1000)."), QStringLiteral("WxH"));
    const QCommandLineOption select(
        QStringLiteral("address"), QStringLiteral("Select the VMA at this address."), QStringLiteral("ADDR"));
    const QCommandLineOption fit(
        QStringLiteral("fit"), QStringLiteral("Map zoom: scenario (default) or all."), QStringLiteral("WHAT"));
    const QCommandLineOption pane(QStringLiteral("pane"),
        QStringLiteral("Bring panes to the front (comma-separated: tree, vmas, chart...)."), QStringLiteral("NAMES"));
    cli.addOptions({ profile, step, shot, size, select, fit, pane });
    cli.process(app);

    const bool screenshot = cli.isSet(shot);
    vmalab::ui::MainWindow window;
    if (cli.isSet(profile))
        window.setProfile(cli.value(profile));
    const QStringList files = cli.positionalArguments();
    bool recovered = false;
    if (!screenshot && files.isEmpty())
        recovered = window.offerRecovery(true);
    if (!recovered) {
        if (files.isEmpty())
            window.openDefaultLesson();
        else if (!window.openFile(files.first()))
            return 2;
    }
    if (cli.isSet(step)) {
        bool ok = false;
        const int n = cli.value(step).toInt(&ok);
        if (!ok || !window.jumpToOperation(n)) {
            std::fprintf(stderr, "vmalab: --step %s: the run has %d operations\n", qPrintable(cli.value(step)),
                window.session()->opCount());
            return 2;
        }
    }
    if (screenshot) {
        int w = 1600, h = 1000;
        if (cli.isSet(size)) {
            const QStringList parts = cli.value(size).split(QLatin1Char('x'));
            if (parts.size() == 2) {
                w = parts[0].toInt();
                h = parts[1].toInt();
            }
        }
        window.resize(w, h);
    }
    window.show();
    for (const QString& name : cli.value(pane).split(QLatin1Char(','), Qt::SkipEmptyParts))
        window.raisePane(name.trimmed());
    if (cli.value(fit) == QLatin1String("all"))
        window.mapView()->fitAll();
    if (cli.isSet(select)) {
        vmalab::Addr a = 0;
        if (vmalab::ui::parseAddress(cli.value(select), &a))
            window.mapView()->lookupAddress(a);
    }
    if (!screenshot)
        return QApplication::exec();

    // Let layouts and docks settle before grabbing.
    for (int i = 0; i < 5; ++i)
        QApplication::processEvents();
    const QPixmap pixmap = window.grab();
    const QString out = cli.value(shot);
    if (pixmap.isNull() || !pixmap.save(out, "PNG")) {
        std::fprintf(stderr, "vmalab: cannot write %s\n", qPrintable(out));
        return 1;
    }
    std::printf("%s: %dx%d\n", qPrintable(QFileInfo(out).absoluteFilePath()), pixmap.width(), pixmap.height());
    return 0;
}
