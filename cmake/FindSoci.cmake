# Debian's libsoci-dev ships no CMake config: find SOCI's libraries by hand.
# Defines imported targets Soci::core, Soci::sqlite3, Soci::postgresql when found.
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_LIBRARY soci_core)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql)
find_package(Boost QUIET)   # Debian's SOCI was built with SOCI_HAVE_BOOST
set(SOCI_FOUND FALSE)
if(SOCI_INCLUDE_DIR AND SOCI_CORE_LIBRARY AND Boost_FOUND)
  set(SOCI_FOUND TRUE)
  add_library(Soci::core UNKNOWN IMPORTED)
  set_target_properties(Soci::core PROPERTIES IMPORTED_LOCATION ${SOCI_CORE_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR};${Boost_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  if(SOCI_SQLITE3_LIBRARY)
    add_library(Soci::sqlite3 UNKNOWN IMPORTED)
    set_target_properties(Soci::sqlite3 PROPERTIES IMPORTED_LOCATION ${SOCI_SQLITE3_LIBRARY}
      INTERFACE_LINK_LIBRARIES Soci::core)
  endif()
  if(SOCI_POSTGRESQL_LIBRARY AND PQ_FOUND)
    add_library(Soci::postgresql UNKNOWN IMPORTED)
    set_target_properties(Soci::postgresql PROPERTIES IMPORTED_LOCATION ${SOCI_POSTGRESQL_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES "${PQ_INCLUDE_DIRS}"
      INTERFACE_LINK_LIBRARIES "Soci::core;PkgConfig::PQ")
  endif()
endif()
