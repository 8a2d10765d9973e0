# Installation and packaging: `cmake --install` and `cpack -G DEB`. Included from the top-level
# CMakeLists.txt after the targets exist. Sources for the desktop files are in packaging/.
include(GNUInstallDirs)

set(VMALAB_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(VMALAB_GENERATED_DIR ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${VMALAB_GENERATED_DIR})

install(TARGETS vmalab-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET vmalab)
    install(TARGETS vmalab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Lessons and scenarios: /usr/share/vmalab/{lessons,scenarios}. The goldens stay in the tree.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/lessons ${PROJECT_SOURCE_DIR}/resources/scenarios
    DESTINATION ${CMAKE_INSTALL_DATADIR}/vmalab FILES_MATCHING PATTERN "*.vlab")

# Desktop integration: the freedesktop.org id is io.github.vmalab.vmalab everywhere.
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/vmalab.svg
    DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps RENAME io.github.vmalab.vmalab.svg)
install(FILES ${VMALAB_PACKAGING_DIR}/io.github.vmalab.vmalab.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${VMALAB_PACKAGING_DIR}/io.github.vmalab.vmalab.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES ${VMALAB_PACKAGING_DIR}/vmalab-mime.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/mime/packages
    RENAME io.github.vmalab.vmalab.xml)

# Man pages and bash completion, printed by vmalab-manpage from app/cli_help.cpp (and, for
# vmalab(1), from the GUI's own --help).
# Installed gzipped (-n: no timestamp, so the package builds reproducibly), as Debian wants.
add_custom_command(OUTPUT ${VMALAB_GENERATED_DIR}/vmalab-cli.1 ${VMALAB_GENERATED_DIR}/vmalab-cli.1.gz
    COMMAND vmalab-manpage cli > ${VMALAB_GENERATED_DIR}/vmalab-cli.1
    COMMAND gzip -9nf -k ${VMALAB_GENERATED_DIR}/vmalab-cli.1
    DEPENDS vmalab-manpage VERBATIM)
add_custom_command(OUTPUT ${VMALAB_GENERATED_DIR}/vmalab-cli.bash
    COMMAND vmalab-manpage completion ${VMALAB_PACKAGING_DIR}/vmalab-cli.bash.in > ${VMALAB_GENERATED_DIR}/vmalab-cli.bash
    DEPENDS vmalab-manpage ${VMALAB_PACKAGING_DIR}/vmalab-cli.bash.in VERBATIM)
set(vmalab_docs ${VMALAB_GENERATED_DIR}/vmalab-cli.1 ${VMALAB_GENERATED_DIR}/vmalab-cli.bash)
if(TARGET vmalab)
    add_custom_command(OUTPUT ${VMALAB_GENERATED_DIR}/vmalab.1 ${VMALAB_GENERATED_DIR}/vmalab.1.gz
        COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen $<TARGET_FILE:vmalab> --help
            > ${VMALAB_GENERATED_DIR}/vmalab.help
        COMMAND vmalab-manpage gui ${VMALAB_GENERATED_DIR}/vmalab.help > ${VMALAB_GENERATED_DIR}/vmalab.1
        COMMAND gzip -9nf -k ${VMALAB_GENERATED_DIR}/vmalab.1
        DEPENDS vmalab vmalab-manpage VERBATIM)
    list(APPEND vmalab_docs ${VMALAB_GENERATED_DIR}/vmalab.1)
endif()
add_custom_target(vmalab_docs ALL DEPENDS ${vmalab_docs})
install(FILES ${VMALAB_GENERATED_DIR}/vmalab-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
if(TARGET vmalab)
    install(FILES ${VMALAB_GENERATED_DIR}/vmalab.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
# bash-completion loads completions by command name, so the file is installed under both.
install(FILES ${VMALAB_GENERATED_DIR}/vmalab-cli.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME vmalab-cli)
install(FILES ${VMALAB_GENERATED_DIR}/vmalab-cli.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME vmalab)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/limits.md ${PROJECT_SOURCE_DIR}/docs/install.md
    DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)

# The Debian package. Depends: dpkg-shlibdeps computes the Debian 12 (bookworm) packages of
# every library the binaries link (SHLIBDEPS); the list below adds the Qt packages whose
# plugins are loaded at run time rather than linked (the xcb and offscreen platform plugins
# are in libqt6gui6, the SVG icon engine in libqt6svg6), with the versions bookworm has.
# packaging/test-deb-in-chroot.sh installs the package on a fresh bookworm root to prove it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vmalab)
set(CPACK_PACKAGE_VENDOR "vmalab")
set(CPACK_PACKAGE_CONTACT "vmalab maintainers <vmalab@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "model Linux process address spaces (VMAs, page tables) and check them against the kernel")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/vmalab/vmalab")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "vmalab steps through a Linux process's address space one kernel decision at a time.
 It runs scenarios of mmap/munmap/mprotect/mremap/madvise/mlock/fork calls on a model
 of the kernel's memory management, shows VMAs, merges, splits and page tables in a
 Qt GUI (vmalab), and replays the same scenarios on the running kernel to compare
 (vmalab-cli).")
set(vmalab_deb_depends "libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1")
if(TARGET vmalab)
    string(APPEND vmalab_deb_depends ", libqt6core6 (>= 6.4), libqt6gui6 (>= 6.4), libqt6widgets6 (>= 6.4),"
        " libqt6svg6 (>= 6.4), libqt6charts6 (>= 6.4)")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${vmalab_deb_depends}")
find_program(VMALAB_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(VMALAB_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Only what `install()` lists above, not GoogleTest's or other subprojects' install rules.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};ALL;/")
include(CPack)
