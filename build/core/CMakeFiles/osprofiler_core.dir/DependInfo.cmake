
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/src/db.cpp" "core/CMakeFiles/osprofiler_core.dir/src/db.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/db.cpp.o.d"
  "/work/main/core/src/file_store.cpp" "core/CMakeFiles/osprofiler_core.dir/src/file_store.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/file_store.cpp.o.d"
  "/work/main/core/src/ids.cpp" "core/CMakeFiles/osprofiler_core.dir/src/ids.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/ids.cpp.o.d"
  "/work/main/core/src/notifier.cpp" "core/CMakeFiles/osprofiler_core.dir/src/notifier.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/notifier.cpp.o.d"
  "/work/main/core/src/options.cpp" "core/CMakeFiles/osprofiler_core.dir/src/options.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/options.cpp.o.d"
  "/work/main/core/src/profiler.cpp" "core/CMakeFiles/osprofiler_core.dir/src/profiler.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/profiler.cpp.o.d"
  "/work/main/core/src/report.cpp" "core/CMakeFiles/osprofiler_core.dir/src/report.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/report.cpp.o.d"
  "/work/main/core/src/store.cpp" "core/CMakeFiles/osprofiler_core.dir/src/store.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/store.cpp.o.d"
  "/work/main/core/src/web.cpp" "core/CMakeFiles/osprofiler_core.dir/src/web.cpp.o" "gcc" "core/CMakeFiles/osprofiler_core.dir/src/web.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
