# osprofiler_component(NAME <name> SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# Defines library target osprofiler_<name> with alias osprofiler::<name>,
# public headers in <dir>/include, exported under osprofilerTargets.
function(osprofiler_component)
  cmake_parse_arguments(C "" "NAME" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  set(tgt osprofiler_${C_NAME})
  add_library(${tgt} ${C_SOURCES})
  add_library(osprofiler::${C_NAME} ALIAS ${tgt})
  set_target_properties(${tgt} PROPERTIES EXPORT_NAME ${C_NAME} OUTPUT_NAME osprofiler_${C_NAME})
  target_include_directories(${tgt} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_features(${tgt} PUBLIC cxx_std_17)
  target_link_libraries(${tgt} PUBLIC ${C_PUBLIC_LIBS} PRIVATE ${C_PRIVATE_LIBS})
  install(TARGETS ${tgt} EXPORT osprofilerTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set_property(GLOBAL APPEND PROPERTY OSPROFILER_COMPONENTS ${C_NAME})
endfunction()

# osprofiler_skip(<name> <reason>): say loudly why a component is not built.
function(osprofiler_skip name reason)
  message(STATUS "osprofiler: component '${name}' skipped: ${reason}")
endfunction()
