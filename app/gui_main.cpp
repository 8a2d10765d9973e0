// vmalab: the GUI. Parses the command line, builds the main window, and for
// --screenshot renders it to a PNG and exits (used by tests and the docs).
#include "app/cli_help.h"
#include "core/host/capture.h"
#include "core/host/record.h"
#include "ui/address_space_view.h"
#include "ui/compare_window.h"
#include "ui/main_window.h"
#include "ui/snapshot_timeline_window.h"
#include "ui/scenario_session.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QImage>
#include <QPixmap>
#include <QTimer>

#include <cstdio>
#include <cstring>

namespace {

// readHostInfo() runs the probe's experiments: once per session, not once per capture (a
// watch captures every second) or recording. Captures and recordings run on worker threads;
// a function-local static is initialised once, thread-safely.
const vmalab::snapshot::HostInfo& hostInfoOnce()
{
    static const vmalab::snapshot::HostInfo host = vmalab::host::readHostInfo();
    return host;
}

} // namespace

int main(int argc, char** argv)
{
    // Before QApplication, so --version needs no display; it lists the kernel profiles too,
    // which QCommandLineParser's own version option cannot.
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--version") || !std::strcmp(argv[i], "-v")) {
            std::fputs(vmalab::cli::versionText("vmalab").c_str(), stdout);
            return 0;
        }
    }
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
    const QCommandLineOption exportPng(
        QStringLiteral("export-png"), QStringLiteral("Write the map as a PNG and exit."), QStringLiteral("OUT.png"));
    const QCommandLineOption exportSvg(
        QStringLiteral("export-svg"), QStringLiteral("Write the map as an SVG and exit."), QStringLiteral("OUT.svg"));
    const QCommandLineOption exportGif(QStringLiteral("export-gif"),
        QStringLiteral("Write the map after every operation as an animated GIF and exit."), QStringLiteral("OUT.gif"));
    const QCommandLineOption exportSeries(QStringLiteral("export-series"),
        QStringLiteral("Write the map after every operation as DIR/NAME-000.png... and exit."), QStringLiteral("DIR"));
    const QCommandLineOption exportTrace(QStringLiteral("export-trace"),
        QStringLiteral("Write every operation's trace as Markdown and exit."), QStringLiteral("OUT.md"));
    const QCommandLineOption compare(QStringLiteral("compare"),
        QStringLiteral("Open View > Compare profiles with A,B (e.g. v6.18,maybe-guard); --screenshot then shows it."),
        QStringLiteral("A,B"));
    const QCommandLineOption theme(
        QStringLiteral("theme"), QStringLiteral("light or dark (default: as the system palette)."), QStringLiteral("T"));
    const QCommandLineOption snapshotOpt(QStringLiteral("snapshot"),
        QStringLiteral("Start the scenario from the process captured in FILE.vsnap (what if it ran there)."),
        QStringLiteral("FILE"));
    const QCommandLineOption timelineOpt(QStringLiteral("timeline"),
        QStringLiteral("Open File > Snapshot timeline on FILE.vsnap (a watch); --screenshot then shows it."),
        QStringLiteral("FILE"));
    cli.addOptions({ profile, step, shot, size, select, fit, pane, exportPng, exportSvg, exportGif, exportSeries,
        exportTrace, compare, theme, snapshotOpt, timelineOpt });
    cli.process(app);

    const bool exporting = cli.isSet(exportPng) || cli.isSet(exportSvg) || cli.isSet(exportGif)
        || cli.isSet(exportSeries) || cli.isSet(exportTrace);
    const bool screenshot = cli.isSet(shot) || exporting;
    vmalab::ui::MainWindow window;
    // The one place that reads another process's maps: the library only calls this.
    window.setCaptureFunction([](std::int64_t pid, bool freeze) {
        vmalab::host::CaptureOptions options;
        options.freeze = freeze;
        return vmalab::host::captureSnapshot(static_cast<pid_t>(pid), options, hostInfoOnce());
    });
    // The one place that traces a program: the record dialog runs this on a worker thread.
    window.setRecordFunction([](const vmalab::ui::RecordRequest& r) -> vmalab::Result<QString> {
        vmalab::host::RecordOptions options;
        options.workingDirectory = r.workingDirectory.toStdString();
        options.stem = QFileInfo(r.scenarioPath).completeBaseName().toStdString();
        std::vector<std::string> command;
        for (const QString& a : r.argv)
            command.push_back(a.toStdString());
        auto session = vmalab::host::recordCommand(command, hostInfoOnce(), options);
        if (!session)
            return session.error();
        auto files = vmalab::host::writeRecordingFiles(*session, r.scenarioPath.toStdString());
        if (!files)
            return files.error();
        return r.scenarioPath;
    });
    if (cli.isSet(profile))
        window.setProfile(cli.value(profile));
    if (cli.isSet(theme))
        window.setDarkTheme(cli.value(theme) == QLatin1String("dark"));
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
    if (cli.isSet(snapshotOpt)) {
        const QString error = window.openSnapshot(cli.value(snapshotOpt));
        if (!error.isEmpty()) {
            std::fprintf(stderr, "vmalab: --snapshot: %s\n", qPrintable(error));
            return 2;
        }
    }
    if (cli.isSet(step) && !cli.isSet(timelineOpt)) {
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
    vmalab::ui::CompareWindow* compareWindow = nullptr;
    if (cli.isSet(compare)) {
        const QStringList ab = cli.value(compare).split(QLatin1Char(','));
        compareWindow = window.openCompare(ab.value(0), ab.value(1));
        if (cli.isSet(size))
            compareWindow->resize(window.size());
        if (cli.isSet(step))
            compareWindow->jumpTo(cli.value(step).toInt() - 1);
    }
    vmalab::ui::SnapshotTimelineWindow* timelineWindow = nullptr;
    if (cli.isSet(timelineOpt)) {
        timelineWindow = window.showSnapshotTimeline();
        const QString error = timelineWindow->loadFile(cli.value(timelineOpt));
        if (!error.isEmpty()) {
            std::fprintf(stderr, "vmalab: --timeline: %s\n", qPrintable(error));
            return 2;
        }
        if (cli.isSet(size))
            timelineWindow->resize(window.size());
        if (cli.isSet(step))
            timelineWindow->selectEntry(cli.value(step).toInt());
    }
    if (!screenshot)
        return QApplication::exec();
    for (int i = 0; i < 5; ++i)
        QApplication::processEvents();
    if (exporting) {
        int status = 0;
        auto report = [&status](bool ok, const QString& what) {
            std::printf("%s: %s\n", qPrintable(what), ok ? "written" : "FAILED");
            status = ok ? status : 1;
        };
        if (cli.isSet(exportPng))
            report(window.exportMapPng(cli.value(exportPng)), cli.value(exportPng));
        if (cli.isSet(exportSvg))
            report(window.exportMapSvg(cli.value(exportSvg)), cli.value(exportSvg));
        if (cli.isSet(exportTrace))
            report(window.exportHistoryMarkdown(cli.value(exportTrace)), cli.value(exportTrace));
        if (cli.isSet(exportSeries))
            report(!window.exportPngSeries(cli.value(exportSeries)).isEmpty(), cli.value(exportSeries));
        if (cli.isSet(exportGif)) {
            QString err;
            const bool ok = window.exportGif(cli.value(exportGif), &err);
            if (!ok)
                std::fprintf(stderr, "vmalab: %s\n", qPrintable(err));
            report(ok, cli.value(exportGif));
        }
        if (!cli.isSet(shot))
            return status;
    }

    // Let layouts and docks settle before grabbing.
    for (int i = 0; i < 5; ++i)
        QApplication::processEvents();
    const QPixmap pixmap = timelineWindow ? timelineWindow->grab() : compareWindow ? compareWindow->grab() : window.grab();
    const QString out = cli.value(shot);
    if (pixmap.isNull() || !pixmap.save(out, "PNG")) {
        std::fprintf(stderr, "vmalab: cannot write %s\n", qPrintable(out));
        return 1;
    }
    std::printf("%s: %dx%d\n", qPrintable(QFileInfo(out).absoluteFilePath()), pixmap.width(), pixmap.height());
    return 0;
}
