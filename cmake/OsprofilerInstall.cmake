# Package config (find_package(osprofiler CONFIG COMPONENTS ...)) and pkg-config file.
include(CMakePackageConfigHelpers)
get_property(OSPROFILER_BUILT_COMPONENTS GLOBAL PROPERTY OSPROFILER_COMPONENTS)
get_property(OSPROFILER_PC_LIBS GLOBAL PROPERTY OSPROFILER_PC_LIBS)
list(REVERSE OSPROFILER_PC_LIBS)   # dependents before their dependencies
string(REPLACE ";" " " OSPROFILER_PC_LIBS "${OSPROFILER_PC_LIBS}")

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
configure_file(${CMAKE_CURRENT_LIST_DIR}/osprofiler.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/osprofiler.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/osprofiler.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
message(STATUS "osprofiler: components built: ${OSPROFILER_BUILT_COMPONENTS}")
