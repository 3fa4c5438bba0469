# sim/ tests: one executable per unit (tests/sim_<unit>_test.cc), label "sim".
foreach(unit rng scheduler disk network host fault_plan world solo_map)
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/sim_${unit}_test.cc)
  if(EXISTS ${source})
    ktmsim_test(sim_${unit}_test sim SOURCES ${source} LIBS sim)
  endif()
endforeach()
