# Project-wide compile flags and the helpers every folder uses:
#   pfex_library(NAME SOURCES ... DEPS ...)   one static library per src/ folder
#   pfex_tests(NAME SOURCES ... DEPS ... [TIMEOUT s])  one gtest executable per folder, registered
#                                              with ctest
#   pfex_test(NAME name COMMAND ... [TIMEOUT s])       one command registered with ctest
#   pfex_default_timeouts()                    gives every test of the calling folder that has no
#                                              TIMEOUT the default (for plain add_test calls)
#
# Every test has a ctest TIMEOUT (PFEX_TEST_TIMEOUT seconds unless it says otherwise), so a hung
# test fails the run instead of stalling it.

add_library(pfex_flags INTERFACE)
target_compile_options(pfex_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${PFEX_WERROR}>:-Werror>)
target_compile_features(pfex_flags INTERFACE cxx_std_20)
if(PFEX_SANITIZE)
  target_compile_options(pfex_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(pfex_flags INTERFACE -fsanitize=address,undefined)
endif()

function(pfex_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE pfex_flags)
endfunction()

set(PFEX_TEST_TIMEOUT 300 CACHE STRING "Default ctest TIMEOUT of every test, in seconds")

function(pfex_tests name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT ${PFEX_TEST_TIMEOUT})
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} pfex_flags GTest::gtest GTest::gtest_main)
  # Tests that read files of the tree (scenarios, fuzz seeds) find it through PFEX_SOURCE_DIR.
  target_compile_definitions(${name} PRIVATE PFEX_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # One variable only: gtest_discover_tests splits a property value at ';'.
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "RC_PARAMS=max_success=300")
endfunction()

function(pfex_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT ${PFEX_TEST_TIMEOUT})
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
endfunction()

function(pfex_default_timeouts)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    get_test_property(${test} TIMEOUT timeout)
    if(NOT timeout)
      set_tests_properties(${test} PROPERTIES TIMEOUT ${PFEX_TEST_TIMEOUT})
    endif()
  endforeach()
endfunction()
