file(REMOVE_RECURSE
  "CMakeFiles/osprofiler_core.dir/src/db.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/db.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/file_store.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/file_store.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/ids.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/ids.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/notifier.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/notifier.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/options.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/options.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/profiler.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/profiler.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/report.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/report.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/store.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/store.cpp.o.d"
  "CMakeFiles/osprofiler_core.dir/src/web.cpp.o"
  "CMakeFiles/osprofiler_core.dir/src/web.cpp.o.d"
  "libosprofiler_core.a"
  "libosprofiler_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/osprofiler_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
