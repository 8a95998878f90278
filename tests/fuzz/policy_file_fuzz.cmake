# Policy files (oslo.policy YAML/JSON) and the rule language.
glint_fuzz(policy_file_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/policy_file_fuzz.cpp glint_core nlohmann_json::nlohmann_json)
target_sources(policy_file_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/workers/api/policy/rule.cpp ${PROJECT_SOURCE_DIR}/workers/api/policy/policy.cpp)
target_include_directories(policy_file_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
