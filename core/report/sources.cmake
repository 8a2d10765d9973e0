list(APPEND VMALAB_CORE_SOURCES
    report/ascii.cpp report/ascii.h
    report/check.cpp report/check.h
    report/emit.cpp report/emit.h
    report/json_writer.cpp report/json_writer.h
    report/profile_diff.cpp report/profile_diff.h
    report/recording_check.cpp report/recording_check.h
    report/run_json.cpp report/run_json.h
    report/window.cpp report/window.h
)
