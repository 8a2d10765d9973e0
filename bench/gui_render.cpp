// vmalab_bench_gui_render: how fast the address-space map draws (issue 7), reported, not a
// CI gate. Renders the map into a 1920x1080 QImage with 60,000 VMAs at full zoom-out and
// at a zoom showing about 1,000 VMAs, one step forward and back (a split, then the state
// before it) at that size, each the median of 20; and the start-up to the first frame of
// the main window with the first lesson. Targets: 8 ms per render, 0.5 s to the first frame.
//
//   QT_QPA_PLATFORM=offscreen build/bench/vmalab_bench_gui_render
#include "tests/ui/many_small_vmas.h"
#include "core/vm_flags.h"
#include "ui/address_space_view.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QPainter>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace vmalab;
using namespace vmalab::ui;

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

template <typename F>
double median20(F&& f)
{
    std::vector<double> t;
    for (int i = 0; i < 20; ++i) {
        const auto start = Clock::now();
        f();
        t.push_back(ms(Clock::now() - start));
    }
    std::sort(t.begin(), t.end());
    return (t[9] + t[10]) / 2;
}


} // namespace

int main(int argc, char** argv)
{
    const auto processStart = Clock::now();
    QApplication app(argc, argv);
    QApplication::setStyle(QStringLiteral("Fusion"));

    // Start-up to the first frame: the window with the first lesson run and drawn once.
    double startupMs = 0;
    {
        QTemporaryDir dir;
        const auto t0 = Clock::now();
        MainWindow window(dir.path());
        window.openDefaultLesson();
        window.resize(1600, 1000);
        window.show();
        QApplication::processEvents();
        const QImage first = window.grab().toImage();
        startupMs = ms(Clock::now() - t0);
        std::printf("start-up to first frame: %.1f ms (%.1f ms since main(); target 500 ms)%s\n", startupMs,
            ms(Clock::now() - processStart), first.isNull() ? " [no frame!]" : "");
    }

    const int count = 60000;
    const World world = vmalab::ui::test::manySmallVmas(count, [](int i) { return i % 10 == 0; });
    AddressSpaceView view;
    view.resize(1920, 1080);
    QImage image(1920, 1080, QImage::Format_ARGB32_Premultiplied);
    const QStringList names { QStringLiteral("main") };
    auto t0 = Clock::now();
    view.setWorld(world, names, {});
    std::printf("setWorld with %d VMAs: %.1f ms\n", count, ms(Clock::now() - t0));
    auto render = [&] {
        QPainter p(&image);
        view.render(&p);
    };

    view.fitAll();
    const double whole = median20(render);
    std::printf("render 1920x1080, %d VMAs, full zoom-out: median %.2f ms (%d bars drawn)\n", count, whole,
        view.lastPaintStats().bars);

    // About 1,000 VMAs on screen: the range from VMA 30,000 to 31,000.
    std::vector<const Vma*> vmas;
    for (const auto& e : world.procs[0].vmas)
        vmas.push_back(&e.second);
    view.fitRange(vmas[30000]->vm_start, vmas[31000]->vm_end);
    const double zoomed = median20(render);
    std::printf("render 1920x1080, zoom showing ~1000 VMAs: median %.2f ms (%d bars drawn, %d labels)\n", zoomed,
        view.lastPaintStats().bars, view.lastPaintStats().labels);

    // One step forward (VMA 30,500 split in two, as mprotect would) and back, at that zoom.
    World split = world;
    {
        Mm& mm = split.procs[0];
        Vma v = *vmas[30500];
        if (v.pages() < 2)
            v = *vmas[30501];
        Vma upper = v;
        upper.id = split.newVmaId();
        upper.vm_start = v.vm_start + pageSize;
        upper.vm_flags |= VM_WRITE;
        mm.erase(v.vm_start);
        v.vm_end = upper.vm_start;
        mm.insert(v);
        mm.insert(upper);
    }
    PositionChanges forward;
    forward.created.insert(split.nextVmaId - 1);
    bool ahead = false;
    const double step = median20([&] {
        ahead = !ahead;
        view.setWorld(ahead ? split : world, names, ahead ? forward : PositionChanges {});
        render();
    });
    std::printf("one step forward/back at that zoom (setWorld + render): median %.2f ms\n", step);
    const double stepWorld = median20([&] {
        ahead = !ahead;
        view.setWorld(ahead ? split : world, names, ahead ? forward : PositionChanges {});
    });
    std::printf("  of which setWorld alone: median %.2f ms\n", stepWorld);
    std::vector<double> renderAfter;
    for (int i = 0; i < 20; ++i) {
        ahead = !ahead;
        view.setWorld(ahead ? split : world, names, ahead ? forward : PositionChanges {});
        const auto start = Clock::now();
        render();
        renderAfter.push_back(ms(Clock::now() - start));
    }
    std::sort(renderAfter.begin(), renderAfter.end());
    std::printf("  and the render after it: median %.2f ms\n", (renderAfter[9] + renderAfter[10]) / 2);
    std::printf("targets: render <= 8 ms, step <= 8 ms, start-up <= 500 ms\n");
    return 0;
}
