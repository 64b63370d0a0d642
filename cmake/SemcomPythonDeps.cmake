#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

# gr-semcom's runtime Python dependencies for the interpreter that runs the flowgraphs.
#
# GNU Radio Companion runs a flowgraph with the interpreter it runs under itself
# ({python} in the flowgraph's run command is its sys.executable): for the system's
# gnuradio-companion that is the interpreter on its first line (/usr/bin/python3 on
# Debian), which lacks onnxruntime. With
# SEMCOM_INSTALL_PYTHON_DEPS (default ON), `cmake --install` runs
# cmake/semcom_python_deps.py with that interpreter: it pip-installs what the
# interpreter lacks into the folder that holds gnuradio/semcom (pip's --target; Debian's
# Python is externally managed), keeping the interpreter's own numpy 1.x (GNU Radio's).
# The installed files go into install_manifest.txt (`make uninstall` removes them).
# With it OFF, or with DESTDIR set (packaging), the install prints what is missing and
# the command that installs it.
#
# Inputs: PYTHON_EXECUTABLE (GrPython), SEMCOM_PYTHON_DIR_FULL (absolute).

# pyproject.toml's runtime dependencies (the sample photos ship with gnuradio.semcom)
set(SEMCOM_PYTHON_DEPS "numpy<2;onnxruntime;Pillow>=11.2" CACHE STRING
    "Python requirements of gnuradio.semcom at run time (pip syntax, ;-separated)")
option(SEMCOM_INSTALL_PYTHON_DEPS
       "At install, pip-install the Python dependencies that SEMCOM_DEPS_PYTHON lacks next to gnuradio/semcom" ON)

# The interpreter GRC runs flowgraphs with: the one on gnuradio-companion's first line
execute_process(
    COMMAND ${PYTHON_EXECUTABLE} -c "from gnuradio import gr; print(gr.prefix())"
    OUTPUT_VARIABLE semcom_gr_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
find_program(SEMCOM_GRC_EXECUTABLE gnuradio-companion HINTS "${semcom_gr_prefix}/bin" NO_CACHE)
set(semcom_grc_python "")
if(SEMCOM_GRC_EXECUTABLE)
    file(STRINGS "${SEMCOM_GRC_EXECUTABLE}" semcom_shebang LIMIT_COUNT 1)
    if(semcom_shebang MATCHES "^#![ \t]*([^ \t]+)([ \t]+([^ \t]+))?")
        set(semcom_grc_python "${CMAKE_MATCH_1}")
        if(semcom_grc_python MATCHES "/env$" AND CMAKE_MATCH_3)
            find_program(semcom_grc_python_found ${CMAKE_MATCH_3} NO_CACHE)
            set(semcom_grc_python "${semcom_grc_python_found}")
        endif()
    endif()
endif()
if(NOT semcom_grc_python OR NOT EXISTS "${semcom_grc_python}")
    set(semcom_grc_python "${PYTHON_EXECUTABLE}")
endif()
set(SEMCOM_DEPS_PYTHON "${semcom_grc_python}" CACHE FILEPATH
    "Interpreter that runs the flowgraphs (GNU Radio Companion's); its missing Python dependencies are installed")

set(SEMCOM_DEPS_SCRIPT "${PROJECT_SOURCE_DIR}/cmake/semcom_python_deps.py")
set(semcom_deps_args --target "${SEMCOM_PYTHON_DIR_PARENT_FULL}" ${SEMCOM_PYTHON_DEPS})
# what the interpreter lacks now, as it will see the install (offline, from its metadata)
execute_process(
    COMMAND ${SEMCOM_DEPS_PYTHON} -I ${SEMCOM_DEPS_SCRIPT} --check ${semcom_deps_args}
    OUTPUT_VARIABLE semcom_deps_missing OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_VARIABLE semcom_deps_error RESULT_VARIABLE semcom_deps_result)
if(semcom_deps_result GREATER 1 OR NOT semcom_deps_missing)
    message(FATAL_ERROR "Cannot check the Python dependencies with ${SEMCOM_DEPS_PYTHON}:\n${semcom_deps_error}")
endif()
list(JOIN SEMCOM_PYTHON_DEPS " " semcom_deps_text)
string(REPLACE ";" "' '" semcom_deps_quoted "'${SEMCOM_PYTHON_DEPS}'")
set(SEMCOM_DEPS_COMMAND
    "${SEMCOM_DEPS_PYTHON} -I ${SEMCOM_DEPS_SCRIPT} --target ${SEMCOM_PYTHON_DIR_PARENT_FULL} ${semcom_deps_quoted}")
message(STATUS "Flowgraph Python:     ${SEMCOM_DEPS_PYTHON} (GNU Radio Companion's), lacks: ${semcom_deps_missing}")

if(SEMCOM_INSTALL_PYTHON_DEPS)
    execute_process(COMMAND ${SEMCOM_DEPS_PYTHON} -m pip --version
                    OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE semcom_pip_result)
    if(semcom_pip_result)
        message(FATAL_ERROR "${SEMCOM_DEPS_PYTHON} has no pip, which installs gr-semcom's Python dependencies "
                            "(${semcom_deps_text}) at install time: install it (Debian: apt-get install python3-pip), "
                            "or configure with -DSEMCOM_INSTALL_PYTHON_DEPS=OFF and install them yourself")
    endif()
    if(NOT semcom_deps_missing STREQUAL "none")
        message(STATUS "  cmake --install pip-installs them (and what they need) into ${SEMCOM_PYTHON_DIR_PARENT_FULL} "
                       "(-DSEMCOM_INSTALL_PYTHON_DEPS=OFF: not)")
    endif()
    # requirements as CMake arguments ("numpy<2" "onnxruntime" ...) for the install script
    string(REPLACE ";" "\" \"" semcom_deps_cmake_args "\"${SEMCOM_PYTHON_DEPS}\"")
    set(semcom_binary_dir "${PROJECT_BINARY_DIR}")
    string(CONFIGURE [=[
        if(NOT "$ENV{DESTDIR}" STREQUAL "")
            message(STATUS "DESTDIR is set: gr-semcom's Python dependencies are not installed "
                           "(@semcom_deps_text@: the package must depend on them)")
        else()
            # python_deps_manifest.txt: what the installs of this build tree put there (an
            # install that finds everything present adds nothing, and forgets nothing)
            set(manifest "@semcom_binary_dir@/python_deps_manifest.txt")
            set(files)
            if(EXISTS "${manifest}")
                file(STRINGS "${manifest}" files)
            endif()
            execute_process(
                COMMAND "@SEMCOM_DEPS_PYTHON@" -I "@SEMCOM_DEPS_SCRIPT@" --manifest "${manifest}.new"
                        --target "@SEMCOM_PYTHON_DIR_PARENT_FULL@" @semcom_deps_cmake_args@
                RESULT_VARIABLE result)
            if(result)
                message(FATAL_ERROR "Installing gr-semcom's Python dependencies for @SEMCOM_DEPS_PYTHON@ failed "
                                    "(see above). Retry, or configure with -DSEMCOM_INSTALL_PYTHON_DEPS=OFF and "
                                    "install them yourself.")
            endif()
            file(STRINGS "${manifest}.new" new_files)
            file(REMOVE "${manifest}.new")
            list(APPEND files ${new_files})
            if(files)
                list(REMOVE_DUPLICATES files)
                string(REPLACE ";" "\n" manifest_text "${files}")
                file(WRITE "${manifest}" "${manifest_text}\n")
                list(APPEND CMAKE_INSTALL_MANIFEST_FILES ${files})
            endif()
        endif()
    ]=] semcom_deps_install_code @ONLY)
    install(CODE "${semcom_deps_install_code}")
elseif(NOT semcom_deps_missing STREQUAL "none")
    message(STATUS "  SEMCOM_INSTALL_PYTHON_DEPS is OFF: install them for the flowgraphs to run in GRC, e.g. with\n"
                   "     ${SEMCOM_DEPS_COMMAND}")
    install(CODE "
        message(STATUS \"gr-semcom's Python dependencies are not installed (SEMCOM_INSTALL_PYTHON_DEPS=OFF); \"
                       \"${SEMCOM_DEPS_PYTHON} lacks: ${semcom_deps_missing}. Install them with\\n\"
                       \"   ${SEMCOM_DEPS_COMMAND}\")
    ")
endif()
