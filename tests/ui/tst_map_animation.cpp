// Step animation of the address-space map: stepping starts an animation between the old and
// the new layout, and its last frame is the new step's static layout. Progress is set by
// hand (setAnimationProgress), never by waiting.
#include "ui/address_space_view.h"
#include "ui/scenario_session.h"
#include "ui/world_diff.h"
#include "ui_test_util.h"

#include <QTest>

#include <map>

using namespace vmalab;
using namespace vmalab::ui;

class TestMapAnimation : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void stepAnimatesToTheStaticLayout()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        AddressSpaceView view;
        view.resize(1200, 500);
        view.setAnimationDuration(250);
        s.jumpTo(1); // eight pages mapped
        view.setWorld(s.world(), s.processNames(), s.changes());
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const auto& [a0, a1] = scenarioFocusRange(*s.history());
        view.fitRange(a0, a1);
        view.repaint();
        std::map<VmaId, QRectF> oldRects;
        for (const auto& b : view.lastDrawnBars())
            oldRects[b.id] = b.rect;

        s.jumpTo(3); // the mprotect split
        const World before = s.worldBefore();
        view.setWorld(s.world(), s.processNames(), s.changes());
        QVERIFY(view.isAnimating());
        QVERIFY(!diffSteps(before, s.world()).empty());

        // The first frame is the old layout: a VMA that lived on starts where it was.
        int kept = 0;
        for (const auto& b : view.animationFrame(0.0)) {
            const auto it = oldRects.find(b.id);
            if (it == oldRects.end() || b.opacity < 1)
                continue;
            QCOMPARE(b.rect, it->second);
            ++kept;
        }
        QVERIFY(kept > 0);
        // Something appears (the split's new piece) and fades in.
        bool fading = false;
        for (const auto& b : view.animationFrame(0.5))
            fading = fading || (b.opacity > 0 && b.opacity < 1);
        QVERIFY(fading);
        QVERIFY(!view.animationFlashes(0.0).empty() || fading);

        // The last frame equals the static layout of the new step.
        const auto last = view.animationFrame(1.0);
        view.setAnimationProgress(1.0);
        QVERIFY(!view.isAnimating());
        view.repaint();
        std::map<VmaId, QRectF> now;
        for (const auto& b : view.lastDrawnBars())
            now[b.id] = b.rect;
        QVERIFY(!now.empty());
        int compared = 0;
        for (const auto& b : last) {
            const auto it = now.find(b.id);
            if (it == now.end()) {
                QVERIFY(b.opacity == 0 || !b.rect.intersects(QRectF(0, 0, view.width(), view.height())));
                continue;
            }
            QCOMPARE(b.opacity, 1.0);
            QCOMPARE(b.rect, it->second);
            ++compared;
        }
        QCOMPARE(compared, static_cast<int>(now.size()));
    }

    void offByDefaultAndWhenHidden()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s));
        AddressSpaceView view; // the benchmarks' path: never animates
        view.resize(800, 400);
        s.jumpTo(1);
        view.setWorld(s.world(), s.processNames(), s.changes());
        s.jumpTo(3);
        view.setWorld(s.world(), s.processNames(), s.changes());
        QVERIFY(!view.isAnimating());
        view.setAnimationDuration(250);
        s.jumpTo(4);
        view.setWorld(s.world(), s.processNames(), s.changes()); // not shown: nothing to see
        QVERIFY(!view.isAnimating());
    }
};

QTEST_MAIN(TestMapAnimation)
#include "tst_map_animation.moc"
