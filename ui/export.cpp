#include "ui/export.h"

#include "core/engine/history.h"
#include "ui/timeline_model.h"
#include "ui/trace_model.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QPainter>
#include <QSvgGenerator>
#include <QWidget>

#include <algorithm>
#include <utility>

#ifdef VMALAB_HAVE_GIF
#include <gif_lib.h>
#endif

namespace vmalab::ui {

bool exportWidgetSvg(QWidget* widget, const QString& path, const QString& title)
{
    QFile probe(path);
    if (!probe.open(QIODevice::WriteOnly))
        return false;
    probe.close();
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(widget->size());
    gen.setViewBox(QRect(QPoint(0, 0), widget->size()));
    gen.setTitle(title);
    gen.setDescription(QStringLiteral("vmalab"));
    QPainter p(&gen);
    widget->render(&p);
    p.end();
    return QFile(path).size() > 0;
}

bool exportWidgetPng(QWidget* widget, const QString& path)
{
    return widget->grab().save(path, "PNG");
}

bool gifSupported()
{
#ifdef VMALAB_HAVE_GIF
    return true;
#else
    return false;
#endif
}

std::vector<QRgb> gifPalette(const std::vector<QImage>& frames, int maxColours)
{
    QHash<QRgb, qint64> counts;
    for (const QImage& f0 : frames) {
        const QImage f = f0.convertToFormat(QImage::Format_RGB32);
        for (int y = 0; y < f.height(); ++y) {
            const auto* line = reinterpret_cast<const QRgb*>(f.constScanLine(y));
            for (int x = 0; x < f.width(); ++x)
                ++counts[line[x] | 0xff000000u];
        }
    }
    std::vector<std::pair<qint64, QRgb>> byCount;
    byCount.reserve(static_cast<std::size_t>(counts.size()));
    for (auto it = counts.constBegin(); it != counts.constEnd(); ++it)
        byCount.emplace_back(it.value(), it.key());
    std::sort(byCount.begin(), byCount.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<QRgb> out;
    if (static_cast<int>(byCount.size()) <= maxColours) {
        for (const auto& e : byCount)
            out.push_back(e.second);
        return out;
    }
    // Flat fills are the frequent colours; keep them exactly and leave a grey ramp for the
    // antialiased edges of text and lines.
    const int ramp = std::min(32, maxColours / 8);
    for (const auto& e : byCount) {
        if (static_cast<int>(out.size()) >= maxColours - ramp)
            break;
        out.push_back(e.second);
    }
    for (int i = 0; i < ramp; ++i) {
        const int v = ramp == 1 ? 128 : i * 255 / (ramp - 1);
        out.push_back(qRgb(v, v, v));
    }
    return out;
}

bool writeAnimatedGif(const std::vector<QImage>& frames, int delayMs, const QString& path, QString* error)
{
    auto fail = [error](const QString& e) {
        if (error)
            *error = e;
        return false;
    };
    if (frames.empty())
        return fail(QStringLiteral("no frames"));
#ifndef VMALAB_HAVE_GIF
    (void)delayMs;
    (void)path;
    return fail(QStringLiteral("this build has no GIF support (giflib was not found)"));
#else
    const int w = frames.front().width(), h = frames.front().height();
    for (const QImage& f : frames)
        if (f.width() != w || f.height() != h)
            return fail(QStringLiteral("frames differ in size"));
    std::vector<QRgb> palette = gifPalette(frames);
    while (palette.size() < 2 || (palette.size() & (palette.size() - 1)) != 0)
        palette.push_back(qRgb(0, 0, 0)); // giflib wants a power of two
    int err = 0;
    GifFileType* gif = EGifOpenFileName(QFile::encodeName(path).constData(), false, &err);
    if (!gif)
        return fail(QStringLiteral("cannot write %1: %2").arg(path, QString::fromLatin1(GifErrorString(err))));
    ColorMapObject* map = GifMakeMapObject(static_cast<int>(palette.size()), nullptr);
    for (std::size_t i = 0; i < palette.size(); ++i) {
        map->Colors[i].Red = static_cast<GifByteType>(qRed(palette[i]));
        map->Colors[i].Green = static_cast<GifByteType>(qGreen(palette[i]));
        map->Colors[i].Blue = static_cast<GifByteType>(qBlue(palette[i]));
    }
    EGifSetGifVersion(gif, true);
    bool ok = EGifPutScreenDesc(gif, w, h, 8, 0, map) == GIF_OK;
    // NETSCAPE2.0: loop forever.
    static const unsigned char netscape[] = "NETSCAPE2.0";
    const unsigned char loop[] = { 1, 0, 0 };
    ok = ok && EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_OK
        && EGifPutExtensionBlock(gif, 11, netscape) == GIF_OK && EGifPutExtensionBlock(gif, 3, loop) == GIF_OK
        && EGifPutExtensionTrailer(gif) == GIF_OK;
    QHash<QRgb, GifByteType> nearest;
    auto index = [&](QRgb c) -> GifByteType {
        const auto it = nearest.constFind(c);
        if (it != nearest.constEnd())
            return it.value();
        int best = 0;
        long bestD = -1;
        for (std::size_t i = 0; i < palette.size(); ++i) {
            const long dr = qRed(c) - qRed(palette[i]), dg = qGreen(c) - qGreen(palette[i]),
                       db = qBlue(c) - qBlue(palette[i]);
            const long d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
            if (bestD < 0 || d < bestD) {
                bestD = d;
                best = static_cast<int>(i);
            }
        }
        nearest.insert(c, static_cast<GifByteType>(best));
        return static_cast<GifByteType>(best);
    };
    std::vector<GifByteType> line(static_cast<std::size_t>(w));
    for (const QImage& f0 : frames) {
        if (!ok)
            break;
        GraphicsControlBlock gcb {};
        gcb.DisposalMode = DISPOSE_DO_NOT;
        gcb.UserInputFlag = false;
        gcb.DelayTime = std::max(2, delayMs / 10); // hundredths of a second
        gcb.TransparentColor = NO_TRANSPARENT_COLOR;
        GifByteType ext[4];
        EGifGCBToExtension(&gcb, ext);
        ok = EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_OK
            && EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr) == GIF_OK;
        const QImage f = f0.convertToFormat(QImage::Format_RGB32);
        for (int y = 0; ok && y < h; ++y) {
            const auto* src = reinterpret_cast<const QRgb*>(f.constScanLine(y));
            for (int x = 0; x < w; ++x)
                line[static_cast<std::size_t>(x)] = index(src[x] | 0xff000000u);
            ok = EGifPutLine(gif, line.data(), w) == GIF_OK;
        }
    }
    const int writeErr = gif->Error;
    GifFreeMapObject(map);
    int closeErr = 0;
    const bool closed = EGifCloseFile(gif, &closeErr) == GIF_OK;
    if (!ok)
        return fail(QStringLiteral("cannot write %1: %2").arg(path, QString::fromLatin1(GifErrorString(writeErr))));
    if (!closed)
        return fail(QStringLiteral("cannot write %1: %2").arg(path, QString::fromLatin1(GifErrorString(closeErr))));
    return true;
#endif
}

QStringList writePngSeries(const std::vector<QImage>& frames, const QString& dir, const QString& prefix)
{
    QStringList out;
    if (!QDir().mkpath(dir))
        return {};
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const QString f = QDir(dir).filePath(QStringLiteral("%1-%2.png").arg(prefix).arg(i, 3, 10, QLatin1Char('0')));
        if (!frames[i].save(f, "PNG"))
            return {};
        out << f;
    }
    return out;
}

QString historyMarkdown(const History& history, const QStringList& processNames, const QString& title)
{
    QString out = QStringLiteral("# %1\n\n").arg(title);
    out += QStringLiteral("%1 operations.\n\n").arg(history.opCount());
    out += QStringLiteral("| # | process | call | result | kernel steps |\n|---|---|---|---|---|\n");
    for (std::size_t i = 0; i < history.opCount(); ++i) {
        const OpTrace& t = history.op(i);
        const QString who = t.process < processNames.size() ? processNames[t.process] : QString::number(t.process);
        QString call = QString::fromStdString(t.call);
        call.replace(QLatin1Char('|'), QLatin1String("\\|"));
        QString result = callResultText(t.call, t.ret);
        result.replace(QLatin1Char('|'), QLatin1String("\\|"));
        out += QStringLiteral("| %1 | %2 | `%3` | %4 | %5 |\n").arg(i + 1).arg(who, call, result).arg(t.steps.size());
    }
    for (std::size_t i = 0; i < history.opCount(); ++i) {
        const OpTrace& t = history.op(i);
        const QString who = t.process < processNames.size() ? processNames[t.process] : QString::number(t.process);
        out += QStringLiteral("\n## Operation %1 (line %2)\n\n").arg(i + 1).arg(t.line);
        out += traceMarkdown(t, who);
    }
    return out;
}

} // namespace vmalab::ui
