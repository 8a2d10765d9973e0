add_library(vmalab_report STATIC
    report/ascii.cpp report/ascii.h
    report/check.cpp report/check.h
    report/emit.cpp report/emit.h
    report/json_writer.cpp report/json_writer.h
    report/run_json.cpp report/run_json.h
    report/window.cpp report/window.h
)
target_link_libraries(vmalab_report PUBLIC vmalab_lang vmalab_base PRIVATE vmalab_warnings)
