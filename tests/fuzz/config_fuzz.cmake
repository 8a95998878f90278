glint_fuzz(config_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/config_fuzz.cpp glint_config)
