#pragma once

#include "core/engine/world.h"
#include "ui/maple_layout.h"

#include <QStringList>
#include <QWidget>

class QPainter;

namespace vmalab::ui {

// One process's VMAs as a maple tree (maple_layout.h: the layout follows a documented rule,
// not the kernel's actual node boundaries, and the view says so). Leaves list their slots,
// internal nodes their pivots and largest gaps; the selected VMA's leaf slot and its path
// from the root are highlighted, and clicking a slot selects that VMA everywhere.
class MapleTreeView : public QWidget
{
    Q_OBJECT
public:
    explicit MapleTreeView(QWidget* parent = nullptr);

    void setWorld(const World& world, const QStringList& processNames);
    void setSelection(int proc, VmaId id);
    const MapleLayout& layout() const { return m_layout; }
    int process() const { return m_proc; }
    VmaId selectedId() const { return m_selId; }
    // Whether the last paint drew the selected VMA's slot highlighted (for tests).
    bool selectionDrawn() const { return m_selectionDrawn; }
    QSize sizeHint() const override;

Q_SIGNALS:
    void vmaSelected(int proc, vmalab::VmaId id);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    void rebuild();
    void paintLeaf(QPainter& p, const MapleNode& n, const QRectF& r);
    void paintInternal(QPainter& p, const MapleNode& n, const QRectF& r, bool onPath);

    World m_world;
    QStringList m_processNames;
    int m_proc = 0;
    VmaId m_selId = 0;
    MapleLayout m_layout;
    MapleGeometry m_geometry;
    std::vector<QRectF> m_rects;
    std::vector<bool> m_onPath;
    bool m_selectionDrawn = false;
};

} // namespace vmalab::ui
