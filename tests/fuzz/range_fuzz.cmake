glint_fuzz(range_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/range_fuzz.cpp glint_http_core)
