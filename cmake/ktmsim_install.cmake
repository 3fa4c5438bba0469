# The installable SDK (docs/writing-an-rm.md): `cmake --install build --prefix P`
# puts the headers of sim/, ktm/, model/ and harness/ under P/include, the
# static libraries under P/lib, and a CMake package under P/lib/cmake/ktmsim
# (ktmsimConfig.cmake, ktmsimConfigVersion.cmake, ktmsimTargets.cmake), so an
# outside project writes
#     find_package(ktmsim CONFIG REQUIRED)
#     target_link_libraries(my_tool PRIVATE ktmsim::ktm)          # a program on the engine
#     target_link_libraries(my_plugin PRIVATE ktmsim::plugin)     # an RM plugin (MODULE library)
# Exported targets: ktmsim::sim, ktmsim::ktm_log, ktmsim::ktm, ktmsim::model,
# ktmsim::harness (static, with their absl dependencies; the config file
# find_dependency()s absl), and ktmsim::plugin: headers + absl only, no
# archives, because a plugin is loaded into the ktmsim binary and takes the
# engine's symbols from it (the binary is linked with ENABLE_EXPORTS,
# i.e. -rdynamic): one copy of the RM-kind catalog, one engine.
# Included from the top-level CMakeLists.txt after every library is defined;
# changes nothing in the main build but the include paths the targets carry
# (the same folder the whole tree already includes) and ktmsim's exports.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(KTMSIM_SDK_PACKAGE_VERSION 0.2.0)
set(KTMSIM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ktmsim)

set(_ktmsim_sdk_libs sim ktm_log ktm model harness)
foreach(_lib IN LISTS _ktmsim_sdk_libs)
  if(NOT TARGET ${_lib})
    message(FATAL_ERROR "the SDK needs the library '${_lib}'")
  endif()
  target_include_directories(${_lib} INTERFACE
    $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()

# ktmsim::plugin: what an RM plugin compiles against.
add_library(ktmsim_plugin INTERFACE)
set_target_properties(ktmsim_plugin PROPERTIES EXPORT_NAME plugin)
target_include_directories(ktmsim_plugin INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(ktmsim_plugin INTERFACE absl::status absl::statusor absl::strings absl::str_format)
target_compile_features(ktmsim_plugin INTERFACE cxx_std_20)

install(TARGETS ${_ktmsim_sdk_libs} ktmsim_plugin EXPORT ktmsimTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET ktmsim)
  install(TARGETS ktmsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
foreach(_dir sim ktm model harness)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/${_dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${_dir}
    FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT ktmsimTargets NAMESPACE ktmsim:: DESTINATION ${KTMSIM_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/ktmsimConfig.cmake.in
  ${CMAKE_BINARY_DIR}/ktmsimConfig.cmake INSTALL_DESTINATION ${KTMSIM_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ktmsimConfigVersion.cmake
  VERSION ${KTMSIM_SDK_PACKAGE_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ktmsimConfig.cmake ${CMAKE_BINARY_DIR}/ktmsimConfigVersion.cmake
  DESTINATION ${KTMSIM_INSTALL_CMAKEDIR})
