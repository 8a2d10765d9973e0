#pragma once

#include "core/engine/world.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"
#include "ui/scenario_session.h"

#include <QStringList>
#include <QWidget>

class QPainter;

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
    };
    PaintStats lastPaintStats() const { return m_stats; }

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
        QString name;
        QString perms;
        QStringList mnemonics;
        bool match = true;
        int change = 0; // 0, 1 created, 2 changed
    };
    void rebuildScene();
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
};

} // namespace vmalab::ui
