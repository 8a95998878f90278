# routes.cpp alone: the fuzz build does not need the whole store library.
glint_fuzz(route_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/route_fuzz.cpp glint_core)
target_sources(route_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/workers/store/routes.cpp)
target_include_directories(route_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
