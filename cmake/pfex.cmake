# Project-wide compile flags and the helpers every folder uses:
#   pfex_library(NAME SOURCES ... DEPS ...)   one static library per src/ folder
#   pfex_tests(NAME SOURCES ... DEPS ...)     one gtest executable per folder, registered with ctest

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

function(pfex_tests name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} pfex_flags GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES ENVIRONMENT "PFEX_SOURCE_DIR=${PROJECT_SOURCE_DIR};RC_PARAMS=max_success=300")
endfunction()
