#include "core/engine/call_text.h"

#include "core/engine/abi.h"
#include "core/engine/trace.h"
#include "core/scenario/uapi.h"

#include <utility>

namespace vmalab {

namespace {

using namespace abi;

using Names = std::vector<std::pair<std::int64_t, const char*>>;

std::string bitNames(std::int64_t value, const Names& names, const char* zero)
{
    if (value == 0)
        return zero;
    std::string out;
    std::int64_t rest = value;
    for (const auto& [bitValue, name] : names) {
        if (bitValue && (rest & bitValue) == bitValue) {
            out += (out.empty() ? "" : " | ") + std::string(name);
            rest &= ~bitValue;
        }
    }
    if (rest)
        out += (out.empty() ? "" : " | ") + hexAddr(static_cast<std::uint64_t>(rest));
    return out;
}

std::string protText(std::int64_t v)
{
    static const Names names = { { PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
                                 { PROT_SEM, "PROT_SEM" }, { PROT_GROWSDOWN, "PROT_GROWSDOWN" },
                                 { PROT_GROWSUP, "PROT_GROWSUP" } };
    return bitNames(v, names, "PROT_NONE");
}

std::string mapFlagsText(std::int64_t v)
{
    static const Names types = { { MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" },
                                 { MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE" }, { MAP_DROPPABLE, "MAP_DROPPABLE" } };
    static const Names bits = { { MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" }, { MAP_FIXED, "MAP_FIXED" },
                                { MAP_ANONYMOUS, "MAP_ANONYMOUS" }, { MAP_GROWSDOWN, "MAP_GROWSDOWN" },
                                { MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_EXECUTABLE, "MAP_EXECUTABLE" },
                                { MAP_LOCKED, "MAP_LOCKED" }, { MAP_NORESERVE, "MAP_NORESERVE" },
                                { MAP_POPULATE, "MAP_POPULATE" }, { MAP_NONBLOCK, "MAP_NONBLOCK" },
                                { MAP_STACK, "MAP_STACK" }, { MAP_HUGETLB, "MAP_HUGETLB" }, { MAP_SYNC, "MAP_SYNC" },
                                { MAP_UNINITIALIZED, "MAP_UNINITIALIZED" } };
    std::string type = hexAddr(static_cast<std::uint64_t>(v & MAP_TYPE));
    for (const auto& [t, name] : types)
        if ((v & MAP_TYPE) == t)
            type = name;
    const std::string rest = bitNames(v & ~MAP_TYPE, bits, "");
    return rest.empty() ? type : type + " | " + rest;
}

std::string adviceText(std::int64_t v)
{
    for (const auto& [name, value] : scenario::uapiTable())
        if (value == v && name.substr(0, 5) == "MADV_")
            return std::string(name);
    return std::to_string(v);
}

std::string plain(const scenario::Value& v)
{
    if (v.isString)
        return "\"" + v.str + "\"";
    if (v.num > -4096 && v.num < 4096)
        return std::to_string(v.num);
    return hexAddr(static_cast<std::uint64_t>(v.num));
}

} // namespace

std::string formatResult(std::int64_t value)
{
    if (value < 0 && value >= -4095)
        return scenario::errnoName(value);
    return hexAddr(static_cast<std::uint64_t>(value));
}

std::string formatCall(const std::string& name, const std::vector<scenario::Value>& args)
{
    std::string out = name + "(";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const scenario::Value& a = args[i];
        std::string text = plain(a);
        if (!a.isString) {
            if ((name == "mmap" && i == 2) || (name == "mprotect" && i == 2) || (name == "touch" && i == 2))
                text = protText(a.num);
            else if (name == "mmap" && i == 3)
                text = mapFlagsText(a.num);
            else if (name == "madvise" && i == 2)
                text = adviceText(a.num);
            else if (name == "mremap" && i == 3)
                text = bitNames(a.num, { { MREMAP_MAYMOVE, "MREMAP_MAYMOVE" }, { MREMAP_FIXED, "MREMAP_FIXED" },
                                         { MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP" } }, "0");
            else if (name == "mlock2" && i == 2)
                text = bitNames(a.num, { { MLOCK_ONFAULT, "MLOCK_ONFAULT" } }, "0");
            else if (name == "mmap" && i == 0 && a.num == 0)
                text = "NULL";
        }
        out += (i ? ", " : "") + text;
    }
    return out + ")";
}

} // namespace vmalab
