#pragma once

#include "core/profile.h"
#include "core/types.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace vmalab::ui {

// The vm_flags of one VMA bit by bit: VM_* name, smaps mnemonic, whether it is set, what it
// means, and how the profile treats it (sticky across merges, ignored by the merge test,
// forcing page-table copies at fork). Rows are every bit the kernel names, or only the
// set ones with setOnlySet(true).
// profileRoles() lists a bit's roles in the profile, for the ProfileRole column.
class FlagsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Bit,
        Name,
        Mnemonic,
        Set,
        Meaning,
        ProfileRole, // "sticky", "no-merge", "fork copy": how this profile treats the bit
        ColumnCount
    };

    explicit FlagsModel(QObject* parent = nullptr);

    void setFlags(VmFlags flags, const Profile& profile);
    void clear();
    void setOnlySet(bool on);
    VmFlags vmFlags() const { return m_flags; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void rebuild();

    VmFlags m_flags = 0;
    VmFlags m_sticky = 0;
    VmFlags m_ignored = 0;
    bool m_onlySet = false;
    bool m_valid = false;
    std::vector<unsigned> m_bits;
};

// One line on what a vm_flags bit means (our words).
const char* vmFlagMeaning(unsigned bitNumber);
QStringList profileRoles(unsigned bitNumber, VmFlags sticky, VmFlags mergeIgnored);

} // namespace vmalab::ui
