#pragma once

#include "core/engine/world.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"
#include "ui/page_tables.h"
#include "ui/scenario_session.h"
#include "ui/world_diff.h"

#include <QColor>
#include <QElapsedTimer>
#include <QImage>
#include <QRectF>
#include <QStringList>
#include <QWidget>

class QPainter;
class QTimer;

#include <vector>

namespace vmalab::ui {

// Whether a VMA matches the map's filter text: every space-separated word must match the
// name (substring, any case), the perms ("rw-p", or a prefix like "r-x"), a smaps mnemonic
// ("ac", "gu") or a VM_* flag name ("VM_LOCKED", or "locked"). Empty matches everything.
bool vmaMatchesFilter(
    const QString& filter, const QString& name, const QString& perms, const QStringList& mnemonics, VmFlags flags);

// The address-space map: one row per process, every VMA a bar coloured by kind, gaps
// explicit with their size, a page strip under the bars, level-of-detail labels; wheel
// zooms around the pointer, dragging pans, a click selects. Layout maths: map_layout.h.
class AddressSpaceView : public QWidget
{
    Q_OBJECT
public:
    explicit AddressSpaceView(QWidget* parent = nullptr);

    void setWorld(const World& world, const QStringList& processNames, const PositionChanges& changes);
    // The range the scenario works in; "fit scenario" zooms to it.
    void setFocusRange(Addr start, Addr end);
    void setFilter(const QString& filter);
    // Marks the address the current operation is about (a touch, an mprotect start) with a
    // pointer above the row; proc -1 clears it.
    void setMarker(int proc, Addr addr);
    void setSelection(int proc, VmaId id, bool centre = false);
    // Extra address ranges the axis must hold (the other side of a comparison), so that two
    // maps share one axis and one viewport means the same addresses in both.
    void setAxisExtraRanges(std::vector<std::pair<Addr, Addr>> ranges);
    // Differences to mark (compareWorlds()): a hatched band under the page strip and a
    // "≠" badge; empty clears.
    void setDifferences(std::vector<WorldDifference> differences);
    // Shows the viewport of another map (synchronised zoom and pan); emits nothing.
    void setViewport(const Viewport& view);
    // Zooms so [start, end) fills the width.
    void fitRange(Addr start, Addr end) { fitAddrRange(start, end); }
    const std::vector<CowLink>& forkLinks() const { return m_links; }
    // Per process: the process it was forked from (-1 none), for the rows' fork badges; when
    // not given, found through anon_vma parent links (forkParentOf()).
    void setForkParents(std::vector<int> parents);
    int selectedProc() const { return m_selProc; }
    VmaId selectedId() const { return m_selId; }
    // Selects what is at `addr` (in the selected process, else the first that maps it) and
    // zooms to it and its neighbours; returns a sentence for the status bar.
    QString lookupAddress(Addr addr);

    const MapAxis& axis() const { return m_axis; }
    const Viewport& viewport() const { return m_view; }
    int matchCount() const { return m_matches; }
    // Rendering statistics of the last paint, for tests: bars drawn, labels drawn, page
    // cells (or runs) drawn, gap labels drawn.
    struct PaintStats
    {
        int bars = 0;
        int labels = 0;
        int pageRuns = 0;
        int gapLabels = 0;
        int guardRuns = 0;
        int forkLinks = 0; // COW-shared runs joined between rows
        int forkBadges = 0; // rows marked as a fork child
        int differences = 0; // difference bands drawn
    };
    PaintStats lastPaintStats() const { return m_stats; }
    // The same per process row (index = process).
    const std::vector<PaintStats>& lastRowStats() const { return m_rowStats; }
    // Every bar the last paint drew one by one (wide enough for its own outline; narrower
    // ones go into the per-column summary), with the label it wrote: what tests check of the
    // drawing's structure without looking at pixels.
    struct DrawnBar
    {
        int proc = 0;
        VmaId id = 0;
        QRectF rect;
        bool selected = false;
        int change = 0; // 1 created by the current step, 2 changed
        QString label; // lines joined by '\n'; empty when the bar had no room
    };
    const std::vector<DrawnBar>& lastDrawnBars() const { return m_drawn; }
    QRectF barRect(int proc, Addr start, Addr end) const;

    // Step animation: when the world changes while the map is visible, bars move from their
    // old geometry to the new (a split shrinks one and fades the other in, a merge grows the
    // survivor while the absorbed VMA fades out), colours blend (a flag change) and page
    // cells whose state changed flash. 0 ms (the default) switches it off; exports and
    // benchmarks leave it off, the main window turns it on. Worlds of more than
    // maxAnimatedVmas VMAs are not animated.
    static constexpr std::size_t maxAnimatedVmas = 4000;
    void setAnimationDuration(int ms);
    int animationDuration() const { return m_animMs; }
    bool isAnimating() const { return m_anim.active; }
    // Holds the animation at t in [0, 1] (tests step it without timing); t >= 1 ends it.
    void setAnimationProgress(double t);
    void finishAnimation();
    struct AnimatedBar
    {
        int proc = 0;
        VmaId id = 0;
        QRectF rect;
        QColor fill;
        double opacity = 1; // fading in (appeared) or out (disappeared)
        bool flash = false; // its flags changed: outlined while it plays
    };
    struct AnimatedFlash
    {
        int proc = 0;
        QRectF rect; // page cells in the new layout
        double strength = 0; // 1 at the start, 0 at the end
    };
    // The frame at progress t (0 old layout, 1 the new step's static layout); empty when no
    // animation is set up.
    std::vector<AnimatedBar> animationFrame(double t) const;
    std::vector<AnimatedFlash> animationFlashes(double t) const;

    QSize sizeHint() const override { return { 900, 420 }; }
    QSize minimumSizeHint() const override { return { 300, 200 }; }

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void fitAll();
    void fitScenario();

Q_SIGNALS:
    void vmaSelected(int proc, vmalab::VmaId id);
    void hovered(const QString& text);
    // The user zoomed or panned (not emitted by setViewport()).
    void viewportChanged(const vmalab::ui::Viewport& view);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct DrawVma
    {
        Vma vma;
        VmaKind kind = VmaKind::Anonymous;
        // Text made on first use (labels, filter, tooltips): 60,000 VMAs need none of it
        // at full zoom-out.
        mutable bool textReady = false;
        mutable QString name;
        mutable QString perms;
        mutable QStringList mnemonics;
        bool match = true;
    };
    void rebuildScene();
    // A step usually changes a few VMAs of one process: patches the scene in place and
    // keeps the axis when the mapped ranges' union is unchanged. False: rebuild it all.
    bool patchScene(const World& old, const PositionChanges& oldChanges);
    int changeOf(VmaId id) const;
    DrawVma makeDraw(const Mm& mm, const Vma& v) const;
    // What the map paints, summarised per pixel column once per (world, filter, viewport):
    // bars narrower than wideBarPx are drawn as columns (the dominant kind, the dominant
    // page state, guard and uffd-wp marks), wider ones one by one with their labels.
    struct Column
    {
        std::uint8_t kind = 255; // VmaKind of the VMA covering most of it; 255: no VMA
        std::uint8_t page = 0; // PageKind covering most of the column's pages
        bool noAccess = false;
        bool faded = false; // every VMA in it fails the filter
        bool guard = false; // any guard marker: it must never vanish at a zoom
        bool uffdWp = false;
        bool edge = false; // a VMA boundary falls in it
    };
    struct RowCache
    {
        std::vector<Column> columns;
        std::vector<std::size_t> wide; // indices into m_draw[row]
        std::vector<std::pair<Addr, Addr>> gaps; // visible gaps wider than a pixel
        QImage bars; // one pixel per column: frame, fill (or a VMA boundary), frame
        QImage strip; // one pixel per column: the page state's colour
        int narrow = 0; // VMAs summarised into the columns
        int pageRuns = 0;
        int guardRuns = 0;
    };
    void ensureCache();
    void buildRowCache(int row, RowCache& cache) const;
    void paintColumns(QPainter& p, RowCache& cache, const RowGeometry& g);
    const DrawVma& withText(const DrawVma& d, int proc) const;
    void applyFilter();
    double rowsTop() const { return 34.0; }
    double rowHeight() const;
    double legendHeight() const { return 50.0; }
    void fitAddrRange(Addr start, Addr end);
    const DrawVma* findDraw(int proc, VmaId id) const;
    QString describe(const MapHit& hit) const;

    void paintRuler(QPainter& p);
    void paintRow(QPainter& p, int row);
    void paintGaps(QPainter& p, int row, const RowGeometry& g);
    void paintBar(QPainter& p, const DrawVma& d, const RowGeometry& g, bool selected);
    void paintPages(QPainter& p, int row, const DrawVma& d, const RowGeometry& g);
    void paintRemoved(QPainter& p, int row, const RowGeometry& g);
    void paintLegend(QPainter& p);
    void paintForkLinks(QPainter& p);
    void paintDifferences(QPainter& p, int row, const RowGeometry& g);
    void viewChanged() { Q_EMIT viewportChanged(m_view); }
    void startAnimation(const World& old, const MapAxis& oldAxis, const Viewport& oldView, double oldRowHeight);
    void paintAnimation(QPainter& p);
    void paintRowHeader(QPainter& p, int row, const RowGeometry& g);

    World m_world;
    QStringList m_processNames;
    PositionChanges m_changes;
    MapAxis m_axis;
    Viewport m_view;
    bool m_viewSet = false;
    std::vector<std::vector<SceneVma>> m_rows;
    std::vector<std::vector<DrawVma>> m_draw;
    Addr m_focusStart = 0;
    Addr m_focusEnd = 0;
    QString m_filter;
    int m_markerProc = -1;
    Addr m_markerAddr = 0;
    int m_matches = 0;
    int m_selProc = -1;
    VmaId m_selId = 0;
    QPointF m_pressPos;
    double m_pressU0 = 0;
    bool m_dragging = false;
    PaintStats m_stats;
    int m_drawRow = 0; // the row paintBar() draws in
    std::vector<std::pair<Addr, Addr>> m_extraRanges;
    std::vector<WorldDifference> m_differences;
    std::vector<CowLink> m_links;
    std::vector<int> m_forkParent; // per row: the row it was forked from, or -1
    std::vector<int> m_givenForkParents;
    std::vector<std::uint64_t> m_rss; // resident pages per row
    std::uint64_t m_generation = 1; // bumped whenever what the map shows changes
    std::uint64_t m_cacheGeneration = 0;
    Viewport m_cacheView;
    int m_cacheWidth = -1;
    std::vector<RowCache> m_cache;
    std::vector<PaintStats> m_rowStats;
    std::vector<DrawnBar> m_drawn;

    struct AnimItem
    {
        int proc = 0;
        VmaId id = 0;
        bool before = false, after = false; // present in the old / new world
        Addr oldStart = 0, oldEnd = 0, start = 0, end = 0;
        QColor oldFill, fill;
        bool flash = false;
    };
    struct Animation
    {
        bool active = false;
        bool held = false; // setAnimationProgress() drives it, not the clock
        double t = 0;
        MapAxis oldAxis;
        Viewport oldView;
        double oldRowHeight = 0;
        std::vector<AnimItem> items;
        std::vector<StepChange> pages;
    };
    int m_animMs = 0;
    Animation m_anim;
    QTimer* m_animTimer = nullptr;
    QElapsedTimer m_animClock;
};

} // namespace vmalab::ui
