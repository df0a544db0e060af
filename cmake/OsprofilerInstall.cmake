# Package config (find_package(osprofiler CONFIG COMPONENTS ...)) and pkg-config file.
include(CMakePackageConfigHelpers)
get_property(OSPROFILER_BUILT_COMPONENTS GLOBAL PROPERTY OSPROFILER_COMPONENTS)

install(EXPORT osprofilerTargets NAMESPACE osprofiler::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/osprofiler)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/osprofilerConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/osprofilerConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/osprofiler)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/osprofilerConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/osprofilerConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/osprofilerConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/FindSoci.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/osprofiler)
# pkg-config: one file per component (osprofiler-<name>.pc) with its own
# dependencies, and osprofiler.pc for what a service needs (config, which
# brings stores and core).
# Relocatable: the prefix is found from the .pc file's own place.
file(RELATIVE_PATH PC_RELATIVE_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(_pc_requires_core "nlohmann_json libcrypto")
set(_pc_requires_stores "osprofiler-core sqlite3 libpq")
set(_pc_requires_config "osprofiler-core simpleini")
set(_pc_requires_sqlite "osprofiler-core sqlite3")
set(_pc_requires_pqxx "osprofiler-core libpqxx")
set(_pc_requires_soci "osprofiler-core")
set(_pc_extra_libs_soci "-lsoci_core")
if("stores" IN_LIST OSPROFILER_BUILT_COMPONENTS)
  string(APPEND _pc_requires_config " osprofiler-stores")
endif()
foreach(_c IN LISTS OSPROFILER_BUILT_COMPONENTS)
  set(PC_NAME "osprofiler-${_c}")
  set(PC_REQUIRES "${_pc_requires_${_c}}")
  set(PC_LIBS "-losprofiler_${_c} ${_pc_extra_libs_${_c}}")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/osprofiler.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc @ONLY)
endforeach()
set(PC_NAME "osprofiler")
set(PC_REQUIRES "osprofiler-core")
if("config" IN_LIST OSPROFILER_BUILT_COMPONENTS)
  set(PC_REQUIRES "osprofiler-config")
endif()
set(PC_LIBS "")
configure_file(${CMAKE_CURRENT_LIST_DIR}/osprofiler.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/osprofiler.pc @ONLY)
install(DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/ DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
message(STATUS "osprofiler: components built: ${OSPROFILER_BUILT_COMPONENTS}")
