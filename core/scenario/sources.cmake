add_library(vmalab_lang STATIC
    scenario/ast.h
    scenario/backend.h
    scenario/outcome.h
)
set_target_properties(vmalab_lang PROPERTIES LINKER_LANGUAGE CXX)
target_link_libraries(vmalab_lang PUBLIC vmalab_base PRIVATE vmalab_warnings)
