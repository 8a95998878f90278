glint_fuzz(sidecar_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/sidecar_fuzz.cpp glint_blob)
