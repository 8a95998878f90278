# The bus's authorized-keys file and sender rule (shared/bus/curve.cpp).
glint_fuzz(bus_keys_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/bus_keys_fuzz.cpp glint_bus)
