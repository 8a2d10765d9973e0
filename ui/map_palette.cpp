#include "ui/map_palette.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"

#include <QBrush>

namespace vmalab::ui {

VmaKind vmaKind(const World& world, const Mm& mm, const Vma& v)
{
    if (!v.specialName.empty() || (v.vm_flags & VM_SPECIAL))
        return VmaKind::Special;
    const std::string name = vmaName(world, mm, v);
    if (name == "[heap]")
        return VmaKind::Heap;
    if (name == "[stack]" || (v.vm_flags & VM_GROWSDOWN))
        return VmaKind::Stack;
    if (const File* f = world.file(v.vm_file))
        return f->kind == File::Kind::Shmem ? VmaKind::Shmem : VmaKind::File;
    if (v.vm_flags & VM_SHARED)
        return VmaKind::Shmem;
    return VmaKind::Anonymous;
}

const char* vmaKindName(VmaKind kind)
{
    switch (kind) {
    case VmaKind::Anonymous:
        return "anonymous";
    case VmaKind::File:
        return "file";
    case VmaKind::Shmem:
        return "shmem / memfd";
    case VmaKind::Heap:
        return "heap";
    case VmaKind::Stack:
        return "stack";
    case VmaKind::Special:
        return "special";
    }
    return "";
}

PageKind pageKind(const Pte* pte)
{
    if (!pte)
        return PageKind::None;
    switch (pte->state) {
    case PageState::None:
        return PageKind::None;
    case PageState::Swap:
        return PageKind::Swap;
    case PageState::Guard:
        return PageKind::Guard;
    case PageState::Present:
        break;
    }
    switch (pte->kind) {
    case Pte::Kind::ZeroPage:
        return PageKind::ZeroPage;
    case Pte::Kind::File:
        return PageKind::File;
    case Pte::Kind::Marker:
        return PageKind::None;
    case Pte::Kind::Anon:
        break;
    }
    return PageKind::Anon;
}

const char* pageKindName(PageKind kind)
{
    switch (kind) {
    case PageKind::None:
        return "none";
    case PageKind::Anon:
        return "present (anon)";
    case PageKind::ZeroPage:
        return "zero page";
    case PageKind::File:
        return "present (file)";
    case PageKind::Swap:
        return "swap";
    case PageKind::Guard:
        return "guard marker";
    }
    return "";
}

QColor vmaKindColor(VmaKind kind)
{
    switch (kind) {
    case VmaKind::Anonymous:
        return QColor(0x56, 0xb4, 0xe9); // sky blue
    case VmaKind::File:
        return QColor(0xe6, 0x9f, 0x00); // orange
    case VmaKind::Shmem:
        return QColor(0xcc, 0x79, 0xa7); // reddish purple
    case VmaKind::Heap:
        return QColor(0x00, 0x9e, 0x73); // bluish green
    case VmaKind::Stack:
        return QColor(0x00, 0x72, 0xb2); // blue
    case VmaKind::Special:
        return QColor(0x99, 0x99, 0x99);
    }
    return Qt::gray;
}

QColor pageKindColor(PageKind kind)
{
    switch (kind) {
    case PageKind::None:
        return QColor(0xf2, 0xf2, 0xf2);
    case PageKind::Anon:
        return QColor(0x1f, 0x3a, 0x5f); // dark navy: memory in use
    case PageKind::ZeroPage:
        return QColor(0xa6, 0xc8, 0xe0); // pale: mapped, costs nothing
    case PageKind::File:
        return QColor(0x8c, 0x51, 0x0a); // dark brown: page-cache page
    case PageKind::Swap:
        return QColor(0xf0, 0xe4, 0x42); // yellow
    case PageKind::Guard:
        return QColor(0x00, 0x00, 0x00);
    }
    return Qt::white;
}

QColor uffdWpColor()
{
    return QColor(0xcc, 0x00, 0xcc);
}
QColor createdColor()
{
    return QColor(0x00, 0x9e, 0x73);
}
QColor changedColor()
{
    return QColor(0xd5, 0x5e, 0x00);
}
QColor removedColor()
{
    return QColor(0xd5, 0x5e, 0x00);
}
QColor selectionColor()
{
    return QColor(0x10, 0x10, 0x10);
}

QColor forkColor()
{
    return QColor(0xe6, 0x9f, 0x00); // Okabe–Ito orange
}
QColor differenceColor()
{
    return QColor(0xd5, 0x5e, 0x00); // Okabe–Ito vermilion
}

QBrush guardBrush()
{
    QBrush b(QColor(0x00, 0x00, 0x00), Qt::BDiagPattern);
    return b;
}

QColor textOn(const QColor& background)
{
    const double l = 0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF();
    return l > 0.55 ? QColor(0x10, 0x10, 0x10) : QColor(0xff, 0xff, 0xff);
}

} // namespace vmalab::ui
