# The API's parsing sources only (no server, no database).
glint_fuzz(api_request_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/api_request_fuzz.cpp glint_core glint_http_core nlohmann_json::nlohmann_json)
target_sources(api_request_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/workers/api/api_routes.cpp
  ${PROJECT_SOURCE_DIR}/workers/api/image_create.cpp ${PROJECT_SOURCE_DIR}/workers/api/image_list.cpp
  ${PROJECT_SOURCE_DIR}/workers/api/image_patch.cpp)
target_include_directories(api_request_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
