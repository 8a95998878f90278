# Keystone token bodies, access rules, Keystone URLs (the pure half of workers/api/keystone).
glint_fuzz(keystone_token_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/keystone_token_fuzz.cpp glint_core nlohmann_json::nlohmann_json)
target_sources(keystone_token_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/workers/api/keystone/token.cpp)
target_include_directories(keystone_token_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
