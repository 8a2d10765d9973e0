#pragma once

#include <QImage>
#include <QString>
#include <QStringList>

#include <vector>

class QWidget;

namespace vmalab {
class History;
}

namespace vmalab::ui {

// File → Export: pictures of a widget, picture series, the trace as Markdown.

// Renders `widget` as it is on screen into an SVG file (QSvgGenerator); false when the
// file cannot be written.
bool exportWidgetSvg(QWidget* widget, const QString& path, const QString& title);
// Renders `widget` into a PNG file.
bool exportWidgetPng(QWidget* widget, const QString& path);

// Whether this build can write GIFs (giflib was found).
bool gifSupported();
// Writes `frames` (all the same size) as a looping animated GIF, `delayMs` per frame. The
// colours are reduced to one 256-colour palette: the map's flat colours are kept exactly,
// antialiased text goes to the nearest of them. False with `error` set on failure.
bool writeAnimatedGif(const std::vector<QImage>& frames, int delayMs, const QString& path, QString* error = nullptr);
// The palette writeAnimatedGif() uses for these frames (tests check it keeps flat colours).
std::vector<QRgb> gifPalette(const std::vector<QImage>& frames, int maxColours = 256);

// Writes frames as DIR/PREFIX-000.png, -001... Returns the files written (empty on failure).
QStringList writePngSeries(const std::vector<QImage>& frames, const QString& dir, const QString& prefix);

// Every operation of a run and its kernel steps, as Markdown (one section per operation).
QString historyMarkdown(const History& history, const QStringList& processNames, const QString& title);

} // namespace vmalab::ui
