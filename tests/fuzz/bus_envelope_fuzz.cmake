glint_fuzz(bus_envelope_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/bus_envelope_fuzz.cpp glint_bus)
