list(APPEND VMALAB_CORE_SOURCES
    engine/abi.h
    engine/brk.cpp
    engine/call_text.cpp engine/call_text.h
    engine/fault.cpp engine/fault.h
    engine/guard.cpp engine/guard.h
    engine/history.cpp engine/history.h
    engine/collapse_file.cpp engine/file_pages.h
    engine/files.cpp
    engine/fork.cpp engine/fork.h
    engine/layout.cpp engine/layout.h
    engine/madvise.cpp
    engine/mlock.cpp
    engine/mmap.cpp
    engine/model_backend.cpp engine/model_backend.h
    engine/mprotect.cpp
    engine/mremap.cpp
    engine/observe.cpp engine/observe.h
    engine/recording.cpp
    engine/ops.h
    engine/page_table.cpp engine/page_table.h
    engine/persistent_map.cpp engine/persistent_map.h
    engine/run_map.h
    engine/snapshot_world.cpp engine/snapshot_world.h
    engine/trace.cpp engine/trace.h
    engine/uffd.cpp engine/uffd.h
    engine/validate.cpp engine/validate.h
    engine/vma_merge.cpp engine/vma_merge.h
    engine/world.cpp engine/world.h
)
