#include "ui/flags_model.h"

#include "core/vm_flags.h"

#include <QBrush>
#include <QFont>

namespace vmalab::ui {

const char* vmFlagMeaning(unsigned b)
{
    switch (b) {
    case VM_READ_BIT:
        return "pages may be read";
    case VM_WRITE_BIT:
        return "pages may be written";
    case VM_EXEC_BIT:
        return "pages may be executed";
    case VM_SHARED_BIT:
        return "writes are seen by every mapping of the object";
    case VM_MAYREAD_BIT:
        return "mprotect may add PROT_READ";
    case VM_MAYWRITE_BIT:
        return "mprotect may add PROT_WRITE";
    case VM_MAYEXEC_BIT:
        return "mprotect may add PROT_EXEC";
    case VM_MAYSHARE_BIT:
        return "mapped MAP_SHARED (kept even when VM_SHARED is dropped)";
    case VM_GROWSDOWN_BIT:
        return "a stack: a fault just below grows the VMA down";
    case VM_UFFD_MISSING_BIT:
        return "userfaultfd reports faults on missing pages";
    case VM_PFNMAP_BIT:
        return "raw page frames, no struct page (special)";
    case VM_MAYBE_GUARD_BIT:
        return "guard markers may be installed (VM_MAYBE_GUARD series)";
    case VM_UFFD_WP_BIT:
        return "userfaultfd write-protect mode registered";
    case VM_LOCKED_BIT:
        return "mlock(): pages stay resident";
    case VM_IO_BIT:
        return "memory-mapped I/O (special)";
    case VM_SEQ_READ_BIT:
        return "MADV_SEQUENTIAL: read ahead aggressively";
    case VM_RAND_READ_BIT:
        return "MADV_RANDOM: no read-ahead";
    case VM_DONTCOPY_BIT:
        return "MADV_DONTFORK: not copied into a fork child";
    case VM_DONTEXPAND_BIT:
        return "mremap may not grow it (special)";
    case VM_LOCKONFAULT_BIT:
        return "mlock2(MLOCK_ONFAULT): lock pages as they fault in";
    case VM_ACCOUNT_BIT:
        return "charged to the commit limit (overcommit accounting)";
    case VM_NORESERVE_BIT:
        return "MAP_NORESERVE: not charged to the commit limit";
    case VM_HUGETLB_BIT:
        return "hugetlbfs mapping";
    case VM_SYNC_BIT:
        return "MAP_SYNC: synchronous page faults (DAX)";
    case VM_ARCH_1_BIT:
        return "architecture specific";
    case VM_WIPEONFORK_BIT:
        return "MADV_WIPEONFORK: the child sees zero-filled memory";
    case VM_DONTDUMP_BIT:
        return "MADV_DONTDUMP: left out of core dumps";
    case VM_SOFTDIRTY_BIT:
        return "soft-dirty tracking: new since the last clear";
    case VM_MIXEDMAP_BIT:
        return "mixed page frames and struct pages (special)";
    case VM_HUGEPAGE_BIT:
        return "MADV_HUGEPAGE: transparent huge pages wanted";
    case VM_NOHUGEPAGE_BIT:
        return "MADV_NOHUGEPAGE: no transparent huge pages";
    case VM_MERGEABLE_BIT:
        return "MADV_MERGEABLE: KSM may merge its pages";
    case 32:
    case 33:
    case 34:
    case 35:
        return "one bit of the x86 memory protection key (pkey_mprotect)";
    case VM_SHADOW_STACK_BIT:
        return "x86 shadow stack";
    case VM_DROPPABLE_BIT:
        return "MAP_DROPPABLE: the kernel may drop pages under pressure";
    case VM_UFFD_MINOR_BIT:
        return "userfaultfd reports minor faults";
    case VM_SEALED_BIT:
        return "mseal(): the mapping can no longer change";
    default:
        return "";
    }
}

QStringList profileRoles(unsigned b, VmFlags sticky, VmFlags mergeIgnored)
{
    QStringList out;
    if (sticky & bit(b))
        out << QStringLiteral("sticky");
    if (mergeIgnored & bit(b))
        out << QStringLiteral("no-merge");
    if (VM_COPY_ON_FORK & bit(b))
        out << QStringLiteral("fork copy");
    return out;
}

FlagsModel::FlagsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
    rebuild();
}

void FlagsModel::rebuild()
{
    m_bits.clear();
    for (unsigned b = 0; b < 64; ++b) {
        if (*vmFlagName(b) == '\0')
            continue;
        if (m_onlySet && !(m_flags & bit(b)))
            continue;
        m_bits.push_back(b);
    }
}

void FlagsModel::setFlags(VmFlags flags, const Profile& profile)
{
    beginResetModel();
    m_flags = flags;
    m_sticky = profile.stickyFlags();
    m_ignored = profile.mergeIgnoredFlags();
    m_valid = true;
    rebuild();
    endResetModel();
}

void FlagsModel::clear()
{
    beginResetModel();
    m_flags = 0;
    m_valid = false;
    rebuild();
    endResetModel();
}

void FlagsModel::setOnlySet(bool on)
{
    beginResetModel();
    m_onlySet = on;
    rebuild();
    endResetModel();
}

int FlagsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_bits.size());
}

int FlagsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FlagsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const unsigned b = m_bits[static_cast<std::size_t>(index.row())];
    const VmFlags mask = bit(b);
    const bool set = m_valid && (m_flags & mask);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Bit:
            return b;
        case Name:
            return QString::fromLatin1(vmFlagName(b));
        case Mnemonic:
            return QString::fromLatin1(vmFlagMnemonic(b));
        case Set:
            return set ? QStringLiteral("1") : QStringLiteral("0");
        case ProfileRole:
            return profileRoles(b, m_sticky, m_ignored).join(QStringLiteral(", "));
        case Meaning:
            return QString::fromLatin1(vmFlagMeaning(b));
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == ProfileRole)
            return tr("sticky: a merge or split keeps it from every VMA involved; no-merge: ignored when deciding "
                      "whether two VMAs can merge (both per profile); fork copy: in VM_COPY_ON_FORK, fork copies "
                      "page tables for VMAs with it");
        return QString::fromLatin1(vmFlagMeaning(b));
    }
    if (role == Qt::FontRole) {
        QFont f;
        f.setBold(set);
        if (index.column() == Name || index.column() == Mnemonic) {
            f.setFamily(QStringLiteral("DejaVu Sans Mono"));
            f.setStyleHint(QFont::Monospace);
        }
        return f;
    }
    if (role == Qt::ForegroundRole && !set)
        return QBrush(QColor(0x80, 0x80, 0x80));
    if (role == Qt::BackgroundRole && set && index.column() == Set)
        return QBrush(QColor(0x00, 0x9e, 0x73, 90));
    if (role == Qt::TextAlignmentRole && index.column() != Meaning && index.column() != Name)
        return QVariant(Qt::AlignCenter);
    return {};
}

QVariant FlagsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* names[] = { "Bit", "Flag", "smaps", "Set", "Meaning", "Profile" };
    if (role == Qt::DisplayRole)
        return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
    return {};
}

} // namespace vmalab::ui
