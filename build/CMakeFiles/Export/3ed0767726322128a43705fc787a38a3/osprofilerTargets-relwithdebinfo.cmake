#----------------------------------------------------------------
# Generated CMake target import file for configuration "RelWithDebInfo".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "osprofiler::core" for configuration "RelWithDebInfo"
set_property(TARGET osprofiler::core APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(osprofiler::core PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELWITHDEBINFO "CXX"
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libosprofiler_core.a"
  )

list(APPEND _cmake_import_check_targets osprofiler::core )
list(APPEND _cmake_import_check_files_for_osprofiler::core "${_IMPORT_PREFIX}/lib/libosprofiler_core.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
