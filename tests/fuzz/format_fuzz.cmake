glint_fuzz(format_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/format_fuzz.cpp glint_format)
